"""Laundering steps on hand-built account graphs with known answers (the pure pass, no store)."""

from __future__ import annotations

import numpy as np

from trilateral.trace.account import AccountChain, AccountRows, BridgeLink, run_account_pass
from trilateral.trace.mixers import MixerWithdrawal
from trilateral.trace.model import Role, TraceResult
from trilateral.trace.roles import infer_deposit_addresses

E = 10**18
ETH, USDT = 0, 1
THIEF, A, B, POOL, HOT, MIXER, BRIDGE, R, USER, DEP = range(10)
NAMES = {i: f"0x{i:040x}" for i in range(10)}


def rows(spec: list[tuple[int, int, int, int, int, int]]) -> AccountRows:
    """spec: (time, tx number, from, to, asset, amount)."""
    return AccountRows(
        timestamp=np.array([s[0] for s in spec], np.int64), tx_key=np.array([s[1] for s in spec], np.int64),
        from_id=np.array([s[2] for s in spec], np.int64), to_id=np.array([s[3] for s in spec], np.int64),
        asset_id=np.array([s[4] for s in spec], np.int64), amount=[s[5] for s in spec],
        tx_hash=[f"0x{s[1]:064x}" for s in spec])


def chain(spec, roles, policy="haircut", **kw):
    c = AccountChain("ethereum", rows(spec), NAMES, {ETH: "ETH", USDT: "USDT"}, roles, {THIEF: 0}, **kw)
    result = TraceResult(policy)
    out = run_account_pass(c, result)
    return result, out


HOT_ROLE = Role("exchange", "Hangang Exchange", "exchange", "KR")


def offramp(result, address, asset="ETH"):
    credit = result.offramps.get(("ethereum", NAMES[address], asset))
    return credit.taint_amount if credit else 0


def test_swap_carries_the_taint_fraction_across_assets():
    spec = [(1, 1, USER, THIEF, ETH, 10 * E),  # stolen
            (2, 2, USER, A, USDT, 1000),  # clean USDT at A
            (3, 3, THIEF, A, ETH, 10 * E),
            # A swaps 4 ETH (all tainted) + nothing else -> 9000 USDT in one transaction
            (4, 4, A, POOL, ETH, 4 * E), (4, 4, POOL, A, USDT, 9000),
            (5, 5, A, HOT, USDT, 10_000)]
    result, _ = chain(spec, {POOL: Role("dex", "Uniswap", "defi_dex"), HOT: HOT_ROLE})
    assert offramp(result, HOT, "USDT") == 9000  # 9000 tainted of 10,000 USDT
    assert result.flows["dex_swap"][("ethereum", "ETH")] == 4 * E
    assert ("ethereum", NAMES[POOL], "ETH") not in result.offramps


def test_swap_output_carries_only_the_tainted_fraction():
    spec = [(1, 1, USER, THIEF, ETH, 10 * E),
            (2, 2, USER, A, ETH, 10 * E), (3, 3, THIEF, A, ETH, 10 * E),  # A: half tainted
            (4, 4, A, POOL, ETH, 20 * E), (4, 4, POOL, B, USDT, 6000),  # swap to another recipient
            (5, 5, B, HOT, USDT, 6000)]
    result, _ = chain(spec, {POOL: Role("dex", "Uniswap", "defi_dex"), HOT: HOT_ROLE})
    assert offramp(result, HOT, "USDT") == 3000


