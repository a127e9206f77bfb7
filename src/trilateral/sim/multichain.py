"""`lazarus-bridge-tron`: USDT stolen on Ethereum, bridged to BNB Smart Chain, bridged on to Tron and
cashed out at exchange deposit addresses there (the route DPRK launderers favour: OFAC lists more DPRK
Tron addresses than Ethereum and Bitcoin together). Among ordinary transfers on the three chains and
honest use of the same two bridges (some of it at the thief's amounts and times, so matching has to
weigh fees, delays and ambiguity).

Written in the real formats: ethereum-etl directories for Ethereum and BSC (bsc-etl exports the same
tables), full-node `getblockbynum` / `gettransactioninfobyblocknum` dumps for Tron; GraphSense TagPack
and ActorPack labels (exchange hot wallets, bridge contracts); ground truth in the usual shape, plus
the true bridge links.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import yaml

from trilateral.core.chains import CHAINS, TETHER_TRON, tron_to_base58, tron_to_hex
from trilateral.sim.ledger import GroundTruth, Ledger, iso
from trilateral.sim.world import EXCHANGES, GENESIS_TIME

NAME = "lazarus-bridge-tron"
SUMMARY = ("USDT stolen on Ethereum, bridged to BNB Smart Chain, bridged on to Tron and cashed out at exchange "
           "deposit addresses on Tron, among ordinary transfers and honest bridge use on all three chains.")
STEPS = ("theft", "fan_out", "bridge", "bridge_out", "peel", "exchange_deposit", "exchange_sweep", "dormant")
SPAN = 36 * 3600
INTERVAL = {"ethereum": 12, "bsc": 3, "tron": 3}
USDT = {"ethereum": "0xdac17f958d2ee523a2206206994597c13d831ec7", "bsc": "0x55d398326f99059ff775485246999027b3197955",
        "tron": tron_to_hex(TETHER_TRON)}
USDT_DECIMALS = {"ethereum": 6, "bsc": 18, "tron": 6}
CURRENCY = {"ethereum": "ETH", "bsc": "BSC", "tron": "TRX"}
BRIDGES = {  # entity -> {chain: contract}; fictional bridges with the behaviour of the real ones
    "SimPortal Bridge": {"ethereum": "0x3ee18b2214aff97000d974cf647e7c347e8fa585",
                         "bsc": "0xb6f6d86a8f9879a9c87f643768d9efc38c1da6e7"},
    "SimTron Bridge": {"bsc": "0x1b0f6e8b4e5c2b9d4d3f7a6a1a6c3e2f8d9b7c01",
                       "tron": "0x7d3a1e4b2f6c8a9d0e1f2a3b4c5d6e7f8a9b0c1d"},
}


@dataclass
class Move:
    chain: str
    time: int
    sender: str  # 0x + 40 hex (Tron too: shown as T… by the store)
    receiver: str
    asset: str  # native symbol or USDT
    amount: int
    tx: str = ""


@dataclass
class Sim:
    rng: np.random.Generator
    start: int
    moves: list[Move] = field(default_factory=list)
    truth: GroundTruth | None = None
    ledger: Ledger = field(default_factory=Ledger)
    links: list[dict] = field(default_factory=list)

    def addr(self) -> str:
        return "0x" + self.rng.bytes(20).hex()

    def txid(self) -> str:
        return "0x" + self.rng.bytes(32).hex()

    def move(self, chain: str, time: int, sender: str, receiver: str, asset: str, amount: int) -> Move:
        m = Move(chain, min(int(time), self.start + SPAN - 60), sender, receiver, asset, int(amount), self.txid())
        self.moves.append(m)
        return m

    def shown(self, chain: str, address: str) -> str:
        return tron_to_base58(address) if chain == "tron" else address

    def step(self, kind: str, m: Move, **extra) -> None:
        assert self.truth is not None
        self.truth.step(kind, m.chain, m.tx, self.shown(m.chain, m.sender), self.shown(m.chain, m.receiver),
                        m.asset, m.amount, m.time, **extra)

    def thief_move(self, kind: str, chain: str, time: int, sender: str, receiver: str, amount: int, **extra) -> Move:
        self.ledger.move(chain, sender, receiver, "USDT", amount)
        m = self.move(chain, time, sender, receiver, "USDT", amount)
        self.step(kind, m, **extra)
        return m


def generate_bridge_tron(transfers: int, seed: int, out: Path, start: int = GENESIS_TIME) -> dict:
    """Write ethereum/, bsc/, tron/, labels.yaml, actors.yaml, ground_truth.json into `out`."""
    sim = Sim(np.random.default_rng([seed, 20]), start)
    sim.truth = GroundTruth(NAME, seed, transfers, scenario_steps=list(STEPS))
    exchanges = _exchanges(sim)
    _background(sim, transfers, exchanges)
    _launder(sim, exchanges)
    for chain in ("ethereum", "bsc"):
        _write_etl(sim, chain, out / chain)
    _write_tron(sim, out / "tron")
    _write_labels(out, exchanges, seed)
    decimals = {"USDT": 6}
    doc = sim.truth.document(sim.ledger, decimals)
    for d in doc["dormant"]:  # the ledger keys Tron by hex; users write T…
        d["address"] = sim.shown(d["chain"], d["address"])
    doc["thief_addresses"] = {c: [sim.shown(c, a) for a in v] for c, v in doc["thief_addresses"].items()}
    doc["bridge_links"] = sim.links
    (out / "ground_truth.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    per_chain = defaultdict(int)
    for m in sim.moves:
        per_chain[m.chain] += 1
    return {"scenario": NAME, "seed": seed, "transfers_requested": transfers, "transfers_written": len(sim.moves),
            "per_chain": dict(per_chain), "offramps": len(doc["offramps"]), "steps": len(doc["steps"]),
            "bridge_links": sum(1 for x in sim.links if x["thief"])}


# ---- cast and background -------------------------------------------------------------------------------
def _exchanges(sim: Sim) -> list[dict]:
    out = []
    for ex_id, label, jurisdiction, weight in EXCHANGES:
        out.append({"id": ex_id, "label": label, "jurisdiction": jurisdiction, "weight": weight,
                    "hot": {c: sim.addr() for c in INTERVAL}})
    return out


def _usdt(sim: Sim, chain: str, dollars: float) -> int:
    return int(dollars * 100) * 10 ** (USDT_DECIMALS[chain] - 2)


def _background(sim: Sim, transfers: int, exchanges: list[dict]) -> None:
    """Ordinary users paying each other and exchanges (deposit addresses swept to hot wallets), and
    honest bridge use with the same fees and delays as the thief's."""
    rng = sim.rng
    evm_users = [sim.addr() for _ in range(max(100, transfers // 40))]
    tron_users = [sim.addr() for _ in range(max(100, transfers // 40))]
    share = {"ethereum": 0.4, "bsc": 0.3, "tron": 0.3}
    for chain, part in share.items():
        users = tron_users if chain == "tron" else evm_users
        native = CHAINS[chain].native
        n = int(transfers * part * 0.9)
        times = np.sort(rng.integers(sim.start + 60, sim.start + SPAN - 60, n))
        for t in times.tolist():
            usdt = rng.random() < 0.6
            asset = "USDT" if usdt else native
            amount = _usdt(sim, chain, float(rng.lognormal(6, 1.5))) if usdt else \
                int(rng.lognormal(0, 1.2) * 10 ** (CHAINS[chain].decimals - 1)) + 1
            kind = rng.random()
            if kind < 0.15:  # a deposit at an exchange, swept later
                ex = exchanges[int(rng.integers(len(exchanges)))]
                deposit = sim.addr()
                sim.move(chain, t, users[int(rng.integers(len(users)))], deposit, asset, amount)
                sim.move(chain, t + int(rng.integers(300, 7200)), deposit, ex["hot"][chain], asset, amount)
            elif kind < 0.25:  # a withdrawal from an exchange
                ex = exchanges[int(rng.integers(len(exchanges)))]
                sim.move(chain, t, ex["hot"][chain], users[int(rng.integers(len(users)))], asset, amount)
            else:
                a, b = rng.choice(len(users), 2, replace=False).tolist()
                sim.move(chain, t, users[a], users[b], asset, amount)
    n_bridge = max(20, transfers // 200)
    for entity, contracts in BRIDGES.items():
        a, b = sorted(contracts)
        for _ in range(n_bridge):
            src, dst = (a, b) if rng.random() < 0.5 else (b, a)
            t = int(rng.integers(sim.start + 60, sim.start + SPAN - 4 * 3600))
            user_src = (tron_users if src == "tron" else evm_users)[int(rng.integers(len(evm_users)))]
            user_dst = user_src if dst != "tron" and src != "tron" else \
                (tron_users if dst == "tron" else evm_users)[int(rng.integers(len(evm_users)))]
            dollars = float(rng.lognormal(9, 1.5))
            _bridge(sim, entity, src, dst, t, user_src, user_dst, _usdt(sim, src, dollars), thief=False)


def _bridge(sim: Sim, entity: str, src: str, dst: str, t: int, sender: str, receiver: str, amount: int,
            thief: bool) -> tuple[Move, Move]:
    """A deposit into the bridge on `src` and its release (less a 5-30 bps fee, 1-25 minutes later) on `dst`."""
    rng = sim.rng
    fee_bps = int(rng.integers(5, 31))
    common = amount * 10 ** (18 - USDT_DECIMALS[src])
    out_common = common * (10_000 - fee_bps) // 10_000
    out = out_common // 10 ** (18 - USDT_DECIMALS[dst])
    delay = int(rng.integers(60, 1500))
    contract_in, contract_out = BRIDGES[entity][src], BRIDGES[entity][dst]
    if thief:
        dep = sim.thief_move("bridge", src, t, sender, contract_in, amount, entity=entity, to_chain=dst)
        sim.ledger.debit(src, contract_in, "USDT", amount)
        rel = sim.move(dst, t + delay, contract_out, receiver, "USDT", out)
        sim.ledger.credit(dst, receiver, "USDT", out)
        sim.step("bridge_out", rel, entity=entity, from_chain=src)
        sim.truth.thief(dst, receiver)  # type: ignore[union-attr]
    else:
        dep = sim.move(src, t, sender, contract_in, "USDT", amount)
        rel = sim.move(dst, t + delay, contract_out, receiver, "USDT", out)
    sim.links.append({"bridge": entity, "in_chain": src, "in_tx": dep.tx, "out_chain": dst, "out_tx": rel.tx,
                      "thief": thief})
    return dep, rel


# ---- the theft ---------------------------------------------------------------------------------------------
def _launder(sim: Sim, exchanges: list[dict]) -> None:
    rng, truth = sim.rng, sim.truth
    assert truth is not None
    t = sim.start + 4 * 3600
    victim, main = sim.addr(), sim.addr()
    stolen = _usdt(sim, "ethereum", float(rng.integers(20_000_000, 60_000_000)))
    sim.ledger.credit("ethereum", victim, "USDT", stolen)
    theft = sim.thief_move("theft", "ethereum", t, victim, truth.thief("ethereum", main), stolen)
    truth.seeds.append({"chain": "ethereum", "tx_hash": theft.tx, "address": main})
    truth.stolen["ethereum", "USDT"] += stolen
    truth.theft_time = iso(t)
    hops = [truth.thief("ethereum", sim.addr()) for _ in range(int(rng.integers(3, 6)))]
    weights = rng.dirichlet([2.0] * len(hops))
    parts = [int(stolen * w) // 10**6 * 10**6 for w in weights]
    parts[-1] += stolen - sum(parts)
    for hop, amount in zip(hops, parts, strict=True):
        t1 = t + int(rng.integers(600, 3600))
        sim.thief_move("fan_out", "ethereum", t1, main, hop, amount)
        # Ethereum -> BSC to the same address (EVM keys work on both chains)
        t2 = t1 + int(rng.integers(600, 3600))
        _, rel = _bridge(sim, "SimPortal Bridge", "ethereum", "bsc", t2, hop, hop, amount, thief=True)
        # a decoy: an honest deposit of nearly the same amount minutes apart on the same bridge
        decoy = sim.addr()
        _bridge(sim, "SimPortal Bridge", "ethereum", "bsc", t2 + int(rng.integers(-900, 900)), decoy, decoy,
                amount * int(rng.integers(990, 1010)) // 1000, thief=False)
        # BSC -> Tron to a fresh Tron address
        t3 = rel.time + int(rng.integers(600, 5400))
        tron_holder = sim.addr()
        _, rel2 = _bridge(sim, "SimTron Bridge", "bsc", "tron", t3, hop, tron_holder, rel.amount, thief=True)
        _peel_on_tron(sim, rel2.time, tron_holder, rel2.amount, exchanges)


def _peel_on_tron(sim: Sim, t: int, holder: str, amount: int, exchanges: list[dict]) -> None:
    """Peel the USDT into 2-4 exchange deposit addresses over fresh hops; 5 % stays dormant at the holder."""
    rng, truth = sim.rng, sim.truth
    assert truth is not None
    left = amount - amount // 20
    current = holder
    n = int(rng.integers(2, 5))
    weights = np.array([e["weight"] for e in exchanges], dtype=float)
    for i in range(n):
        t += int(rng.integers(600, 3 * 3600))
        pay = left if i == n - 1 else left * int(rng.integers(20, 45)) // 100
        ex = exchanges[int(rng.choice(len(exchanges), p=weights / weights.sum()))]
        deposit = sim.addr()
        m = sim.thief_move("exchange_deposit", "tron", t, current, deposit, pay, entity=ex["label"],
                           jurisdiction=ex["jurisdiction"])
        truth.offramp("tron", tron_to_base58(deposit), _Ex(ex["label"], ex["jurisdiction"]), "USDT", pay, 0)
        sim.thief_move("exchange_sweep", "tron", m.time + int(rng.integers(300, 3600)), deposit, ex["hot"]["tron"],
                       pay)
        left -= pay
        if i < n - 1:
            nxt = truth.thief("tron", sim.addr())
            sim.thief_move("peel", "tron", t + int(rng.integers(60, 600)), current, nxt, left)
            current = nxt


@dataclass(frozen=True)
class _Ex:
    label: str
    jurisdiction: str


# ---- writers -------------------------------------------------------------------------------------------------
def _block(sim: Sim, chain: str, time: int) -> int:
    return (time - sim.start) // INTERVAL[chain] + 1


def _write_etl(sim: Sim, chain: str, out: Path) -> None:
    """ethereum-etl tables (bsc-etl writes the same); every block of the span, so coverage is whole."""
    out.mkdir(parents=True)
    interval = INTERVAL[chain]
    moves = sorted((m for m in sim.moves if m.chain == chain), key=lambda m: (m.time, m.tx))
    last = _block(sim, chain, sim.start + SPAN)
    with open(out / "blocks.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["number", "hash", "timestamp", "transaction_count"])
        for b in range(0, last + 1):
            w.writerow([b, "0x" + f"{b:064x}", sim.start + (b - 1) * interval if b else sim.start, ""])
    index: dict[int, int] = defaultdict(int)
    with open(out / "transactions.csv", "w", newline="") as fx, open(out / "token_transfers.csv", "w", newline="") as ft:
        wx, wt = csv.writer(fx), csv.writer(ft)
        wx.writerow(["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address", "to_address",
                     "value", "gas", "gas_price", "input", "block_timestamp", "receipt_status"])
        wt.writerow(["token_address", "from_address", "to_address", "value", "transaction_hash", "log_index",
                     "block_number"])
        for m in moves:
            b = _block(sim, chain, m.time)
            ts = sim.start + (b - 1) * interval
            i = index[b]
            index[b] += 1
            token = m.asset == "USDT"
            data = ("0xa9059cbb" + m.receiver[2:].rjust(64, "0") + f"{m.amount:064x}") if token else "0x"
            wx.writerow([m.tx, 0, "0x" + f"{b:064x}", b, i, m.sender, USDT[chain] if token else m.receiver,
                         0 if token else m.amount, 60000, 1, data, ts, 1])
            if token:
                wt.writerow([USDT[chain], m.sender, m.receiver, m.amount, m.tx, i, b])
    with open(out / "tokens.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["address", "symbol", "name", "decimals", "total_supply", "block_number"])
        w.writerow([USDT[chain], "USDT", "Tether USD", USDT_DECIMALS[chain], "", 1])


def _write_tron(sim: Sim, out: Path, blocks_per_file: int = 20_000) -> None:
    """java-tron full-node dumps: `getblockbylimitnext` pages of blocks, `gettransactioninfobyblocknum` lists."""
    out.mkdir(parents=True)
    moves = sorted((m for m in sim.moves if m.chain == "tron"), key=lambda m: (m.time, m.tx))
    by_block: dict[int, list[Move]] = defaultdict(list)
    for m in moves:
        by_block[_block(sim, "tron", m.time)].append(m)
    last = _block(sim, "tron", sim.start + SPAN)
    usdt41 = "41" + USDT["tron"][2:]
    transfer_topic = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    for lo in range(1, last + 1, blocks_per_file):
        blocks, infos = [], []
        for b in range(lo, min(last, lo + blocks_per_file - 1) + 1):
            ms = (sim.start + (b - 1) * INTERVAL["tron"]) * 1000
            txs = []
            for m in by_block.get(b, []):
                if m.asset == "USDT":
                    data = "a9059cbb" + m.receiver[2:].rjust(64, "0") + f"{m.amount:064x}"
                    value = {"data": data, "owner_address": "41" + m.sender[2:], "contract_address": usdt41}
                    kind = "TriggerSmartContract"
                    infos.append({"id": m.tx[2:], "blockNumber": b, "blockTimeStamp": ms, "contract_address": usdt41,
                                  "receipt": {"energy_usage_total": 14650, "net_usage": 345, "result": "SUCCESS"},
                                  "log": [{"address": usdt41[2:], "topics": [
                                      transfer_topic, m.sender[2:].rjust(64, "0"), m.receiver[2:].rjust(64, "0")],
                                      "data": f"{m.amount:064x}"}]})
                else:
                    value = {"amount": m.amount, "owner_address": "41" + m.sender[2:], "to_address": "41" + m.receiver[2:]}
                    kind = "TransferContract"
                txs.append({"ret": [{"contractRet": "SUCCESS"}], "txID": m.tx[2:],
                            "raw_data": {"contract": [{"parameter": {"value": value,
                                                                     "type_url": f"type.googleapis.com/protocol.{kind}"},
                                                       "type": kind}], "timestamp": ms}})
            blocks.append({"blockID": f"{b:016x}" + "0" * 48,
                           "block_header": {"raw_data": {"number": b, "timestamp": ms}}, **({"transactions": txs}
                                                                                            if txs else {})})
        (out / f"blocks-{lo:08d}.json").write_bytes(orjson.dumps({"block": blocks}))
        if infos:
            (out / f"blocks-{lo:08d}-info.json").write_bytes(orjson.dumps(infos))


def _write_labels(out: Path, exchanges: list[dict], seed: int) -> None:
    source = "https://example.org/trilateral/sim"

    def tag(label: str, address: str, chain: str, category: str, actor: str) -> dict:
        shown = tron_to_base58(address) if chain == "tron" else address
        return {"label": label, "address": shown, "currency": CURRENCY[chain], "category": category, "actor": actor,
                "confidence": "service_data", "source": source}

    tags, actors = [], []
    for ex in exchanges:
        tags += [tag(f"{ex['label']} hot wallet", a, c, "exchange", ex["id"]) for c, a in ex["hot"].items()]
        actors.append({"id": ex["id"], "label": ex["label"], "uri": f"https://{ex['id']}.example",
                       "categories": ["exchange"], "jurisdictions": [ex["jurisdiction"]]})
    for entity, contracts in BRIDGES.items():
        actor = entity.lower().replace(" ", "-")
        tags += [tag(f"{entity}: {c}", a, c, "bridge", actor) for c, a in contracts.items()]
        actors.append({"id": actor, "label": entity, "uri": f"https://{actor}.example", "categories": ["bridge"],
                       "jurisdictions": []})
    header = {"title": f"Trilateral simulation seed {seed} ({NAME}): service addresses", "creator": "trilateral sim",
              "description": "Exchange hot wallets and bridge contracts on Ethereum, BSC and Tron.",
              "is_public": True, "lastmod": "2026-01-01"}
    (out / "labels.yaml").write_text(yaml.safe_dump({**header, "tags": tags}, sort_keys=False))
    (out / "actors.yaml").write_text(yaml.safe_dump({**header, "actors": actors}, sort_keys=False))
