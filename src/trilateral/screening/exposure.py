"""Indirect exposure: the share of an address's received value that came within N hops of a source.

A source is a sanctioned or DPRK-attributed address. A transfer is *exposed within N hops* when its
sender is a source (hop 1) or its sender had, strictly earlier in chain order, received a transfer
exposed within N-1 hops. This is a time-respecting reachability ("poison") measure: an upper bound
on tainted value that never counts value received before the sender was touched. Sums are exact
integers (wei as two uint64 words, satoshi as int64); the ratio becomes a float only at the end.

Arrays only (numpy): N passes over the transfers, each O(transfers).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

_NEVER = np.iinfo(np.int64).max


def exposed_edges(senders: np.ndarray, receivers: np.ndarray, is_source: np.ndarray, hops: int) -> np.ndarray:
    """Bool per transfer (rows in chain order): exposed within `hops` hops of a source address."""
    senders = np.asarray(senders, dtype=np.int64)
    receivers = np.asarray(receivers, dtype=np.int64)
    direct = is_source[senders]
    exposed = direct.copy()
    if hops <= 0:
        return np.zeros_like(direct)
    rows = np.arange(len(senders), dtype=np.int64)
    for _ in range(hops - 1):
        first = np.full(len(is_source), _NEVER, dtype=np.int64)
        hit_rows = rows[exposed]
        if hit_rows.size:
            # rows are ascending, so np.unique's first index is each receiver's earliest exposed row
            uniq, idx = np.unique(receivers[hit_rows], return_index=True)
            first[uniq] = hit_rows[idx]
        grown = direct | (first[senders] < rows)
        if np.array_equal(grown, exposed):
            break
        exposed = grown
    return exposed


def _limbs(amount_hi: np.ndarray, amount_lo: np.ndarray) -> np.ndarray:
    """(n, 4) uint64 32-bit limbs of a 128-bit amount: sums of up to 2**32 rows stay exact."""
    hi = np.asarray(amount_hi, dtype=np.uint64)
    lo = np.asarray(amount_lo, dtype=np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    s = np.uint64(32)
    return np.stack([lo & mask, lo >> s, hi & mask, hi >> s], axis=1)


def _group_sums(keys: np.ndarray, limbs: np.ndarray) -> dict[int, int]:
    """Exact Python-int sums of 128-bit amounts per key."""
    if keys.size == 0:
        return {}
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sums = np.add.reduceat(limbs[order], starts, axis=0)
    return {int(key): int(a) + (int(b) << 32) + (int(c) << 64) + (int(d) << 96)
            for key, (a, b, c, d) in zip(k[starts].tolist(), sums.tolist(), strict=True)}


@dataclass(frozen=True)
class Exposure:
    """Exact received and exposed value of one address in one asset."""

    asset_id: int
    received: int
    exposed: int

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.exposed, self.received) if self.received else Fraction(0)


def account_exposure(transfers: dict[str, np.ndarray], is_source: np.ndarray, targets: np.ndarray,
                     hops: int) -> dict[int, list[Exposure]]:
    """Per target address id: received and exposed value per asset (account model).

    `transfers` holds from_id, to_id, asset_id, amount_hi, amount_lo in chain order.
    """
    senders, receivers = transfers["from_id"], transfers["to_id"]
    exposed = exposed_edges(senders, receivers, is_source, hops)
    wanted = np.isin(receivers, targets)
    limbs = _limbs(transfers["amount_hi"][wanted], transfers["amount_lo"][wanted])
    assets = np.asarray(transfers["asset_id"], dtype=np.int64)[wanted]
    to = np.asarray(receivers, dtype=np.int64)[wanted]
    key = to * (1 << 20) + assets  # asset ids are small (int32 in the store, far below 2**20 in practice)
    received = _group_sums(key, limbs)
    ex = exposed[wanted]
    exposed_sum = _group_sums(key[ex], limbs[ex])
    out: dict[int, list[Exposure]] = {}
    for k, total in sorted(received.items()):
        out.setdefault(k >> 20, []).append(Exposure(k & ((1 << 20) - 1), total, exposed_sum.get(k, 0)))
    return out


def utxo_exposure(outputs: dict[str, np.ndarray], inputs: dict[str, np.ndarray], is_source: np.ndarray,
                  targets: np.ndarray, hops: int) -> dict[int, list[Exposure]]:
    """UTXO model: an output is exposed when its transaction spends a source's coin (hop 1) or an output
    exposed within N-1 hops. `outputs`: tx (int), address_id, value, index; `inputs`: tx, address_id,
    spent_tx, spent_index (tx numbered by any dense id). Values are satoshi (exact int64 sums)."""
    out_tx = np.asarray(outputs["tx"], dtype=np.int64)
    n_tx = int(max(out_tx.max(initial=-1), np.asarray(inputs["tx"], dtype=np.int64).max(initial=-1))) + 1
    in_tx = np.asarray(inputs["tx"], dtype=np.int64)
    tx_direct = np.zeros(n_tx, dtype=bool)
    tx_direct[in_tx[is_source[np.asarray(inputs["address_id"], dtype=np.int64)]]] = True
    # map each input to the output row it spends (-1 if that output is not in the store)
    out_key = out_tx * (1 << 32) + np.asarray(outputs["index"], dtype=np.int64)
    order = np.argsort(out_key)
    spent_key = np.asarray(inputs["spent_tx"], dtype=np.int64) * (1 << 32) + np.asarray(inputs["spent_index"],
                                                                                             dtype=np.int64)
    if len(order):
        sorted_keys = out_key[order]
        pos = np.searchsorted(sorted_keys, spent_key).clip(0, len(order) - 1)
        spent_row = np.where(sorted_keys[pos] == spent_key, order[pos], -1)
    else:
        spent_row = np.full(len(spent_key), -1, dtype=np.int64)
    tx_exposed = tx_direct.copy() if hops > 0 else np.zeros(n_tx, bool)
    for _ in range(max(hops - 1, 0)):
        out_exposed = tx_exposed[out_tx]
        via = np.zeros(n_tx, dtype=bool)
        ok = spent_row >= 0
        via[in_tx[ok][out_exposed[spent_row[ok]]]] = True
        grown = tx_direct | via
        if np.array_equal(grown, tx_exposed):
            break
        tx_exposed = grown
    addr = np.asarray(outputs["address_id"], dtype=np.int64)
    value = np.asarray(outputs["value"], dtype=np.int64)
    wanted = np.isin(addr, targets)
    result: dict[int, list[Exposure]] = {}
    received = _int_sums(addr[wanted], value[wanted])
    ex = wanted & tx_exposed[out_tx]
    exposed_sum = _int_sums(addr[ex], value[ex])
    for a, total in sorted(received.items()):
        result[a] = [Exposure(0, total, exposed_sum.get(a, 0))]
    return result


def _int_sums(keys: np.ndarray, values: np.ndarray) -> dict[int, int]:
    if keys.size == 0:
        return {}
    v = values.astype(np.uint64)
    limbs = np.stack([v & np.uint64(0xFFFFFFFF), v >> np.uint64(32)], axis=1)
    padded = np.concatenate([limbs, np.zeros_like(limbs)], axis=1)
    return _group_sums(keys, padded)


def max_ratio(exposures: list[Exposure]) -> float:
    """The most exposed asset's share, as a float (the one place exactness ends)."""
    return float(max((e.ratio for e in exposures), default=Fraction(0)))
