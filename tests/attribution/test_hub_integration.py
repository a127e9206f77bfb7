"""Attribution with the hub: intel the reader may see counts as evidence; --share-as writes attributed-to."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import shared_data
from trilateral.attribution.service import attribute_file
from trilateral.cli import app
from trilateral.core.tlp import Tlp, tlp2_marking_definition
from trilateral.hub import Hub
from trilateral.refdata.update import import_attack

FIXTURES = Path(__file__).parent / "fixtures"
APT38 = "intrusion-set--00f67a77-86a4-4adf-be26-1a54fc713340"
PATTERN = "[cryptocurrency-wallet:address = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96']"
T = "2026-01-05T00:00:00.000Z"


def _intel(tlp: Tlp) -> dict:
    marking = [tlp2_marking_definition(tlp)["id"]]
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--3f0d0c57-4a43-4d2a-9d57-6a4a3a1c2b01",
           "created": T, "modified": T, "name": "Ronin exploiter", "pattern": PATTERN, "pattern_type": "stix",
           "valid_from": T, "object_marking_refs": marking}
    rel = {"type": "relationship", "spec_version": "2.1", "id": "relationship--3f0d0c57-4a43-4d2a-9d57-6a4a3a1c2b02",
           "created": T, "modified": T, "relationship_type": "indicates", "source_ref": ind["id"],
           "target_ref": APT38, "object_marking_refs": marking}
    return {"type": "bundle", "id": "bundle--3f0d0c57-4a43-4d2a-9d57-6a4a3a1c2b03", "objects": [ind, rel]}


def _setup(tlp: Tlp) -> None:
    import_attack(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    hub = Hub.open()
    hub.init()
    hub.submit(hub.principal("US"), _intel(tlp))
    hub.close()


def _apt38_hub_evidence(result) -> list[dict]:
    apt38 = next(c for c in result.candidates if c["id"] == "G0082")
    return [e for e in apt38["evidence"] if e["kind"] == "hub-intel"]


def test_indicator_linked_in_the_hub_is_evidence_for_a_member_who_may_read_it(database_url):
    _setup(Tlp.AMBER)
    result, _ = attribute_file(FIXTURES / "incident_dev_lure.json", reader_code="KR")
    [ev] = _apt38_hub_evidence(result)
    assert ev["weight"] > 0 and "indicates" in ev["name"]
    without, _ = attribute_file(FIXTURES / "incident_dev_lure.json")
    score = {c["id"]: c["score"] for c in without.candidates}
    assert next(c for c in result.candidates if c["id"] == "G0082")["score"] > score["G0082"]


def test_red_intel_of_another_member_is_not_evidence(database_url):
    _setup(Tlp.RED)
    result, _ = attribute_file(FIXTURES / "incident_dev_lure.json", reader_code="KR")
    assert _apt38_hub_evidence(result) == []


def test_share_as_writes_attributed_to_with_stix_confidence(database_url):
    import_attack(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    hub = Hub.open()
    hub.init()
    hub.close()
    out = CliRunner().invoke(app, ["attribute", str(FIXTURES / "incident_dev_lure.json"), "--json",
                                   "--share-as", "JP"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    hub = Hub.open()
    try:
        page = hub.query(hub.principal("US"), types=["relationship"])
        rels = [r.object for r in page.records if r.object.get("relationship_type") == "attributed-to"]
    finally:
        hub.close()
    [rel] = rels
    best = doc["candidates"][0]
    assert rel["target_ref"] == best["stix_id"] and rel["id"] == doc["shared"]["relationship"]
    assert rel["confidence"] == round(best["confidence"] * 100)
    assert rel["x_trilateral_score"] == best["score"]


def test_a_trace_of_the_incident_shared_in_the_hub_gives_the_laundering_route(database_url, tmp_path):
    from trilateral.trace.stix_export import findings_bundle

    import_attack(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    CliRunner().invoke(app, ["refdata", "import", str(shared_data("dprk_incidents", "incidents.csv"))])
    incident = json.loads((FIXTURES / "incident_dev_lure.json").read_text())
    incident_id = next(o["id"] for o in incident["objects"] if o["type"] == "incident")
    findings = {"policy": "haircut", "seeds": [{"chain": "ethereum", "address": "0x" + "ab" * 20}],
                "offramps": [{"chain": "bitcoin", "address": "bc1qroute", "entity": "THORChain", "category": "bridge",
                              "jurisdiction": None, "asset": "BTC", "amount": "1", "amount_base_units": "100000000",
                              "first_seen": "2026-01-05T00:00:00Z", "hops": 3, "confidence": 0.9}],
                "flows": {"mixer": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": "5"}]},
                "stats": {"transfers_scanned": 10, "seconds": 0.1}}
    hub = Hub.open()
    hub.init()
    hub.submit(hub.principal("US"), findings_bundle(findings, Tlp.GREEN, incident_ref=incident_id))
    hub.close()
    result, _ = attribute_file(FIXTURES / "incident_dev_lure.json", reader_code="KR")
    assert set(result.observed["laundering"]) == {"thorchain", "mixer", "bridge"}
    assert any("trace(s) of this incident" in n for n in result.notes)
    without, _ = attribute_file(FIXTURES / "incident_dev_lure.json")
    assert without.observed["laundering"] == []
