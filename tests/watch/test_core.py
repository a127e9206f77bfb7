"""The pure watch core on hand-built blocks: alerts, value conservation, the laundering-step rules, reorgs."""

from __future__ import annotations

import pytest

from tests.watch.blocks import BRIDGE, DEX, ETH, HOT, POOL, THIEF, USDT, Chain, addr, core
from trilateral.watch.core import CaseSpec
from trilateral.watch.model import Block, UtxoTx, Withdrawal
from trilateral.watch.state import KV, decode_key, decode_value, encode_key, encode_value


def alerted(outcomes) -> int:
    return sum(a.amount for o in outcomes for a in o.alerts)


@pytest.mark.parametrize("policy", ["haircut", "fifo"])
def test_value_is_conserved_and_the_exchange_alert_carries_what_arrived(policy: str) -> None:
    c, ch = core(policy), Chain()
    a, b, x = addr(1), addr(2), addr(3)
    outs = [c.apply(ch.block((THIEF, a, "ETH", 10 * ETH))),
            c.apply(ch.block((x, a, "ETH", 5 * ETH))),  # clean value mixes in: a holds 10 stolen of 15
            c.apply(ch.block((a, b, "ETH", 6 * ETH))),
            c.apply(ch.block((a, HOT, "ETH", 3 * ETH)))]  # a sent elsewhere too: not a deposit address
    assert [al.kind for o in outs for al in o.alerts] == ["exchange"]
    alert = outs[-1].alerts[0]
    assert (alert.address, alert.asset, alert.entity, alert.jurisdiction) == (HOT, "ETH", "Upbit", "KR")
    expected = 2 * ETH if policy == "haircut" else 3 * ETH  # haircut: 3 * 6/9 left; fifo: stolen came first
    assert alert.amount == expected
    held = sum(c.cases[1].holdings().values())
    assert held + alerted(outs) == 10 * ETH  # every stolen wei is held or alerted


def test_deposit_address_sweep_raises_a_deposit_alert_naming_the_hot_wallet() -> None:
    c, ch = core(), Chain()
    d = addr(7)
    c.apply(ch.block((THIEF, d, "ETH", 3 * ETH)))
    out = c.apply(ch.block((d, HOT, "ETH", 3 * ETH)))
    [alert] = out.alerts
    assert (alert.kind, alert.address, alert.hot_wallet, alert.entity, alert.amount) == \
        ("exchange_deposit", d, HOT, "Upbit", 3 * ETH)
    again = c.apply(ch.block((THIEF, d, "ETH", ETH)))  # now a known deposit address: alerted on arrival
    assert [(a.kind, a.address, a.amount) for a in again.alerts] == [("exchange_deposit", d, ETH)]


def test_mixer_deposit_and_linked_withdrawal_then_bridge() -> None:
    c, ch = core(), Chain()
    a, fresh = addr(1), addr(9)
    c.apply(ch.block((THIEF, a, "ETH", 2 * ETH)))
    dep = ch.block((a, POOL, "ETH", ETH))
    dep.mixer_deposits.append((POOL, dep.transfers[0].tx_hash))
    out = c.apply(dep)
    assert [(x.kind, x.address, x.amount) for x in out.alerts] == [("mixer", POOL, ETH)]
    w = ch.block()
    w.withdrawals.append(Withdrawal("0x" + "77" * 32, POOL, fresh, "0x" + "00" * 20, 10**16))
    c.apply(w)
    assert c.cases[1].holdings()[(fresh, "ETH")] == ETH - 10**16  # the payout, net of the relayer fee
    out = c.apply(ch.block((fresh, BRIDGE, "ETH", ETH - 10**16)))
    assert [(x.kind, x.address, x.amount) for x in out.alerts] == [("bridge", BRIDGE, ETH - 10**16)]


def test_swap_carries_taint_into_a_stablecoin_that_then_rests() -> None:
    c, ch = core(), Chain()
    a = addr(1)
    c.apply(ch.block((THIEF, a, "ETH", 4 * ETH)))
    tx = "0x" + "5a" * 32
    swap = ch.block((tx, a, DEX, "ETH", 2 * ETH), (tx, DEX, a, USDT, 7_000 * 10**6),
                    assets={USDT: ("USDT", 6)})
    out = c.apply(swap)
    assert [(x.kind, x.address, x.asset, x.amount, x.entity) for x in out.alerts] == \
        [("issuer_freeze", a, "USDT", 7_000 * 10**6, "Tether")]
    assert c.apply(ch.block()).alerts == []  # no new alert while the same amount rests


