"""ATT&CK loader: per-object directories and bundles, STIX 2.0 and 2.1, revocation, DPRK identification."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data
from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.refdata.attack import load_attack
from trilateral.refdata.catalog import is_dprk_text, load_catalog
from trilateral.refdata.update import import_attack

TINY = Path(__file__).parent / "fixtures" / "tiny-attack"


def _as_bundle(directory: Path, out: Path, stix21: bool) -> Path:
    """The per-object files of `directory` as one enterprise-attack.json-style bundle."""
    objects = []
    for f in sorted(directory.rglob("*.json")):
        for o in json.loads(f.read_text())["objects"]:
            if stix21:
                o = {**o, "spec_version": "2.1"}
                if o["type"] == "malware":
                    o.pop("labels", None)
                    o["is_family"] = True
                if o["type"] == "tool":
                    o.pop("labels", None)
            objects.append(o)
    bundle = {"type": "bundle", "id": "bundle--0b1c7e1f-6a44-4a10-9d1c-2d0c5a0e2a01", "objects": objects}
    if not stix21:
        bundle["spec_version"] = "2.0"
    out.write_text(json.dumps(bundle))
    return out


def test_directory_of_objects_gives_live_groups_only():
    catalog = load_attack(TINY)
    assert [g.attack_id for g in catalog.groups] == ["G0032", "G9001", "G9002"]  # revoked and deprecated gone
    assert "T9999" not in catalog.techniques  # deprecated technique


def test_profile_has_own_campaign_and_revoked_sets_uses_and_aliases():
    red = load_attack(TINY).group("G9001")
    assert red.techniques == ("T1003", "T1059.001", "T1486", "T1566.001")  # T1003 via revoked G9003, T1486 via C9001
    assert red.software == ("S9001",)
    assert red.campaigns == ("C9001",)
    assert "G9003" in red.former_ids and "Old Name" in red.former_ids


def test_revoked_names_and_aliases_resolve_to_the_replacement():
    catalog = load_attack(TINY)
    assert catalog.group("Stale Alias").attack_id == "G9001"
    assert catalog.group("hidden cobra").attack_id == "G0032"
    with pytest.raises(InputError, match="no intrusion set"):
        catalog.group("Nobody")


def test_revoked_relationship_and_deprecated_target_are_ignored():
    blue = load_attack(TINY).group("G9002")
    assert blue.techniques == ("T1105", "T1566")
    assert blue.software == ("S9002",)


def test_dprk_from_attribution_wording_and_known_ids_not_from_mere_mention():
    catalog = load_attack(TINY)
    assert {g.attack_id for g in catalog.dprk_groups} == {"G9001", "G0032"}
    assert not catalog.group("G9002").dprk  # "targeted ... organizations in North Korea"
    assert is_dprk_text("a North Korea-based cyber espionage group")
    assert not is_dprk_text("targeted government organizations in North Korea")


@pytest.mark.parametrize("stix21", [False, True])
def test_bundle_file_equals_directory(tmp_path, stix21):
    bundle = _as_bundle(TINY, tmp_path / "enterprise-attack.json", stix21)
    from_bundle, from_dir = load_attack(bundle), load_attack(TINY)
    assert from_bundle.groups == from_dir.groups
    assert from_bundle.software == from_dir.software
    assert from_bundle.spec_version == ("2.1" if stix21 else "2.0")


def test_real_subset_stix20_and_stix21_agree_and_find_the_dprk_groups():
    d = shared_data("mitre_attack_dprk")
    v20 = load_attack(d / "dprk_enterprise_attack_v18.1_stix20_original.json")
    v21 = load_attack(d / "dprk_enterprise_attack_v18.1_stix21.json")
    assert v20.groups == v21.groups
    assert {g.attack_id for g in v21.dprk_groups} == {
        "G0032", "G0082", "G0138", "G0094", "G0067", "G1036", "G1049", "G1052"}
    kimsuky = v21.group("Stolen Pencil")  # revoked G0086 follows revoked-by
    assert kimsuky.attack_id == "G0094"
    lazarus = v21.group("G0032")
    assert "C0022" in lazarus.campaigns
    assert all(t in v21.techniques for t in lazarus.techniques)
    # every sub-technique's parent is in the catalog
    assert all(t.split(".")[0] in v21.techniques for g in v21.groups for t in g.techniques)


def test_import_stores_the_catalog_atomically_and_reloads(home):
    catalog, stored = import_attack(TINY)
    assert stored.is_file()
    again = load_catalog(Settings.from_env())
    assert again.groups == catalog.groups and again.techniques == catalog.techniques


def test_load_without_import_names_the_command(home):
    with pytest.raises(InputError, match="refdata import"):
        load_catalog(Settings.from_env())


def test_non_attack_input_is_a_clear_error(tmp_path, home):
    p = tmp_path / "x.json"
    p.write_text('{"type": "bundle", "id": "bundle--1", "objects": []}')
    with pytest.raises(InputError, match="no intrusion-set"):
        import_attack(p)
    p.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        import_attack(p)
    with pytest.raises(InputError, match="no such file"):
        import_attack(tmp_path / "missing.json")


def test_update_offline_fails_with_one_clear_line(home, tmp_path):
    env = {"TRILATERAL_HOME": str(home), "PATH": "/usr/bin:/bin"}
    for var in ("TRILATERAL_ATTACK_URL", "TRILATERAL_OFAC_SDN_XML_URL", "TRILATERAL_OFAC_SDN_CSV_URL",
                "TRILATERAL_OPENSANCTIONS_URL"):
        env[var] = "http://127.0.0.1:9/refdata"  # discard port: nothing listens, refused at once
    proc = subprocess.run([sys.executable, "-m", "trilateral", "refdata", "update"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["error: cannot reach http://127.0.0.1:9/refdata (ConnectError): offline? "
                     "use `trilateral refdata import PATH`"]
    assert proc.stdout == ""
    assert not (home / "refdata" / "attack_catalog.json").exists()
