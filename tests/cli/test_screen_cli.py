"""`trilateral screen` as a new user meets it: a bounded --hops, and notes that say what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.screening.conftest import ofac_labels  # noqa: F401  (the real OFAC list in the label store)
from trilateral.core.errors import InputError
from trilateral.screening import MAX_HOPS

ADDRESS = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRILATERAL_HOME": str(tmp_path / "home")}
    env.pop("TRILATERAL_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "trilateral", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("hops", ["11", "1000000", "-1"])
def test_screen_refuses_hops_beyond_what_the_screening_api_allows(tmp_path: Path, hops: str) -> None:
    # any N was taken: exposure makes one pass over every transfer per hop until nothing grows
    done = _cli(tmp_path, "screen", ADDRESS, "--hops", hops)
    assert done.returncode == 2, done.stderr
    assert f"Invalid value for '--hops': {hops} is outside the allowed range 0 to {MAX_HOPS}" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_screen_takes_the_largest_allowed_hops(tmp_path: Path) -> None:
    done = _cli(tmp_path, "screen", ADDRESS, "--hops", str(MAX_HOPS), "--json")
    assert done.returncode == 0, done.stderr
    assert '"exposure": 0.0' in done.stdout


def test_the_screening_service_bounds_hops_for_every_caller(home: Path) -> None:
    from trilateral.screening.service import screen_addresses

    with pytest.raises(InputError, match=f"hops must be between 0 and {MAX_HOPS}"):
        screen_addresses([ADDRESS], hops=MAX_HOPS + 1)
    with pytest.raises(InputError, match="hops must be between 0"):
        screen_addresses([ADDRESS], hops=-1)


def _indicator_bundle(address: str) -> dict:
    t = "2026-02-01T00:00:00.000Z"
    from trilateral.core.tlp import Tlp, tlp2_marking_definition

    return {"type": "bundle", "id": "bundle--6c7d1a52-0000-4000-8000-0000000000a1", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--6c7d1a52-0000-4000-8000-0000000000a2",
         "created": t, "modified": t, "name": "Drainer wallet", "pattern_type": "stix", "valid_from": t,
         "pattern": f"[cryptocurrency-wallet:address = '{address}']",
         "object_marking_refs": [tlp2_marking_definition(Tlp.GREEN)["id"]]}]}


def _screen(*args: str):
    from typer.testing import CliRunner

    from trilateral.cli import app

    return CliRunner().invoke(app, ["screen", ADDRESS, *args])


def test_without_lists_or_hub_reader_the_note_says_no_hit_is_possible_and_how_to_get_lists(home: Path) -> None:
    done = _screen("--hops", "0", "--json")
    assert done.exit_code == 0, done.output
    assert "no labels or sanctions lists are imported" in done.stderr
    assert "no address can have a direct hit" in done.stderr
    assert "`trilateral refdata update`" in done.stderr and "`trilateral labels import FILE`" in done.stderr
    assert done.stdout.startswith("[")  # --json: the note stays on stderr


def test_with_a_hub_reader_the_note_does_not_deny_the_hub_hit_printed_below_it(home: Path) -> None:
    # the note said "no direct hit is possible" above a line reading "HIT hub:US: Drainer wallet"
    from trilateral.hub import Hub

    with Hub.open() as hub:
        hub.init()
        assert not hub.submit(hub.principal("US"), _indicator_bundle(ADDRESS)).failed
    done = _screen("--hops", "0", "--as", "KR")
    assert done.exit_code == 0, done.output
    assert "HIT hub:US" in done.stdout
    assert "no direct hit is possible" not in done.stderr and "no address can have a direct hit" not in done.stderr
    assert "direct hits come only from hub indicators KR may read" in done.stderr


def test_exposure_on_a_chain_with_no_data_is_named_as_unmeasured(home: Path) -> None:
    done = _screen("--hops", "2")
    assert done.exit_code == 0, done.output
    assert "exposure 0.0000" in done.stdout
    assert ("no ethereum transfers are ingested, so exposure on ethereum is not measured (shown as 0): "
            "run `trilateral chain ingest --chain ethereum ...`") in done.stderr
    assert "not measured" not in _screen("--hops", "0").stderr  # no exposure asked, nothing to say


def test_labels_without_any_sanctions_list_are_named_so(home: Path, tmp_path: Path) -> None:
    # a store holding only service labels (exchanges) screened the Ronin thief "clean" without a word
    from trilateral.labels import LabelStore

    tagpack = tmp_path / "services.yaml"
    tagpack.write_text("title: services\ncreator: test\nis_public: true\nlastmod: '2026-01-01'\ntags:\n"
                       "- label: Some Exchange hot wallet\n  address: '0x" + "1" * 40 + "'\n  currency: ETH\n"
                       "  category: exchange\n  source: https://example.org\n  confidence: service_data\n")
    assert LabelStore().import_file(tagpack).ok
    done = _screen("--hops", "0")
    assert "none of the labels imported" in done.stderr and "no address can be a sanctions hit" in done.stderr
    assert "`trilateral refdata update`" in done.stderr


def test_no_note_once_a_sanctions_list_is_imported(ofac_labels: dict) -> None:  # noqa: F811
    done = _screen("--hops", "0")
    assert done.exit_code == 0 and "HIT" in done.stdout  # the Ronin bridge thief is on the SDN list
    assert "note:" not in done.stderr
