"""World B: a laundering world written apart from the main simulator, to measure mixer heuristics on
behaviour they were not tuned to. Its own code path and its own habits: no event logs at all
(pools seen only through transactions and internal transfers, as explorer exports show them),
pools at unlisted addresses known only by a `mixing_service` label, lognormal deposit delays,
withdrawals days later through many relayers, gas from a dedicated funder, and honest users who
mimic the thief (several notes withdrawn to one fresh address, quick withdrawals, exchange gas).

Writes `ethereum/` (ethereum-etl CSVs: blocks, transactions, traces, empty token files),
`labels.json` ([chain, address, category, entity, jurisdiction]) and `ground_truth.json`
(seeds and off-ramp credits with `via_mixer`, the format bench/trace_accuracy.py scores)."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

E = 10**18
T0 = 1_767_225_600
BLOCK = 12
DENOMINATIONS = (E, 10 * E, 100 * E)
HONEST_WEIGHTS = (0.5, 0.35, 0.15)
RELAYER_FEE = (5, 1000)  # 0.5 % of the note
GAS = E // 100


@dataclass
class _World:
    rng: random.Random
    txs: list[dict] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)
    n: int = 0

    def address(self, kind: str) -> str:
        self.n += 1
        return "0x" + hashlib.sha256(f"{kind}/{self.n}/{self.rng.random()}".encode()).hexdigest()[:40]

    def tx(self, t: int, sender: str, to: str, value: int) -> str:
        h = "0x" + hashlib.sha256(f"tx/{len(self.txs)}/{t}".encode()).hexdigest()
        self.txs.append({"hash": h, "t": int(t), "from_address": sender, "to_address": to, "value": value})
        return h

    def internal(self, tx: str, t: int, sender: str, to: str, value: int) -> None:
        self.traces.append({"transaction_hash": tx, "t": int(t), "from_address": sender, "to_address": to,
                            "value": value})


@dataclass
class _Exchange:
    hot: str
    name: str
    deposits: dict[str, str] = field(default_factory=dict)  # user -> deposit address


def generate_world_b(out: Path, seed: int = 1, honest_users: int = 400, stolen_eth: int = 3000,
                     days: int = 20) -> Path:
    """Write world B under `out`; returns `out`."""
    rng = random.Random(seed)
    w = _World(rng)
    span = days * 86_400
    pools = {d: w.address("pool") for d in DENOMINATIONS}
    relayers = [w.address("relayer") for _ in range(6)]
    exchanges = [_Exchange(w.address("hot"), name) for name in ("Boreal Exchange", "Cobalt Exchange", "Dune Exchange")]
    credits: dict[tuple[str, bool], int] = defaultdict(int)  # (deposit address, via mixer) -> wei (thief's)

    def cash_out(t: int, user: str, amount: int, thief_mixed: bool | None) -> None:
        """`user` pays its exchange deposit address, which the exchange sweeps to its hot wallet."""
        ex = exchanges[int(user[2:10], 16) % len(exchanges)]
        dep = ex.deposits.setdefault(user, w.address("deposit"))
        w.tx(t, user, dep, amount)
        w.tx(t + rng.randint(60, 3600), dep, ex.hot, amount)
        if thief_mixed is not None:
            credits[(dep, thief_mixed)] += amount

    notes: list[tuple[int, str, int, bool]] = []  # (time, depositor, denomination, thief) for the sweep
    withdrawals: list[tuple[int, int, str, str | None, bool]] = []  # time, d, recipient, relayer, thief

    def withdraw(t: int, d: int, recipient: str, relayer: str | None, thief: bool) -> None:
        withdrawals.append((t, d, recipient, relayer, thief))

    # honest users: funded by an exchange, 1-4 notes, withdrawn after exponential delays; 25 % mimic
    # the thief: every note to one fresh address, within the hour, gas from an exchange
    for _ in range(honest_users):
        user = w.address("user")
        start = rng.randint(0, span - 4 * 86_400)
        k = rng.choice((1, 1, 2, 2, 3, 4))
        ds = rng.choices(DENOMINATIONS, HONEST_WEIGHTS, k=k)
        w.tx(start, rng.choice(exchanges).hot, user, sum(ds) + GAS)
        mimic = rng.random() < 0.25
        fresh = w.address("fresh")
        t = start
        for d in ds:
            t += rng.randint(30, 3 * 3600)
            notes.append((t, user, d, False))
        for d in ds:
            to = fresh if mimic else w.address("fresh")
            wt = t + (rng.randint(60, 3600) if mimic else int(rng.expovariate(1 / (2 * 86_400))) + 60)
            relayer = rng.choices(relayers, (8, 1, 1, 1, 1, 1))[0] if rng.random() < 0.6 else None
            if relayer is None or mimic:
                w.tx(wt - rng.randint(60, 7200), rng.choice(exchanges).hot, to, GAS)
            withdraw(wt, d, to, relayer, False)

    # the thief: one theft, 20 % straight to an exchange, the rest split over hop addresses that
    # deposit notes with lognormal delays; withdrawals 1-10 days later to fresh addresses taking 1-4
    # notes each, mostly relayed by any relayer; gas from a dedicated funder or a hop
    victim, thief, funder = w.address("victim"), w.address("thief"), w.address("gasfunder")
    w.tx(0, w.address("source"), victim, stolen_eth * E)
    seed_tx = w.tx(3600, victim, thief, stolen_eth * E)
    w.tx(4000, thief, funder, 2 * E)
    direct = stolen_eth * E // 5
    cash_out(5000, thief, direct, False)
    left = stolen_eth * E - direct - 2 * E
    hops = [w.address("hop") for _ in range(8)]
    thief_notes: list[tuple[int, int]] = []
    t = 6000
    share = left // len(hops)
    for hop in hops:
        t += rng.randint(600, 6 * 3600)
        w.tx(t, thief, hop, share)
        budget, ht = share, t
        while budget >= E:
            d = rng.choice([x for x in DENOMINATIONS if x <= budget and x >= 10 * E] or [E])
            ht += int(rng.lognormvariate(8.5, 1.2))  # median ~1.4 h between notes, long tail
            notes.append((ht, hop, d, True))
            thief_notes.append((ht, d))
            budget -= d
    rng.shuffle(thief_notes)
    while thief_notes:
        take = [thief_notes.pop() for _ in range(min(len(thief_notes), rng.choice((1, 1, 2, 3, 4))))]
        to = w.address("cashout")
        last = max(nt for nt, _ in take)
        wt = last + rng.randint(86_400, 10 * 86_400)
        habit = rng.random()
        if habit < 0.4:
            w.tx(wt - rng.randint(600, 86_400), funder, to, GAS)
        elif habit < 0.55:
            w.tx(wt - rng.randint(600, 86_400), rng.choice(hops), to, GAS)
        elif habit < 0.6:
            to = rng.choice(hops)  # straight back to a hop: address reuse
        got = 0
        for i, (_, d) in enumerate(take):
            relayer = rng.choice(relayers) if habit >= 0.4 or rng.random() < 0.5 else None
            withdraw(wt + i * rng.randint(60, 7200), d, to, relayer, True)
            got += d - (d * RELAYER_FEE[0] // RELAYER_FEE[1] if relayer else 0)
        cash_out(wt + 5 * 86_400, to, got, True)

    for nt, who, d, _ in notes:
        w.tx(nt, who, pools[d], d)
    for wt, d, to, relayer, _ in withdrawals:
        fee = d * RELAYER_FEE[0] // RELAYER_FEE[1] if relayer else 0
        h = w.tx(wt, relayer or to, pools[d], 0)
        w.internal(h, wt, pools[d], to, d - fee)
        if fee:
            w.internal(h, wt, pools[d], relayer, fee)
    for wt, d, to, relayer, thief_w in withdrawals:  # honest recipients cash out too (decoys)
        if not thief_w:
            fee = d * RELAYER_FEE[0] // RELAYER_FEE[1] if relayer else 0
            cash_out(wt + rng.randint(3600, 5 * 86_400), to, d - fee, None)

    _write(out, w)
    labels = [["ethereum", a, "mixing_service", "Mixer B", None] for a in pools.values()]
    labels += [["ethereum", ex.hot, "exchange", ex.name, "SC"] for ex in exchanges]
    (out / "labels.json").write_text(json.dumps(labels))
    truth = {"seeds": [{"chain": "ethereum", "tx_hash": seed_tx}],
             "offramps": [{"chain": "ethereum", "asset": "ETH", "address": a, "via_mixer": mixed,
                           "amount_base_units": str(v)} for (a, mixed), v in sorted(credits.items())]}
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=1))
    return out


def _write(out: Path, w: _World) -> None:
    eth = out / "ethereum"
    eth.mkdir(parents=True, exist_ok=True)
    order = sorted(range(len(w.txs)), key=lambda i: (w.txs[i]["t"], i))
    blocks: dict[int, int] = {}
    index: dict[str, tuple[int, int]] = {}
    rows = []
    for i in order:
        tx = w.txs[i]
        block = 1 + tx["t"] // BLOCK
        blocks.setdefault(block, 0)
        n = blocks[block]
        blocks[block] += 1
        index[tx["hash"]] = (block, n)
        rows.append({**tx, "block_number": block, "transaction_index": n, "block_timestamp": T0 + (block - 1) * BLOCK,
                     "nonce": n, "block_hash": "0x" + f"{block:064x}", "gas": 21000, "gas_price": 1, "input": "0x",
                     "transaction_type": 2, "receipt_status": 1})
    traces = []
    per_tx: dict[str, int] = defaultdict(int)
    for tr in w.traces:
        block, n = index[tr["transaction_hash"]]
        traces.append({**tr, "block_number": block, "transaction_index": n, "trace_type": "call", "call_type": "call",
                       "trace_address": str(per_tx[tr["transaction_hash"]]), "status": 1, "subtraces": 0,
                       "gas": 0, "gas_used": 0, "input": "0x", "output": "0x"})
        per_tx[tr["transaction_hash"]] += 1
    _csv(eth / "blocks.csv", ["number", "hash", "parent_hash", "miner", "timestamp", "transaction_count"],
         [{"number": b, "hash": "0x" + f"{b:064x}", "timestamp": T0 + (b - 1) * BLOCK, "transaction_count": c,
           "miner": "0x" + "0" * 40} for b, c in sorted(blocks.items())])
    _csv(eth / "transactions.csv", ["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address",
                                    "to_address", "value", "gas", "gas_price", "input", "block_timestamp",
                                    "transaction_type", "receipt_status"], rows)
    _csv(eth / "traces.csv", ["block_number", "transaction_hash", "transaction_index", "from_address", "to_address",
                              "value", "input", "output", "trace_type", "call_type", "reward_type", "gas", "gas_used",
                              "subtraces", "trace_address", "error", "status", "trace_id"], traces)
    _csv(eth / "token_transfers.csv", ["token_address", "from_address", "to_address", "value", "transaction_hash",
                                       "log_index", "block_number"], [])
    _csv(eth / "tokens.csv", ["address", "symbol", "name", "decimals", "total_supply", "block_number"], [])


def _csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        out.writeheader()
        for row in rows:
            out.writerow({c: row.get(c, "") for c in cols})