def test_mixer_withdrawal_to_a_gas_funded_address_is_linked_with_its_confidence():
    spec = [(1, 1, USER, THIEF, ETH, 100 * E),
            (2, 2, THIEF, MIXER, ETH, 10 * E),
            (3, 3, THIEF, R, ETH, E // 100),  # gas for the withdrawal address
            (10, 5, R, HOT, ETH, 10 * E - E // 10)]
    withdrawal = MixerWithdrawal(9, MIXER, R, -1, E // 10, 10 * E - E // 10, "0xw")
    result, _ = chain(spec, {MIXER: Role("mixer", "Tornado Cash", "mixing_service"), HOT: HOT_ROLE},
                      withdrawals=[withdrawal], mixer_deposit_times={MIXER: [2, 4, 5, 6, 7, 8]})
    got = result.offramps[("ethereum", NAMES[HOT], "ETH")]
    assert got.taint_amount > 9 * E
    # R holds 9.9 mixed + 0.01 gas ETH, so haircut sends them in that proportion
    assert got.mixed == (10 * E - E // 10) * got.taint_amount // (10 * E - E // 10 + E // 100)
    link = result.mixer_links[0]
    assert "gas_funding" in {e["heuristic"] for e in link["evidence"]} and link["confidence"] >= 0.85
    assert 0.85 <= got.conf_mass / got.taint_amount < 1.0


def test_mixer_withdrawal_without_evidence_in_a_big_anonymity_set_is_not_linked():
    spec = [(1, 1, USER, THIEF, ETH, 100 * E), (2, 2, THIEF, MIXER, ETH, 10 * E), (10, 5, R, HOT, ETH, 9 * E)]
    withdrawal = MixerWithdrawal(9, MIXER, R, -1, 0, 10 * E, "0xw")
    result, _ = chain(spec, {MIXER: Role("mixer", "Tornado Cash", "mixing_service"), HOT: HOT_ROLE},
                      withdrawals=[withdrawal], mixer_deposit_times={MIXER: list(range(2, 9))})
    assert offramp(result, HOT) == 0
    assert result.flows["unresolved"][("ethereum", "ETH")] >= 10 * E  # still in the pool


def test_bridge_carries_taint_to_the_other_chain_in_proportion_to_the_link_amounts():
    link = BridgeLink("0x" + f"{3:064x}", NAMES[A], 10 * E, "bitcoin", "btctx", "bc1qout", "BTC.BTC", 50_000_000, 99)
    spec = [(1, 1, USER, THIEF, ETH, 20 * E), (2, 2, USER, A, ETH, 10 * E), (2, 2, THIEF, A, ETH, 10 * E),
            (3, 3, A, BRIDGE, ETH, 10 * E)]
    result, out = chain(spec, {BRIDGE: Role("bridge", "THORChain", "bridge")},
                        links_by_tx={link.in_tx: [link]})
    assert len(out) == 1
    assert out[0].chain == "bitcoin" and out[0].address == "bc1qout"
    assert out[0].amount == 25_000_000  # half the ETH was tainted -> half the BTC out
    assert result.flows["bridge"][("ethereum", "ETH")] == 5 * E


def test_deposit_address_forwarding_to_an_exchange_is_an_offramp_of_that_exchange():
    roles = {HOT: HOT_ROLE}
    found = infer_deposit_addresses({DEP: [(100, HOT, 5)], A: [(100, HOT, 5), (101, B, 1)]},
                                    {DEP: 50, A: 50}, roles, exclude=set(), texts=NAMES)
    assert set(found) == {DEP}
    assert found[DEP].entity == "Hangang Exchange" and found[DEP].jurisdiction == "KR"
    roles.update(found)
    spec = [(1, 1, USER, THIEF, ETH, 5 * E), (2, 2, THIEF, DEP, ETH, 5 * E), (3, 3, DEP, HOT, ETH, 5 * E)]
    result, _ = chain(spec, roles)
    assert offramp(result, DEP) == 5 * E and offramp(result, HOT) == 0


def test_seed_transaction_value_is_stolen():
    spec = [(1, 7, USER, A, ETH, 3 * E), (2, 8, A, HOT, ETH, 3 * E)]
    c = AccountChain("ethereum", rows(spec), NAMES, {ETH: "ETH"}, {HOT: HOT_ROLE}, {}, {f"0x{7:064x}"})
    result = TraceResult("fifo")
    run_account_pass(c, result)
    assert offramp(result, HOT) == 3 * E and result.stolen[("ethereum", "ETH")] == 3 * E


def test_haircut_conserves_value_along_a_graph():
    spec = [(1, 1, USER, THIEF, ETH, 90 * E), (2, 2, USER, A, ETH, 7 * E), (3, 3, THIEF, A, ETH, 90 * E),
            (4, 4, A, B, ETH, 33 * E), (5, 5, B, HOT, ETH, 11 * E), (6, 6, A, HOT, ETH, 1 * E)]
    result, _ = chain(spec, {HOT: HOT_ROLE})
    held = sum(result.holdings.values())
    assert held + offramp(result, HOT) == 90 * E
