"""Taint policies on hand-built ledgers and transactions with known answers, and value conservation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trilateral.trace.taint import FifoLedger, HaircutLedger, PoisonLedger, Taint, fresh_taint
from trilateral.trace.utxo import fifo_tx, haircut_tx, poison_tx

E = 10**18


def test_haircut_account_shares_taint_in_proportion_and_keeps_the_remainder():
    book = HaircutLedger()
    book.receive(100, Taint())
    book.receive(50, fresh_taint(50))
    out = book.send(10)  # 10 * 50 / 150 = 3.33 -> 3, the third of a unit stays
    assert out.amount == 3
    assert book.tainted == 47 and book.balance == 140


def test_haircut_counts_value_beyond_the_known_balance_as_clean():
    book = HaircutLedger()
    book.receive(10, fresh_taint(10))
    assert book.send(40).amount == 10  # 30 came from before the window


def test_fifo_sends_oldest_value_first():
    book = FifoLedger()
    book.receive(5 * E, Taint())
    book.receive(3 * E, fresh_taint(3 * E))
    assert book.send(6 * E).amount == 1 * E
    assert book.send(2 * E).amount == 2 * E
    assert book.tainted == 0


def test_poison_taints_every_later_transfer_in_full():
    book = PoisonLedger()
    book.receive(100 * E, Taint())
    book.receive(1, fresh_taint(1))
    assert book.send(60 * E).amount == 60 * E


def test_utxo_haircut_splits_exactly_with_largest_remainders():
    outs, fee = haircut_tx([(3, fresh_taint(3)), (4, Taint())], [2, 2, 2], 1)
    assert [o.amount for o in outs] + [fee.amount] == [1, 1, 1, 0]
    assert sum(o.amount for o in outs) + fee.amount == 3


def test_utxo_fifo_fills_outputs_in_order():
    outs, fee = fifo_tx([(5, fresh_taint(5)), (5, Taint())], [4, 4], 2)
    assert [o.amount for o in outs] == [4, 1] and fee.amount == 0


def test_utxo_poison_taints_all_outputs():
    outs, fee = poison_tx([(1, fresh_taint(1)), (99, Taint())], [50, 49], 1)
    assert [o.amount for o in outs] == [50, 49] and fee.amount == 1


amounts = st.integers(min_value=1, max_value=2**100)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), amounts), min_size=1, max_size=40),
       st.sampled_from([HaircutLedger, FifoLedger]))
def test_account_ledgers_conserve_taint_exactly(ops, cls):
    """Taint received == taint sent + taint still held, whatever the order of receipts and sends."""
    book = cls()
    received = sent = 0
    for is_receive, tainted, amount in ops:
        if is_receive:
            t = fresh_taint(amount) if tainted else Taint()
            received += t.amount
            book.receive(amount, t)
        else:
            out = book.send(amount)
            assert 0 <= out.amount <= amount
            sent += out.amount
    assert received == sent + book.tainted
    assert book.taint_held().amount == book.tainted


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=100)), min_size=1, max_size=8),
       st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8),
       st.sampled_from([haircut_tx, fifo_tx]))
def test_utxo_policies_conserve_taint_exactly(inputs, weights, policy):
    ins = [(v, fresh_taint(v * pct // 100)) for v, pct in inputs]
    total = sum(v for v, _ in ins)
    fee = total // 50
    spendable = total - fee
    outputs = [spendable * w // sum(weights) for w in weights]
    fee += spendable - sum(outputs)
    outs, fee_taint = policy(ins, outputs, fee)
    assert sum(o.amount for o in outs) + fee_taint.amount == sum(t.amount for _, t in ins)
    assert all(o.amount <= v for o, v in zip(outs, outputs, strict=True))
