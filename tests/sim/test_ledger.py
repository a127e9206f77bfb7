"""The apportionment rule on hand-built cases: spends take the unmixed part first unless told otherwise."""

from __future__ import annotations

import pytest

from trilateral.sim.ledger import Ledger, SimulationError


def test_payment_spends_unmixed_value_first_and_carries_the_mixed_rest():
    ledger = Ledger()
    ledger.credit("ethereum", "a", "ETH", 10)
    ledger.credit("ethereum", "a", "ETH", 5, via_mixer=True)
    assert ledger.move("ethereum", "a", "b", "ETH", 12) == 2  # 10 clean, then 2 mixed
    assert ledger.balance("ethereum", "b", "ETH") == 12 and ledger.mixed["ethereum", "b", "ETH"] == 2
    assert ledger.balance("ethereum", "a", "ETH") == 3 and ledger.mixed["ethereum", "a", "ETH"] == 3


def test_mixer_withdrawal_address_pays_out_its_mixed_part_and_keeps_the_gas_money():
    ledger = Ledger()
    ledger.credit("ethereum", "w", "ETH", 1, via_mixer=False)  # gas top-up from a thief hop
    ledger.credit("ethereum", "w", "ETH", 99, via_mixer=True)  # Tornado payout
    assert ledger.move("ethereum", "w", "deposit", "ETH", 99, mixed_first=True) == 99
    assert ledger.balance("ethereum", "w", "ETH") == 1 and ledger.mixed["ethereum", "w", "ETH"] == 0


def test_overspending_is_a_simulator_bug_not_silent():
    ledger = Ledger()
    ledger.credit("bitcoin", "x", "BTC", 5)
    with pytest.raises(SimulationError, match="would spend 6 BTC holding 5"):
        ledger.debit("bitcoin", "x", "BTC", 6)
