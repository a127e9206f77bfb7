"""Mixer pools from whatever the data holds: a pool is a labelled `mixing_service` contract or a
known Tornado Cash instance; a deposit is value into it, a withdrawal is value out of it (the
recipient's payout and, with a relayer, the relayer's fee in the same transaction). Tornado
events refine this when the store has them (relayer, fee), but are never required: explorer and
API exports carry internal transfers and no logs."""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from trilateral.chain import ChainStore
from trilateral.core.amount import join_amount
from trilateral.trace.mixers import MixerWithdrawal

# Public Tornado Cash instances on Ethereum (OFAC SDN list, 8 Aug 2022; Tornado's own docs).
KNOWN_TORNADO_POOLS: dict[str, str] = {
    "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc": "0.1 ETH",
    "0x47ce0c6ed5b0ce3d3a51fdb1c52dc66a7c3c2936": "1 ETH",
    "0x910cbd523d972eb0a6f4cae4618ad62622b39dbf": "10 ETH",
    "0xa160cdab225685da1d56aa342ad8841c3b53f291": "100 ETH",
    "0xd4b88df4d29f5cedd6857912842cff3b20c8cfa3": "100 DAI",
    "0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144": "1000 DAI",
    "0x07687e702b410fa43f4cb4af7fa097918ffd2730": "10000 DAI",
    "0x23773e65ed146a459791799d01336db287f25334": "100000 DAI",
    "0x22aaa7720ddd5388a3c0a3333430953c68f1849b": "5000 cDAI",
    "0x03893a7c7463ae47d46bc7f091665f1893656003": "50000 cDAI",
    "0x2717c5e28cf931547b621a5dddb772ab6a35b701": "500000 cDAI",
    "0xd21be7248e0197ee08e0c20d4a96debdac3d20af": "5000000 cDAI",
    "0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d": "100 USDC",
    "0xd96f2b1c14db8458374d9aca76e26c3d18364307": "1000 USDC",
    "0x169ad27a470d064dede56a2d3ff727986b15d52b": "100 USDT",
    "0x0836222f2b2b24a3f36f98668ed8f0b38d1a872f": "1000 USDT",
    "0x178169b423a011fff22b9e3f3abea13414ddd0f1": "0.1 WBTC",
    "0x610b717796ad172b316836ac95a2ffad065ceab4": "1 WBTC",
    "0xbb93e510bbcd0b7beb5a853875f9ec60275cf498": "10 WBTC",
}


@dataclass
class PoolTransfer:
    """One value transfer into or out of a pool (any kind: top-level, internal, token)."""

    timestamp: int
    tx_hash: str
    from_id: int
    to_id: int
    asset_id: int
    amount: int


@dataclass
class PoolActivity:
    """A pool's deposits (time, depositor) and withdrawals, from transfers and events together."""

    deposits: list[tuple[int, int]] = field(default_factory=list)
    withdrawals: list[MixerWithdrawal] = field(default_factory=list)

    @property
    def deposit_times(self) -> list[int]:
        return [ts for ts, _ in self.deposits]


def pool_activity(pool: int, transfers: list[PoolTransfer], events: list[dict]) -> PoolActivity:
    """Deposits and withdrawals of `pool`: from its events where a transaction has one, else from its
    transfers (the largest payout of a transaction is the recipient's, the others the relayer's fee)."""
    act = PoolActivity()
    event_txs: set[str] = set()
    for e in events:
        event_txs.add(e["tx_hash"])
        if e["event"] == "tornado_deposit":
            act.deposits.append((e["timestamp"], e["from_id"] if e["from_id"] is not None else -1))
        elif e["event"] == "tornado_withdrawal" and e["to_id"] is not None:
            act.withdrawals.append(MixerWithdrawal(e["timestamp"], pool, e["to_id"], e["relayer_id"], e["fee"],
                                                   e.get("amount", 0), e["tx_hash"]))
    outs: dict[str, list[PoolTransfer]] = defaultdict(list)
    for t in transfers:
        if t.tx_hash in event_txs or t.amount <= 0:
            continue
        if t.to_id == pool and t.from_id != pool:
            act.deposits.append((t.timestamp, t.from_id))
        elif t.from_id == pool and t.to_id != pool:
            outs[t.tx_hash].append(t)
    for tx, pays in outs.items():
        pays.sort(key=lambda p: -p.amount)
        main, fees = pays[0], pays[1:]
        relayer = fees[0].to_id if fees else -1
        act.withdrawals.append(MixerWithdrawal(main.timestamp, pool, main.to_id, relayer,
                                               sum(f.amount for f in fees), main.amount, tx, asset=main.asset_id))
    act.deposits.sort()
    act.withdrawals.sort(key=lambda w: (w.timestamp, w.tx_hash))
    return act


