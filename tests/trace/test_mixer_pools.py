"""Mixer pools recognised from whatever the data holds (trace.pools): the same withdrawal is linked
with the same evidence whether the store has Tornado events or only internal transfers; the
heuristics are switchable and each link names its heuristics and confidences."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.trace.etl import T0, Etl, address

from trilateral.chain import ChainStore
from trilateral.chain.ethereum_etl import TORNADO_DEPOSIT, TORNADO_WITHDRAWAL
from trilateral.core.errors import InputError
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.mixers import HEURISTICS, parse_heuristics
from trilateral.trace.roles import StaticLabels

E = 10**18
THIEF, VICTIM, R, RELAYER, HOT, U1, U2, U3 = (address(n) for n in
                                              ["thief", "victim", "r", "relayer", "hot", "u1", "u2", "u3"])
LABELLED_POOL = address("pool")
TORNADO_10_ETH = "0x910cbd523d972eb0a6f4cae4618ad62622b39dbf"


def word(hex_or_int: str | int) -> str:
    value = int(hex_or_int, 16) if isinstance(hex_or_int, str) else hex_or_int
    return f"{value:064x}"


def world(home: Path, pool: str, logs: bool, name: str) -> ChainStore:
    """The thief deposits 10 ETH among two honest deposits, funds R's gas, and a relayer withdraws
    9.9 ETH to R (0.1 ETH fee) as internal transfers of the pool; R pays an exchange. An honest
    withdrawal to U3 follows."""
    e = Etl()
    e.send(1, VICTIM, THIEF, 100 * E)
    deposits = [e.send(2, THIEF, pool, 10 * E), e.send(3, U1, pool, 10 * E), e.send(4, U2, pool, 10 * E)]
    e.send(5, THIEF, R, E // 100)  # gas for the withdrawal address
    w1 = e.send(6, RELAYER, pool, 0)
    e.internal(w1, pool, R, 10 * E - E // 10)
    e.internal(w1, pool, RELAYER, E // 10)
    e.send(7, R, HOT, 9 * E)
    w2 = e.send(8, RELAYER, pool, 0)
    e.internal(w2, pool, U3, 10 * E - E // 10)
    e.internal(w2, pool, RELAYER, E // 10)
    if logs:
        for n, tx in enumerate(deposits):
            e.log(tx, pool, [TORNADO_DEPOSIT, "0x" + word(n + 1)], "0x" + word(n) + word(T0))
        for n, (tx, to) in enumerate([(w1, R), (w2, U3)]):
            e.log(tx, pool, [TORNADO_WITHDRAWAL, "0x" + word(RELAYER)],
                  "0x" + word(to) + word(1000 + n) + word(E // 10))
    return ChainStore(e.ingest(home / name, name))


LABELS = StaticLabels({("ethereum", HOT): [("exchange", "Hangang Exchange", "KR")],
                       ("ethereum", LABELLED_POOL): [("mixing_service", "Some Mixer", None)]})


def trace(store: ChainStore, heuristics: str | None = None) -> dict:
    options = TraceOptions(after=T0, mixer_heuristics=parse_heuristics(heuristics))
    return build_findings(Tracer(store, LABELS).trace("ethereum", [THIEF], options))


def summary(f: dict) -> tuple:
    links = [(lk["withdrawal_tx"], lk["deposit_tx"], lk["confidence"], lk["amount_base_units"],
              sorted(e["heuristic"] for e in lk["evidence"])) for lk in f["mixer"]["links"]]
    hot = sum(int(o["amount_base_units"]) for o in f["offramps"] if o["entity"] == "Hangang Exchange")
    return links, hot


@pytest.mark.parametrize("pool", [LABELLED_POOL, TORNADO_10_ETH])
def test_pool_seen_only_through_internal_transfers_links_like_one_with_events(tmp_path, pool):
    with_events = summary(trace(world(tmp_path, pool, True, "events")))
    without = summary(trace(world(tmp_path, pool, False, "transfers")))
    assert with_events == without
    links, hot = without
    assert len(links) == 1  # the honest withdrawal to U3 is not linked
    assert "gas_funding" in links[0][4] and links[0][2] >= 0.85
    assert int(links[0][3]) == 10 * E - E // 10  # the recipient's payout, net of the relayer's fee
    assert hot == 10 * E - E // 10 + E // 100  # R is the exchange deposit address: payout + tainted gas


@pytest.mark.parametrize("heuristics", [None, "all"])
def test_every_link_names_its_heuristics_and_their_confidence(tmp_path, heuristics):
    f = trace(world(tmp_path, LABELLED_POOL, False, "w"), heuristics)
    (link,) = f["mixer"]["links"]
    assert link["anonymity_set"] == 3 and link["prior"]["tainted_waiting"] == 1
    assert link["prior"]["confidence"] == pytest.approx(1 / 3, abs=1e-3)  # the prior: 1 of 3 deposits
    by = {e["heuristic"]: e for e in link["evidence"]}
    assert set(by) <= set(HEURISTICS) and all(0 < e["confidence"] <= 1 for e in by.values())
    assert link["confidence"] == max(e["confidence"] for e in by.values())
    assert ("anonymity_set" in by) == (heuristics == "all")  # linking on the prior alone is opt-in


def test_heuristics_are_switchable(tmp_path):
    store = world(tmp_path, LABELLED_POOL, False, "w")
    # 1 of 3 deposits is too weak alone: only the tainted gas reaches the exchange
    assert summary(trace(store, "address_reuse,timing,anonymity_set")) == ([], E // 100)
    links, hot = summary(trace(store, "gas_funding"))
    assert [x[4] for x in links] == [["gas_funding"]] and hot > 0
    with pytest.raises(InputError, match="unknown mixer heuristic"):
        parse_heuristics("gas_funding,psychic")


def test_token_pool_seen_only_through_token_transfers_is_linked(tmp_path):
    usdt, pool = "0xdac17f958d2ee523a2206206994597c13d831ec7", "0x169ad27a470d064dede56a2d3ff727986b15d52b"
    e = Etl()
    e.token(usdt, "USDT", 6)
    e.send(1, VICTIM, THIEF, E)
    e.token_send(e.tx(1, VICTIM, usdt), usdt, VICTIM, THIEF, 1000 * 10**6)
    for n, who in enumerate([THIEF, U1, U2]):
        e.token_send(e.tx(2 + n, who, pool), usdt, who, pool, 100 * 10**6)
    e.send(5, THIEF, R, E // 100)
    w = e.tx(6, RELAYER, pool)
    e.token_send(w, usdt, pool, R, 99 * 10**6)
    e.token_send(w, usdt, pool, RELAYER, 10**6)
    e.token_send(e.tx(7, R, usdt), usdt, R, HOT, 99 * 10**6)
    f = trace(ChainStore(e.ingest(tmp_path, "tok")))
    (link,) = f["mixer"]["links"]
    assert link["amount_base_units"] == str(99 * 10**6) and "gas_funding" in {x["heuristic"] for x in link["evidence"]}
    got = {o["asset"]: int(o["amount_base_units"]) for o in f["offramps"] if o["entity"] == "Hangang Exchange"}
    assert got["USDT"] == 99 * 10**6
    assert {c["asset"]: c["amount_base_units"] for c in f["mixer"]["crossed"]} == {"USDT": str(99 * 10**6)}
