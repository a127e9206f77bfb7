"""Time-respecting reachability from the seeds over time-ordered transfer arrays (numba).

One sweep over the transfers in time order finds, for every address, the earliest time tainted
value could reach it (the one-pass earliest-arrival algorithm for temporal graphs, Wu et al.,
'Path problems in temporal graphs', VLDB 2014). Laundering steps bend the rule: off-ramps, mixer
pools and bridges are reached but do not pass value on; a DEX passes value on only inside the
transaction that reached it (a swap), and each transaction is swept twice so that the order of
its rows (internal transfers are listed before token logs) does not matter.
"""

from __future__ import annotations

import numba
import numpy as np

NEVER = np.iinfo(np.int64).max
KIND_PLAIN, KIND_OFFRAMP, KIND_DEX, KIND_MIXER, KIND_BRIDGE = 0, 1, 2, 3, 4
KIND_CODES = {"exchange": KIND_OFFRAMP, "deposit": KIND_OFFRAMP, "dex": KIND_DEX, "mixer": KIND_MIXER,
              "bridge": KIND_BRIDGE}


@numba.njit(cache=True, nogil=True)
def _sweep(from_id, to_id, ts, tx_key, kind, reach, dex_tx, start, hi, lo, asset, dust):  # pragma: no cover
    n = from_id.shape[0]
    changed = 0
    i = start
    while i < n:
        j = i + 1
        while j < n and tx_key[j] == tx_key[i]:
            j += 1
        for _rep in range(2 if j - i > 1 else 1):
            for k in range(i, j):
                f = from_id[k]
                kf = kind[f]
                d = dust[asset[k]]
                if d > 0.0 and float(hi[k]) * 18446744073709551616.0 + float(lo[k]) < d:
                    continue
                if (kf == 0 and reach[f] <= ts[k]) or (kf == 2 and dex_tx[f] == tx_key[k]):
                    t = to_id[k]
                    if kind[t] == 2:
                        dex_tx[t] = tx_key[k]
                    elif reach[t] > ts[k]:
                        reach[t] = ts[k]
                        changed += 1
        i = j
    return changed


def time_respecting_reach(from_id: np.ndarray, to_id: np.ndarray, ts: np.ndarray, tx_key: np.ndarray,
                          kind: np.ndarray, reach: np.ndarray, hi: np.ndarray | None = None,
                          lo: np.ndarray | None = None, asset: np.ndarray | None = None,
                          dust: np.ndarray | None = None) -> int:
    """Update `reach` (earliest arrival time per address id, NEVER if unreached) in place; return the
    number of addresses whose time improved. Arrays must be ordered by (time, transaction).

    Transfers whose amount (hi, lo words, compared as a float) is below `dust[asset]` are not followed: they cannot
    carry more than dust, and followed they would flood the graph (decoy dust to busy addresses)."""
    if hi is None or lo is None or asset is None or dust is None:
        hi = lo = np.zeros(from_id.shape[0], dtype=np.uint64)
        asset = np.zeros(from_id.shape[0], dtype=np.int32)
        dust = np.zeros(1, dtype=np.float64)
    if from_id.shape[0] == 0:
        return 0
    seeded = reach[reach < NEVER]
    first = int(seeded.min()) if seeded.size else NEVER
    start = int(np.searchsorted(ts, first, side="left")) if first < NEVER else from_id.shape[0]
    dex_tx = np.full(kind.shape[0], -1, dtype=np.int64)
    return int(_sweep(from_id, to_id, ts, tx_key, kind, reach, dex_tx, start, hi, lo, asset, dust))


@numba.njit(cache=True, nogil=True)
def _subgraph_mask(from_id, to_id, kind, reach, ts):  # pragma: no cover - compiled
    n = from_id.shape[0]
    mask = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        f = from_id[k]
        t = to_id[k]
        fr = reach[f] < 9223372036854775807 and kind[f] == 0
        tr = reach[t] < 9223372036854775807 and kind[t] == 0
        if fr or tr:
            mask[k] = True
    return mask


def subgraph_rows(from_id: np.ndarray, to_id: np.ndarray, kind: np.ndarray, reach: np.ndarray,
                  ts: np.ndarray) -> np.ndarray:
    """Indices of the rows the exact pass needs: every transfer into or out of a reached plain
    address (its clean inflows matter to haircut and FIFO too); rows of a DEX swap are included by
    the reached addresses at their ends."""
    mask = _subgraph_mask(from_id, to_id, kind, reach, ts)
    return np.flatnonzero(mask)
