"""Bridge links matched from the two chains' own data: a deposit into a labelled bridge contract on one
chain and a release out of the same bridge's contract on another, for the same asset, the same amount
less a fee, within a time window. Each link gets a confidence (how well it fits, and how many other
releases would fit as well) and is stored beside THORChain's links, so a trace crosses it.

The matching (`match`) is pure; `find_bridge_links` reads the store and the labels and writes links.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trilateral.chain.common import IngestReport
from trilateral.chain.schema import LINKS
from trilateral.chain.store import ChainStore
from trilateral.chain.writer import TableWriter, store_lock
from trilateral.core.amount import join_amount

WINDOW_SECONDS = 6 * 3600  # most bridges release within minutes; optimistic rollups' fast paths within hours
MAX_FEE_BPS = 100  # 1 %: bridge fees are a few basis points plus gas
MIN_CONFIDENCE = 0.3
SHARPNESS = 10.0  # how much a better fit outweighs its rivals (exp(10 x score difference))
COMMON_DECIMALS = 18
# the same asset under its wrapped / bridged tickers
SAME_ASSET = {"WETH": "ETH", "WBNB": "BNB", "BTCB": "BTC", "WBTC": "BTC", "USDC.E": "USDC", "BSC-USD": "USDT",
              "USDT.E": "USDT", "WAVAX": "AVAX", "WPOL": "POL", "WMATIC": "POL", "MATIC": "POL", "WTRX": "TRX"}


@dataclass(frozen=True)
class Move:
    """One transfer into (deposit) or out of (release) a bridge contract."""

    chain: str
    bridge: str  # the bridge's entity name
    tx: str
    time: int
    address: str  # the depositor (deposit) or the recipient (release), as users write it
    asset: str  # the link's asset name: ticker, or ticker-contract for a token
    canonical: str  # ticker with wrapped/bridged names folded (WETH -> ETH)
    amount: int  # base units
    decimals: int

    @property
    def common(self) -> int:
        """The amount in 18-decimal units, so USDT with 6 (Ethereum) and 18 (BSC) decimals compare."""
        return self.amount * 10 ** (COMMON_DECIMALS - self.decimals) if self.decimals <= COMMON_DECIMALS \
            else self.amount // 10 ** (self.decimals - COMMON_DECIMALS)


def _same_holder(a: str, b: str) -> bool:
    from trilateral.core.chains import tron_to_hex

    def key(x: str) -> str:
        try:
            return tron_to_hex(x)
        except Exception:  # noqa: BLE001 - a Bitcoin address or anything else: compare as written
            return x.lower()
    return key(a) == key(b)


def match(deposits: list[Move], releases: list[Move], window: int = WINDOW_SECONDS,
          max_fee_bps: int = MAX_FEE_BPS, min_confidence: float = MIN_CONFIDENCE) -> list[tuple[Move, Move, float]]:
    """One-to-one (deposit, release, confidence), best fits first.

    A release fits a deposit when it is the same bridge on another chain, the same canonical asset,
    `deposit x (1 - max_fee) <= release <= deposit` and it comes within `window` seconds after. Score:
    0.55 + 0.2 x (1 - fee / max fee) + 0.15 x (1 - delay / window) + 0.1 if the recipient is the
    depositor's own address. Confidence = score x the fit's share of exp(10 x score) among the rival
    fits of its deposit or its release (whichever has more), so two equal candidates get half each
    and an ambiguous match never looks certain, while a clearly better fit keeps most of its score."""
    by_key: dict[tuple[str, str], list[Move]] = defaultdict(list)
    for r in releases:
        by_key[(r.bridge, r.canonical)].append(r)
    for rs in by_key.values():
        rs.sort(key=lambda m: m.time)
    fits: list[tuple[float, Move, Move]] = []
    weight_of_release: dict[Move, float] = defaultdict(float)
    weight_of_deposit: dict[Move, float] = defaultdict(float)
    for d in deposits:
        rs = by_key.get((d.bridge, d.canonical), [])
        times = [r.time for r in rs]
        lo, hi = bisect.bisect_left(times, d.time), bisect.bisect_right(times, d.time + window)
        floor = d.common * (10_000 - max_fee_bps) // 10_000
        for r in rs[lo:hi]:
            if r.chain == d.chain or not floor <= r.common <= d.common:
                continue
            fee_fit = 1 - (d.common - r.common) / max(d.common - floor, 1)
            time_fit = 1 - (r.time - d.time) / window
            score = 0.55 + 0.2 * fee_fit + 0.15 * time_fit + (0.1 if _same_holder(d.address, r.address) else 0.0)
            fits.append((score, d, r))
            weight_of_release[r] += math.exp(SHARPNESS * score)
            weight_of_deposit[d] += math.exp(SHARPNESS * score)
    scored = []
    for score, d, r in fits:  # the fit's share among its rivals on the busier side
        w = math.exp(SHARPNESS * score)
        scored.append((round(score * w / max(weight_of_deposit[d], weight_of_release[r]), 4), d, r))
    scored.sort(key=lambda f: (-f[0], f[1].time, f[1].tx, f[2].tx))
    used_d: set[Move] = set()
    used_r: set[Move] = set()
    out = []
    for confidence, d, r in scored:
        if d in used_d or r in used_r or confidence < min_confidence:
            continue
        used_d.add(d)
        used_r.add(r)
        out.append((d, r, confidence))
    return out


def bridge_contracts(labels, chains: list[str]) -> dict[str, dict[str, str]]:
    """Per chain: {address as shown: bridge entity} for labels of category `bridge` (THORChain's vaults
    and router are left out: Midgard states those links)."""
    table = labels.table()
    rows = table.filter(pc.equal(table.column("category"), "bridge")).to_pylist() if table.num_rows else []
    out: dict[str, dict[str, str]] = {c: {} for c in chains}
    for row in rows:
        entity = row.get("entity") or row.get("actor") or row.get("label") or "bridge"
        if row["chain"] in out and "thorchain" not in entity.lower():
            out[row["chain"]][row["address"]] = entity
    return out


def moves_of(store: ChainStore, chain: str, contracts: dict[str, str]) -> tuple[list[Move], list[Move]]:
    """(deposits into, releases out of) the chain's bridge contracts."""
    if not contracts:
        return [], []
    texts = list(contracts)
    ids = store.address_ids(chain, texts)
    entity_of = {int(i): contracts[t] for i, t in zip(ids.tolist(), texts, strict=True) if i >= 0}
    if not entity_of:
        return [], []
    t = store.transfers(chain, columns=["timestamp", "tx_hash", "from_id", "to_id", "asset_id", "amount_hi",
                                        "amount_lo"])
    wanted = pa.array(sorted(entity_of), type=pa.int64())
    t = t.filter(pc.or_(pc.is_in(t.column("from_id"), value_set=wanted), pc.is_in(t.column("to_id"), value_set=wanted)))
    rows = t.to_pylist()
    other = sorted({r["from_id"] for r in rows} | {r["to_id"] for r in rows})
    shown = dict(zip(other, store.addresses(chain, other), strict=True))
    assets = {a["asset_id"]: a for a in store.assets(chain).to_pylist()}
    deposits, releases = [], []
    for r in rows:
        a = assets.get(r["asset_id"])
        if a is None or a["decimals"] is None:
            continue
        symbol = (a["symbol"] or f"asset:{r['asset_id']}").upper()
        name = symbol if a["contract"] is None else f"{symbol}-{a['contract']}"
        frm, to = entity_of.get(r["from_id"]), entity_of.get(r["to_id"])
        amount = join_amount(r["amount_hi"], r["amount_lo"])
        if to and not frm:
            deposits.append(Move(chain, to, r["tx_hash"], r["timestamp"], shown[r["from_id"]], name,
                                 SAME_ASSET.get(symbol, symbol), amount, int(a["decimals"])))
        elif frm and not to:
            releases.append(Move(chain, frm, r["tx_hash"], r["timestamp"], shown[r["to_id"]], name,
                                 SAME_ASSET.get(symbol, symbol), amount, int(a["decimals"])))
    return deposits, releases


