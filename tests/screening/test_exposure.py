"""Exposure on hand-built graphs: exact integer numerators and denominators, time order respected."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from trilateral.screening.exposure import account_exposure, exposed_edges, max_ratio, utxo_exposure

S, A, B, C, D, E = range(6)  # S is the sanctioned source
BIG = 2**100  # wei amounts beyond 64 bits travel as two uint64 words
ROWS = [  # (from, to, asset, amount) in chain order
    (D, A, 0, 100),
    (A, C, 0, 11),  # before A touched S's value: clean
    (S, A, 0, 50),  # hop 1
    (A, C, 0, 30),  # hop 2
    (D, C, 0, 70),
    (B, C, 0, 5),  # before B was touched: clean
    (S, B, 0, 20),  # hop 1
    (B, C, 0, 40),  # hop 2
    (C, E, 0, 25),  # hop 3 (C was reached at row 3)
    (S, C, 0, 7),  # hop 1
    (S, C, 1, BIG),  # token, hop 1
    (D, C, 1, BIG + 1),
]


def _transfers() -> dict[str, np.ndarray]:
    amounts = [r[3] for r in ROWS]
    return {"from_id": np.array([r[0] for r in ROWS]), "to_id": np.array([r[1] for r in ROWS]),
            "asset_id": np.array([r[2] for r in ROWS], dtype=np.int32),
            "amount_hi": np.array([a >> 64 for a in amounts], dtype=np.uint64),
            "amount_lo": np.array([a & (2**64 - 1) for a in amounts], dtype=np.uint64)}


def _source() -> np.ndarray:
    mask = np.zeros(6, dtype=bool)
    mask[S] = True
    return mask


def _by_asset(result, address):
    return {e.asset_id: (e.exposed, e.received) for e in result[address]}


def test_one_hop_counts_only_value_sent_by_the_source():
    got = _by_asset(account_exposure(_transfers(), _source(), np.array([C]), hops=1), C)
    assert got == {0: (7, 163), 1: (BIG, 2 * BIG + 1)}


def test_two_hops_add_value_forwarded_after_the_sender_was_touched():
    result = account_exposure(_transfers(), _source(), np.array([C]), hops=2)
    assert _by_asset(result, C)[0] == (30 + 40 + 7, 163)
    assert result[C][0].ratio == Fraction(77, 163)
    # the reported figure is the most exposed asset's share, as a float only at the end
    assert max_ratio(result[C]) == float(Fraction(BIG, 2 * BIG + 1))


def test_value_received_before_exposure_is_never_counted():
    assert _by_asset(account_exposure(_transfers(), _source(), np.array([E]), hops=2), E) == {0: (0, 25)}
    assert _by_asset(account_exposure(_transfers(), _source(), np.array([E]), hops=3), E) == {0: (25, 25)}


def test_zero_hops_and_unreached_addresses_have_no_exposure():
    assert not exposed_edges(_transfers()["from_id"], _transfers()["to_id"], _source(), 0).any()
    result = account_exposure(_transfers(), _source(), np.array([D]), hops=5)
    assert D not in result and max_ratio(result.get(D, [])) == 0.0


def test_more_hops_never_lower_exposure():
    t = _transfers()
    counts = [exposed_edges(t["from_id"], t["to_id"], _source(), h).sum() for h in range(1, 6)]
    assert counts == sorted(counts) and counts[0] == 4 and counts[-1] == 7


def test_utxo_exposure_follows_spent_outputs():
    # tx0 coinbase -> S 50; tx1 S spends tx0:0 -> A 30, S 20; tx2 A spends tx1:0 -> C 25;
    # tx3 D spends tx4:0 -> C 10; tx4 coinbase -> D 10
    outputs = {"tx": np.array([0, 1, 1, 2, 3, 4]), "address_id": np.array([S, A, S, C, C, D]),
               "value": np.array([50, 30, 20, 25, 10, 10]), "index": np.array([0, 0, 1, 0, 0, 0])}
    inputs = {"tx": np.array([1, 2, 3]), "address_id": np.array([S, A, D]),
              "spent_tx": np.array([0, 1, 4]), "spent_index": np.array([0, 0, 0])}
    one = utxo_exposure(outputs, inputs, _source(), np.array([A, C]), hops=1)
    two = utxo_exposure(outputs, inputs, _source(), np.array([A, C]), hops=2)
    assert (one[A][0].exposed, one[A][0].received) == (30, 30)
    assert (one[C][0].exposed, one[C][0].received) == (0, 35)
    assert (two[C][0].exposed, two[C][0].received) == (25, 35)


def test_sources_are_sanctioned_or_dprk_attributed_labels():
    from trilateral.labels.model import Label
    from trilateral.screening.service import is_exposure_source

    def label(**kw) -> Label:
        base = {"address": "x", "chain": "bitcoin", "entity": None, "category": None, "jurisdiction": None,
                "source": "test", "confidence": 1.0}
        return Label(**{**base, **kw})

    names = frozenset({"lazarus group", "tradertraitor"})
    assert is_exposure_source(label(category="sanctioned", entity="Garantex"), names)
    assert is_exposure_source(label(category="perpetrator", programs=("DPRK3",)), names)
    assert is_exposure_source(label(category="perpetrator", entity="TraderTraitor"), names)  # FBI 2023 style
    assert is_exposure_source(label(category="perpetrator", entity="Wallet of a North Korean IT worker"), names)
    assert not is_exposure_source(label(category="exchange", entity="Upbit"), names)
    assert not is_exposure_source(label(category="hacker", entity="Some other crew"), names)
