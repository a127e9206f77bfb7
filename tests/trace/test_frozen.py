"""Issuer blacklist events in the ingested logs (Tether's `AddedBlackList`, Circle's `Blacklisted`,
and their removals) mark stolen stablecoins as frozen where they sit: in the findings' `frozen`
list, on the holding, and out of the issuer freeze requests (nothing left to ask for)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.trace.etl import T0, Etl, address

from trilateral.chain import ChainStore
from trilateral.chain.ethereum_etl import BLACKLIST_TOPICS
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.findings import FINDINGS_SCHEMA
from trilateral.trace.freeze import freeze_plan
from trilateral.trace.roles import StaticLabels

USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
TOPIC = {name: topic for topic, name in BLACKLIST_TOPICS.items()}
VICTIM, THIEF, TETHERED, CIRCLED, RELEASED, WRONG_ISSUER, FREE = (
    address(n) for n in ["victim", "thief", "tethered", "circled", "released", "wrong-issuer", "free"])


def word(addr: str) -> str:
    return "0x" + addr[2:].rjust(64, "0")


@pytest.fixture
def traced(home: Path):
    e = Etl()
    e.token(USDT, "USDT", decimals=6)
    e.token(USDC, "USDC", decimals=6)
    theft = e.send(1, VICTIM, THIEF, 0)
    e.token_send(theft, USDT, VICTIM, THIEF, 4_000_000 * 10**6)
    e.token_send(theft, USDC, VICTIM, THIEF, 3_000_000 * 10**6)
    for block, (to, token, amount) in enumerate([(TETHERED, USDT, 1_000_000), (CIRCLED, USDC, 2_000_000),
                                                 (RELEASED, USDT, 1_500_000), (WRONG_ISSUER, USDC, 1_000_000),
                                                 (FREE, USDT, 1_500_000)], start=2):
        t = e.send(block, THIEF, to, 0)
        e.token_send(t, token, THIEF, to, amount * 10**6)
    admin = address("issuer-admin")
    b1 = e.send(10, admin, USDT, 0)
    e.log(b1, USDT, [TOPIC["AddedBlackList"]], word(TETHERED))  # Tether: the address in data
    e.log(b1, USDT, [TOPIC["AddedBlackList"]], word(RELEASED))
    e.log(b1, USDT, [TOPIC["AddedBlackList"]], word(WRONG_ISSUER))  # Tether cannot freeze USDC
    b2 = e.send(11, admin, USDC, 0)
    e.log(b2, USDC, [TOPIC["Blacklisted"], word(CIRCLED)])  # Circle: the address indexed
    b3 = e.send(12, admin, USDT, 0)
    e.log(b3, USDT, [TOPIC["RemovedBlackList"]], word(RELEASED))  # un-blacklisted later: not frozen
    store = ChainStore(e.ingest(home))
    result = Tracer(store, StaticLabels({})).trace("ethereum", [theft], TraceOptions(after=T0))
    return store, result, build_findings(result), (b1, b2)


def test_blacklist_events_are_stored_by_the_etl_ingest(traced):
    store, *_ = traced
    events = [e for e in store.events("ethereum").to_pylist() if e["event"] in TOPIC]
    named = sorted((e["event"], store.addresses("ethereum", [e["to_id"]])[0], store.addresses(
        "ethereum", [e["contract_id"]])[0]) for e in events)
    assert named == sorted([("AddedBlackList", TETHERED, USDT), ("AddedBlackList", RELEASED, USDT),
                            ("AddedBlackList", WRONG_ISSUER, USDT), ("Blacklisted", CIRCLED, USDC),
                            ("RemovedBlackList", RELEASED, USDT)])


def test_findings_list_what_the_issuers_froze(traced):
    import jsonschema

    _, _, findings, (b1, b2) = traced
    jsonschema.validate(findings, FINDINGS_SCHEMA)
    frozen = {(f["address"], f["asset"]): f for f in findings["frozen"]}
    assert set(frozen) == {(TETHERED, "USDT"), (CIRCLED, "USDC")}
    tether = frozen[(TETHERED, "USDT")]
    assert (tether["issuer"], tether["amount_base_units"], tether["tx_hash"], tether["contract"]) == \
        ("Tether", str(1_000_000 * 10**6), b1, USDT)
    assert tether["source"] == "AddedBlackList event" and tether["block_time"].endswith("Z")
    assert (frozen[(CIRCLED, "USDC")]["issuer"], frozen[(CIRCLED, "USDC")]["tx_hash"]) == ("Circle", b2)
    marked = {(h["address"], h["asset"]): h["frozen"] for h in findings["holdings"]}
    assert marked[(TETHERED, "USDT")] and marked[(CIRCLED, "USDC")]
    assert not marked[(RELEASED, "USDT")] and not marked[(WRONG_ISSUER, "USDC")] and not marked[(FREE, "USDT")]


def test_issuer_requests_leave_out_what_is_already_frozen(traced):
    _, result, findings, _ = traced
    requests, below = freeze_plan(result, findings, ["US", "KR", "JP"])
    asked = {(r["exchange"], d["address"]) for r in requests + below for d in r["deposit_addresses"]}
    assert ("Tether", FREE) in asked and ("Tether", RELEASED) in asked and ("Circle", WRONG_ISSUER) in asked
    assert ("Tether", TETHERED) not in asked and ("Circle", CIRCLED) not in asked