def link_row(d: Move, r: Move, confidence: float) -> dict:
    fee_bps = (d.common - r.common) * 10_000 // max(d.common, 1)
    return {"timestamp": d.time, "source": f"bridge:{d.bridge}", "in_chain": d.chain, "in_tx": d.tx,
            "in_address": d.address, "in_asset": d.asset, "in_amount": str(d.amount), "out_chain": r.chain,
            "out_tx": r.tx, "out_address": r.address, "out_asset": r.asset, "out_amount": str(r.amount),
            "memo": f"{d.bridge}: fee {fee_bps} bps, released after {r.time - d.time} s", "memo_action": "bridge",
            "memo_asset": None, "memo_destination": r.address, "memo_limit": None, "memo_affiliate": None,
            "memo_fee_bps": str(fee_bps), "status": "matched", "height": None, "confidence": confidence}


def find_bridge_links(chain_dir: Path, labels, *, window: int = WINDOW_SECONDS, max_fee_bps: int = MAX_FEE_BPS,
                      min_confidence: float = MIN_CONFIDENCE) -> tuple[IngestReport, list[dict]]:
    """Match every ingested chain's bridge deposits to the other chains' releases; store new links."""
    store = ChainStore(chain_dir)
    chains = [c for c in store.chains() if store.model(c) == "account"]
    contracts = bridge_contracts(labels, chains)
    deposits, releases = [], []
    for chain in chains:
        d, r = moves_of(store, chain, contracts[chain])
        deposits += d
        releases += r
    matched = match(deposits, releases, window, max_fee_bps, min_confidence)
    rows = [link_row(d, r, c) for d, r, c in matched]
    report = IngestReport("crosschain", "bridges", batches=1)
    report.note(f"{len(deposits)} bridge deposit(s) and {len(releases)} release(s) on {', '.join(chains) or 'no chain'}"
                f"; {len(rows)} matched (window {window} s, fee up to {max_fee_bps} bps)")
    with store_lock(chain_dir):
        writer = TableWriter(chain_dir, "crosschain", "crosschain")
        existing = {(x["in_tx"], x["out_tx"]) for f in writer.files("links")
                    for x in pq.read_table(f, columns=["in_tx", "out_tx"]).to_pylist()}
        new = [x for x in rows if (x["in_tx"], x["out_tx"]) not in existing]
        key = "bridges:" + hashlib.sha256(json.dumps(sorted((x["in_tx"], x["out_tx"]) for x in new)).encode()
                                          ).hexdigest()[:24]
        if new and not writer.has_batch(key):
            staged: dict[str, Path] = {}
            try:
                n = writer.write_arrow_part("links", pa.Table.from_pylist(new, schema=LINKS), staged)
                times = [x["timestamp"] for x in new]
                writer.commit(key, staged, {"label": "bridge matching", "counts": {"links": n},
                                            "first_time": min(times), "last_time": max(times)})
            except BaseException:
                writer.discard(staged)
                raise
            report.batches_committed = 1
            report.add_rows({"links": n})
        else:
            report.batches_skipped = 1
    return report, rows