def load_pool_transfers(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, pools: list[int],
                        since: int) -> dict[int, list[PoolTransfer]]:
    """Every transfer into or out of `pools` from `since` on, per pool (one read of the store)."""
    files = store.files(chain, "transfers")
    out: dict[int, list[PoolTransfer]] = {p: [] for p in pools}
    if not files or not pools:
        return out
    con.register("wanted_pools", pa.table({"p": pa.array(sorted(pools), pa.int64())}))
    got = con.sql(
        "SELECT timestamp, tx_hash, from_id, to_id, asset_id, amount_hi, amount_lo "
        f"FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {int(since)} AND "
        "(from_id IN (SELECT p FROM wanted_pools) OR to_id IN (SELECT p FROM wanted_pools)) "
        "ORDER BY timestamp, block_number, tx_index, log_index").fetchall()
    con.unregister("wanted_pools")
    for ts, tx, f, t, asset, hi, lo in got:
        row = PoolTransfer(int(ts), str(tx), int(f), int(t), int(asset), join_amount(int(hi), int(lo)))
        for p in {int(f), int(t)} & out.keys():
            out[p].append(row)
    return out


def events_by_pool(ev: dict[str, list]) -> dict[int, list[dict]]:
    """The store's Tornado events (engine's column lists) per pool, with the fee as one integer."""
    out: dict[int, list[dict]] = defaultdict(list)
    for k, e in enumerate(ev["event"]):
        if e not in ("tornado_deposit", "tornado_withdrawal"):
            continue
        relayer = ev["relayer_id"][k]
        out[int(ev["contract_id"][k])].append({
            "timestamp": ev["timestamp"][k], "tx_hash": ev["tx_hash"][k], "event": e, "from_id": ev["from_id"][k],
            "to_id": int(ev["to_id"][k]) if ev["to_id"][k] is not None else None,
            "relayer_id": int(relayer) if relayer is not None else -1,
            "fee": (int(ev["fee_hi"][k] or 0) << 64) | int(ev["fee_lo"][k] or 0)})
    return out


def first_funding(from_id: np.ndarray, to_id: np.ndarray, timestamp: np.ndarray, asset_id: np.ndarray,
                  reach: np.ndarray, recipients: list[int]) -> dict[int, int]:
    """recipient -> time it first got native value from an address that held taint by then (the
    gas-funding evidence, found on the whole graph: gas is below the reach's dust threshold)."""
    if not recipients:
        return {}
    idx = np.flatnonzero(np.isin(to_id, np.asarray(recipients, np.int64)) & (asset_id == 0))
    out: dict[int, int] = {}
    for k in idx[reach[from_id[idx]] <= timestamp[idx]].tolist():
        out.setdefault(int(to_id[k]), int(timestamp[k]))
    return out


def linkable(activity: dict[int, PoolActivity], pool_reached: dict[int, int], is_reached, window: int,
             min_confidence: float, heuristics: frozenset[str], funded: dict[int, int] | None = None
             ) -> list[MixerWithdrawal]:
    """Withdrawals whose recipients the reach should include because some heuristic might link them
    (a superset of what the exact pass links: the pass decides, on the exact deposits).

    is_reached(address, time) -> bool: whether the address held taint by then."""
    from trilateral.trace.mixers import TIMING_WINDOW

    if min_confidence > 1:
        return []  # nothing can be linked (e.g. a trace that does not follow mixers)
    recipients: Counter = Counter(w.to for p in pool_reached for w in activity[p].withdrawals)
    out = []
    for pool, start in pool_reached.items():
        act = activity[pool]
        times = [ts for ts, _ in act.deposits]  # sorted
        mine = [ts for ts, who in act.deposits if ts >= start and who >= 0 and is_reached(who, ts)]
        if not mine:
            continue
        for w in act.withdrawals:
            if not start <= w.timestamp <= start + window:
                continue
            t0 = w.timestamp - window
            near = bisect_right(times, w.timestamp) - bisect_left(times, t0)
            own = bisect_right(mine, w.timestamp) - bisect_left(mine, t0)
            first = bisect_left(mine, w.timestamp - TIMING_WINDOW)
            recent = bisect_right(mine, w.timestamp) - first
            between = bisect_right(times, w.timestamp) - bisect_left(times, mine[first]) if recent else 0
            if ("anonymity_set" in heuristics and own / max(near, 1) >= min_confidence) or \
                    ("timing" in heuristics and recent and recent / max(between, 1) >= min_confidence) or \
                    ("multi_denomination" in heuristics and recipients[w.to] >= 2) or \
                    ("gas_funding" in heuristics and (funded or {}).get(w.to, w.timestamp + 1) <= w.timestamp):
                out.append(w)
    return out