def test_no_issuer_alert_where_the_issuer_already_blacklisted() -> None:
    c, ch = core(), Chain()
    frozen, free = addr(1), addr(2)
    c.apply(ch.block(assets={USDT: ("USDT", 6)}, blacklists=[(USDT, frozen, True)]))  # Tether's AddedBlackList
    out = c.apply(ch.block((THIEF, frozen, USDT, 5 * 10**6), (THIEF, free, USDT, 3 * 10**6)))
    assert [(x.kind, x.address) for x in out.alerts] == [("issuer_freeze", free)]
    undo = c.apply(ch.block(blacklists=[(USDT, frozen, False)])).undo  # RemovedBlackList: free to move again
    out = c.apply(ch.block((THIEF, frozen, USDT, 10**6)))
    assert [(x.kind, x.address, x.amount) for x in out.alerts] == [("issuer_freeze", frozen, 6 * 10**6)]
    c.revert(out.undo)
    c.revert(undo)  # a reorg undoes the removal: blacklisted again
    assert c.apply(ch.block((THIEF, frozen, USDT, 10**6))).alerts == []


def test_reorg_revert_retracts_state_exactly() -> None:
    c, ch = core(), Chain()
    a, b = addr(1), addr(2)
    c.apply(ch.block((THIEF, a, "ETH", 10 * ETH)))
    before = dict(c.cases[1].holdings())
    out = c.apply(ch.block((a, b, "ETH", 3 * ETH), (b, HOT, "ETH", ETH)))
    assert out.alerts and c.cases[1].holdings() != before
    c.revert(out.undo)
    assert c.cases[1].holdings() == before
    replay = c.apply(ch.block((a, b, "ETH", 3 * ETH), (b, HOT, "ETH", ETH)))
    assert [x.amount for x in replay.alerts] == [x.amount for x in out.alerts]
    assert replay.alerts[0].key != out.alerts[0].key  # another block: another event


def test_untouched_transfers_change_nothing() -> None:
    c, ch = core(), Chain()
    out = c.apply(ch.block(*[(addr(100 + i), addr(200 + i), "ETH", ETH) for i in range(50)]))
    assert out.alerts == [] and out.undo == []


def test_seed_transaction_and_utxo_allocation() -> None:
    c, ch = core(), Chain("bitcoin", 800_000)
    exch = "bc1qexchange"
    c.labels["bitcoin"] = {exch: c.labels["ethereum"][HOT]}
    c.add_case(CaseSpec(2, "bitcoin", "haircut", frozenset(), frozenset({"aa" * 32})))
    theft = ch.block()
    theft.utxo_txs.append(UtxoTx("aa" * 32, [("ff" * 32, 0)], [("bc1qthief", 5_000), ("bc1qother", 1_000)], 100))
    c.apply(theft)
    spend = ch.block()
    spend.utxo_txs.append(UtxoTx("bb" * 32, [("aa" * 32, 0), ("cc" * 32, 3)], [(exch, 7_000), ("bc1qchg", 2_900)], 100))
    out = c.apply(spend)
    [alert] = out.alerts
    # inputs: 5,000 stolen + 5,000 clean (outputs 9,900 + fee 100); haircut halves it over the outputs
    assert (alert.kind, alert.address, alert.asset, alert.amount) == ("exchange", exch, "BTC", 3_500)
    held = c.cases[2].holdings()
    assert held[("bc1qchg", "BTC")] == 1_450 and held[("bc1qother", "BTC")] == 1_000


def test_state_values_survive_their_json_codec() -> None:
    c, ch = core("fifo"), Chain()
    a = addr(1)
    c.apply(ch.block((THIEF, a, "ETH", 10 * ETH)))
    dep = ch.block((a, POOL, "ETH", ETH))
    dep.mixer_deposits.append((POOL, dep.transfers[0].tx_hash))
    c.apply(dep)
    kv = c.cases[1].kv
    copy = KV(kv.owner)
    for name, m in kv.maps.items():
        for key, value in m.items():
            copy.maps[name][decode_key(encode_key(key))] = decode_value(name, encode_value(name, value))
    assert copy.maps["pools"] == kv.maps["pools"]
    assert {k: v.tainted for k, v in copy.maps["ledgers"].items()} == \
        {k: v.tainted for k, v in kv.maps["ledgers"].items()}
    assert isinstance(Block("ethereum", 1, "h", "p", 0).transfers, list)


def test_evm_seed_transaction_taints_what_it_moved() -> None:
    c, ch = core(), Chain()
    theft = "0x" + "7e" * 32
    c.add_case(CaseSpec(3, "ethereum", "haircut", frozenset(), frozenset({theft})))
    victim, thief2 = addr(50), addr(51)
    c.apply(ch.block((theft, victim, thief2, USDT, 5_000_000), assets={USDT: ("USDT", 6)}))
    assert c.cases[3].holdings() == {(thief2, USDT): 5_000_000}
    out = c.apply(ch.block((thief2, HOT, USDT, 2_000_000), (thief2, addr(52), USDT, 1_000_000)))
    assert [(a.case_id, a.kind, a.amount, a.asset) for a in out.alerts] == [(3, "exchange_deposit", 2_000_000, "USDT")]
