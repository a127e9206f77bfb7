"""Attribution: incident parsing, the mixture model, explanations, and accuracy on real ATT&CK data."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import shared_data
from trilateral.attribution.engine import Attributor, IndicatorEvidence
from trilateral.attribution.incident import observe, read_bundle
from trilateral.attribution.model import FeatureSpace, MixtureModel, jaccard_scores
from trilateral.cli import app
from trilateral.core.errors import InputError
from trilateral.refdata.attack import catalog_from_uses_csv, load_attack
from trilateral.refdata.update import import_attack

FIXTURES = Path(__file__).parent / "fixtures"
TINY = Path(__file__).parents[1] / "refdata" / "fixtures" / "tiny-attack"
BENCH = Path(__file__).parents[2] / "bench"


def _incident(*objects: dict) -> list[dict]:
    return [{"type": "incident", "id": "incident--8e2e2d2b-17d4-4cbe-8ec5-1c9a0e0a0a01", "name": "t"}, *objects]


def _ap(attack_id: str) -> dict:
    return {"type": "attack-pattern", "id": f"attack-pattern--{attack_id}", "name": attack_id,
            "external_references": [{"source_name": "mitre-attack", "external_id": attack_id}]}


def test_observe_reads_ids_names_labels_software_aliases_and_wallets():
    catalog = load_attack(TINY)
    obs = observe(_incident(
        _ap("T1566.001"),
        {"type": "attack-pattern", "id": "attack-pattern--x", "name": "powershell"},  # by name
        {"type": "malware", "id": "malware--y", "name": "rw loader"},  # by alias
        {"type": "note", "id": "note--z", "labels": ["attack.t1486", "T1003"]},
        {"type": "indicator", "id": "indicator--w", "pattern_type": "stix",
         "pattern": "[cryptocurrency-wallet:address = '0xAbCdEf0123456789aBcDeF0123456789AbCdEf01']"},
        {"type": "malware", "id": "malware--q", "name": "Unheard Of"},
    ), catalog)
    assert obs.techniques == {"T1566.001", "T1059.001", "T1486", "T1003"}
    assert obs.software == {"S9001"}
    assert obs.addresses == {("ethereum", "0xabcdef0123456789abcdef0123456789abcdef01")}
    assert obs.unknown == ["malware Unheard Of"]


def test_read_bundle_rejects_non_stix(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("[1, 2]")
    with pytest.raises(InputError, match="not a STIX bundle"):
        read_bundle(p)


def test_rare_shared_software_and_exact_techniques_rank_the_right_group_first():
    catalog = load_attack(TINY)
    result = Attributor(catalog).attribute(observe(_incident(_ap("T1566.001"), _ap("T1059.001")), catalog))
    assert result.candidates[0]["id"] == "G9001"
    assert math.isclose(sum(c["confidence"] for c in result.candidates), 1.0, abs_tol=1e-3)
    dprk = sum(c["confidence"] for c in result.candidates if c["dprk"])
    assert math.isclose(result.dprk_probability, dprk, abs_tol=1e-3)


def test_parent_technique_earns_partial_credit_from_a_sub_technique_profile():
    catalog = load_attack(TINY)
    space = FeatureSpace.from_catalog(catalog)
    scores = dict(zip(space.group_ids, MixtureModel(space).scores(space.encode([{"T1566"}]))[0], strict=True))
    # G9002 lists T1566 itself, G9001 only T1566.001, G0032 neither
    assert scores["G9002"] > scores["G9001"] > scores["G0032"]


def test_evidence_weights_sum_to_the_score_and_name_the_match():
    catalog = load_attack(TINY)
    obs = observe(_incident(_ap("T1566"), _ap("T1105")), catalog)
    result = Attributor(catalog).attribute(obs)
    for c in result.candidates:
        assert math.isclose(sum(e["weight"] for e in c["evidence"]), c["score"], abs_tol=2e-3)
    red = next(c for c in result.candidates if c["id"] == "G9001")
    assert {e["id"]: e["match"] for e in red["evidence"]} == {"T1566": "sub-technique in profile",
                                                               "T1105": "not in profile"}


def test_indicator_evidence_moves_the_ranking_and_is_explained():
    catalog = load_attack(TINY)
    obs = observe(_incident(_ap("T1105")), catalog)  # shared by G9002 and G0032
    ev = IndicatorEvidence("G9001", "sanctions", "0xabc", "OFAC: Red Chollima (DPRK3)", 50.0)
    result = Attributor(catalog).attribute(obs, [ev])
    assert result.candidates[0]["id"] == "G9001"
    sanction = next(e for e in result.candidates[0]["evidence"] if e["kind"] == "sanctions")
    assert math.isclose(sanction["weight"], math.log(50.0), abs_tol=1e-3)


def test_real_dprk_incident_via_cli_ranks_contagious_interview_first(home):
    d = shared_data("mitre_attack_dprk")
    import_attack(d / "dprk_enterprise_attack_v18.1_stix21.json")
    out = CliRunner().invoke(app, ["attribute", str(FIXTURES / "incident_dev_lure.json"), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    best = doc["candidates"][0]
    assert (best["id"], best["name"]) == ("G1052", "Contagious Interview")
    assert best["confidence"] > 0.9 and best["dprk"]
    assert doc["dprk_probability"] is None  # a DPRK-only catalogue cannot tell DPRK from others
    assert "DPRK actors only" in doc["dprk_probability_reason"]
    assert best["sources"] == ["attack:G1052"] and "DeceptiveDevelopment" in best["aliases"]
    assert best["evidence"][0]["weight"] > 0
    assert {"S1246", "T1059.004", "T1567"} <= {e["id"] for e in best["evidence"]}  # by name, label
    scores = [c["score"] for c in doc["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_mixture_model_beats_jaccard_on_the_design_protocol():
    """A small run of bench/attribution_eval.py's DESIGN.md section 6 protocol on all 172 groups."""
    sys.path.insert(0, str(BENCH))
    from attribution_eval import draw_incidents, ranks

    catalog = catalog_from_uses_csv(shared_data("mitre_attack_dprk", "all_groups_uses.csv"))
    space = FeatureSpace.from_catalog(catalog)
    incidents, truth = draw_incidents(catalog, space, "design6")
    obs, truth = space.encode(incidents), np.array(truth)
    top1_model = (ranks(MixtureModel(space).scores(obs), truth) == 1).mean()
    top1_jaccard = (ranks(jaccard_scores(space, obs), truth) == 1).mean()
    assert top1_model > top1_jaccard + 0.2


def test_wallet_sanctioned_as_a_group_is_evidence_for_that_group(home, tmp_path):
    from tests.screening.conftest import sdn_csv_from_flat_list
    from trilateral.attribution.service import attribute_file
    from trilateral.labels import LabelStore

    import_attack(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    sdn = tmp_path / "SDN.CSV"
    sdn_csv_from_flat_list(sdn)
    LabelStore().import_file(sdn)
    result, _ = attribute_file(FIXTURES / "incident_dev_lure.json")  # its wallet: the Lazarus Ronin address
    lazarus = next(c for c in result.candidates if c["id"] == "G0032")
    [ev] = [e for e in lazarus["evidence"] if e["kind"] == "sanctions"]
    assert ev["id"] == "0x098b716b8aaf21512996dc57eb0615e2383e2f96" and "DPRK3" in ev["name"]
    assert math.isclose(ev["weight"], math.log(50.0), abs_tol=1e-3)
    others = [e for c in result.candidates if c["id"] != "G0032" for e in c["evidence"] if e["kind"] == "sanctions"]
    assert others == []  # the listing names Lazarus Group: no DPRK-wide spread
