"""Indicators only for what the thief controls: never the victim, a labelled service, a contract or an
address with a negligible share; each with a confidence and the path that justifies it."""

from __future__ import annotations

from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance
from tests.trace.etl import T0, Etl, address

from trilateral.chain import ChainStore
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.roles import StaticLabels
from trilateral.trace.stix_export import findings_bundle, thief_addresses

E = 10**18
VICTIM, THIEF, A, B, DUST, LIDO, HOT, KNOWN, POOL = (address(n) for n in
                                                     ["victim", "thief", "a", "b", "dust", "lido", "hot", "known",
                                                      "pool"])
LABELS = StaticLabels({("ethereum", HOT): [("exchange", "Hangang Exchange", "KR")],
                       ("ethereum", LIDO): [("staking", "Lido", None)],
                       ("ethereum", VICTIM): [("exchange", "Victim Exchange", "SG")],
                       ("ethereum", KNOWN): [("hacker", "Lazarus Group", "KP")]})


@pytest.fixture
def traced(home: Path):
    e = Etl()
    theft = e.send(1, VICTIM, THIEF, 100 * E)
    e.send(2, THIEF, A, 60 * E)
    e.send(3, THIEF, KNOWN, 20 * E)  # a labelled thief address: still the thief's
    e.send(4, A, B, 30 * E)
    e.send(5, A, DUST, E // 100)  # 0.01 % of the theft: negligible
    e.send(6, A, LIDO, 10 * E)  # a labelled service that is not an off-ramp
    e.send(7, B, HOT, 20 * E)
    e.send(8, B, address("friend"), 10 * E)  # B pays more than one party: a wallet, not a deposit address
    call = e.send(9, THIEF, POOL, 10 * E)  # POOL pays out inside a call: a contract
    e.internal(call, POOL, THIEF, 10 * E)
    tracer = Tracer(ChainStore(e.ingest(home)), LABELS)
    result = tracer.trace("ethereum", [theft], TraceOptions(after=T0))
    return tracer, result


def test_thief_addresses_exclude_victim_services_contracts_and_dust(traced):
    tracer, result = traced
    got = {o["address"]: o for o in thief_addresses(result, tracer.services(result))}
    assert set(got) == {THIEF, A, B, KNOWN, address("friend")}
    assert [s["to"] for s in got[B]["path"]] == [THIEF, A, B]  # from the theft transaction on
    assert 0 < got[B]["confidence"] <= 1 and got[B]["share"] == pytest.approx(0.3)


def test_min_share_is_configurable(traced):
    tracer, result = traced
    got = {o["address"] for o in thief_addresses(result, tracer.services(result), min_share=0.5)}
    assert got == {THIEF, A}  # A passed 60 %; B 30 % and KNOWN 20 % fall below; the seed is always in


def test_bundle_names_the_victim_as_target_not_indicator(traced):
    tracer, result = traced
    findings = build_findings(result)
    assert findings["victims"] == [{"chain": "ethereum", "address": VICTIM}]
    # even a caller that passes the victim and an off-ramp as intermediaries cannot publish them
    extra = [{"chain": "ethereum", "address": VICTIM}, {"chain": "ethereum", "address": HOT}]
    bundle = findings_bundle(findings, intermediaries=thief_addresses(result, tracer.services(result)) + extra,
                             victim_name="Victim Exchange")
    indicated = {o["pattern"].split("'")[1] for o in bundle["objects"] if o["type"] == "indicator"}
    assert VICTIM not in indicated and HOT not in indicated and B in indicated
    identity = next(o for o in bundle["objects"] if o["type"] == "identity")
    assert identity["name"] == "Victim Exchange" and identity["x_trilateral_addresses"][0]["address"] == VICTIM
    assert any(o["type"] == "relationship" and o["relationship_type"] == "targets" and o["target_ref"] == identity["id"]
               for o in bundle["objects"])
    b = next(o for o in bundle["objects"] if o["type"] == "indicator" and B in o["pattern"])
    assert 0 < b["confidence"] <= 100 and b["x_trilateral_path"][-1]["to"] == B
    for obj in bundle["objects"]:
        if obj["type"] in ("indicator", "identity", "relationship"):
            assert validate_instance(obj, ValidationOptions()).is_valid, obj


def test_taint_entering_an_unlabelled_contract_is_warned(traced):
    _, result = traced
    findings = build_findings(result)
    assert any(w["kind"] == "unlabelled_contract" and w["address"] == POOL for w in findings["warnings"])


def test_end_of_data_where_the_store_misses_blocks(home: Path):
    """Blocks 3 and 4 are not in the store: what A got in block 2 may have moved on unseen."""
    e = Etl()
    theft = e.send(1, VICTIM, THIEF, 10 * E)
    e.send(2, THIEF, A, 4 * E)
    e.send(5, THIEF, B, 1 * E)
    tracer = Tracer(ChainStore(e.ingest(home)), LABELS)
    findings = build_findings(tracer.trace("ethereum", [theft], TraceOptions()))
    ends = {w["address"] for w in findings["warnings"] if w["kind"] == "end_of_data"}
    assert A in ends and THIEF in ends and B not in ends  # B got its value in the last block the store has
