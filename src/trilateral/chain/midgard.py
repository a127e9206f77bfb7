"""THORChain Midgard v2 `/v2/actions` swaps as cross-chain links (crosschain/links/*.parquet).

Midgard states every amount as 1e8 fixed point whatever the asset; links store base units of the
asset's own chain: ETH ×10**10, BTC as is, ERC-20 scaled by the token's decimals (an out amount of a
token with fewer than 8 decimals is truncated, as THORChain's outbound does). Memos are parsed
(`SWAP:`, `=:`, `s:` forms: chain.asset:destination:limit/interval/quantity:affiliate:fee).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trilateral.chain.common import BadRow, IngestReport, advance, fail_strict, file_fingerprint, progress_bar
from trilateral.chain.schema import LINKS
from trilateral.chain.writer import TableWriter
from trilateral.core.chains import CHAINS as CHAINS_TABLE
from trilateral.core.chains import EVM_CHAINS
from trilateral.core.errors import InputError

CHAINS = {"ETH": "ethereum", "BTC": "bitcoin", "LTC": "litecoin", "BCH": "bitcoin-cash", "DOGE": "dogecoin",
          "BSC": "bsc", "AVAX": "avalanche", "GAIA": "cosmos", "THOR": "thorchain", "BASE": "base"}
NATIVE_DECIMALS = {"ETH.ETH": 18, "BTC.BTC": 8, "LTC.LTC": 8, "BCH.BCH": 8, "DOGE.DOGE": 8, "BSC.BNB": 18,
                   "AVAX.AVAX": 18, "GAIA.ATOM": 6, "THOR.RUNE": 8, "BASE.ETH": 18}
# ERC-20s THORChain lists, by contract (used when the ethereum store does not know the token yet)
KNOWN_TOKEN_DECIMALS = {
    "0xdac17f958d2ee523a2206206994597c13d831ec7": 6,   # USDT
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": 6,   # USDC
    "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": 8,   # WBTC
    "0x6b175474e89094c44da98b954eedeac495271d0f": 18,  # DAI
}
SHORT_ASSETS = {"a": "AVAX.AVAX", "b": "BTC.BTC", "c": "BCH.BCH", "n": "BNB.BNB", "s": "BSC.BNB", "d": "DOGE.DOGE",
                "e": "ETH.ETH", "g": "GAIA.ATOM", "l": "LTC.LTC", "r": "THOR.RUNE", "f": "BASE.ETH"}
SWAP_ACTIONS = {"swap", "s", "="}


def parse_memo(memo: str | None) -> dict[str, str | None]:
    """Fields of a THORChain swap memo; all None when the memo is not a swap."""
    out: dict[str, str | None] = {k: None for k in ("action", "asset", "destination", "limit", "affiliate", "fee_bps")}
    if not memo:
        return out
    parts = memo.split(":")
    if parts[0].strip().lower() not in SWAP_ACTIONS:
        return out
    names = ["asset", "destination", "limit", "affiliate", "fee_bps"]
    out["action"] = "swap"
    for name, value in zip(names, parts[1:], strict=False):
        out[name] = value or None
    if out["asset"]:
        out["asset"] = SHORT_ASSETS.get(out["asset"], out["asset"].upper() if "." in out["asset"] else out["asset"])
    return out


def _chain_of(asset: str) -> str:
    prefix = asset.split(".")[0].split("/")[0].split("~")[0].upper()
    return CHAINS.get(prefix, prefix.lower())


def _normalise_tx(chain: str, txid: str | None) -> str | None:
    if not txid:
        return None
    if chain in EVM_CHAINS:
        return "0x" + txid.lower().removeprefix("0x")
    return txid.lower()


def _normalise_address(chain: str, address: str | None) -> str | None:
    if address and chain in EVM_CHAINS:
        return address.lower()
    return address or None


class Decimals:
    """Decimals of a Midgard asset: natives, tokens the EVM chains' stores know (ETH, BSC, AVAX, BASE
    pools), then the chain table's stablecoins and a short list."""

    def __init__(self, chain_dir: Path) -> None:
        self.tokens: dict[tuple[str, str], int] = {("ethereum", c): d for c, d in KNOWN_TOKEN_DECIMALS.items()}
        for name in EVM_CHAINS:
            self.tokens.update({(name, c.lower()): d for c, (_, _, d) in CHAINS_TABLE[name].tokens.items()})
            assets = chain_dir / name / "assets.parquet"
            if assets.exists():
                for row in pq.read_table(assets).to_pylist():
                    if row["contract"] and row["decimals"] is not None:
                        self.tokens[(name, row["contract"])] = int(row["decimals"])

    def of(self, asset: str) -> int | None:
        key = asset.upper()
        if key in NATIVE_DECIMALS:
            return NATIVE_DECIMALS[key]
        if "-" in key and _chain_of(key) in EVM_CHAINS:
            return self.tokens.get((_chain_of(key), key.split("-", 1)[1].lower()))
        return None


def to_base_units(amount_1e8: str, decimals: int) -> int:
    """Midgard's 1e8 fixed-point amount in the asset's base units (exact up, truncating down)."""
    value = int(amount_1e8)
    if value < 0:
        raise ValueError(f"negative amount {amount_1e8}")
    return value * 10 ** (decimals - 8) if decimals >= 8 else value // 10 ** (8 - decimals)


def _links_of(action: dict[str, Any], decimals: Decimals, unknown: set[str]) -> list[dict[str, Any]]:
    swap = (action.get("metadata") or {}).get("swap") or {}
    memo = swap.get("memo")
    parsed = parse_memo(memo)
    ts = int(action["date"]) // 1_000_000_000
    links = []
    for vin in action.get("in") or []:
        for cin in vin.get("coins") or []:
            in_chain = _chain_of(cin["asset"])
            in_dec = decimals.of(cin["asset"])
            for vout in action.get("out") or []:
                for cout in vout.get("coins") or []:
                    out_chain = _chain_of(cout["asset"])
                    out_dec = decimals.of(cout["asset"])
                    for asset, dec in ((cin["asset"], in_dec), (cout["asset"], out_dec)):
                        if dec is None:
                            unknown.add(asset)
                    links.append({
                        "timestamp": ts, "source": "thorchain", "in_chain": in_chain,
                        "in_tx": _normalise_tx(in_chain, vin.get("txID")),
                        "in_address": _normalise_address(in_chain, vin.get("address")), "in_asset": cin["asset"],
                        "in_amount": None if in_dec is None else str(to_base_units(cin["amount"], in_dec)),
                        "out_chain": out_chain, "out_tx": _normalise_tx(out_chain, vout.get("txID")),
                        "out_address": _normalise_address(out_chain, vout.get("address")),
                        "out_asset": cout["asset"],
                        "out_amount": None if out_dec is None else str(to_base_units(cout["amount"], out_dec)),
                        "memo": memo, "memo_action": parsed["action"], "memo_asset": parsed["asset"],
                        "memo_destination": parsed["destination"], "memo_limit": parsed["limit"],
                        "memo_affiliate": parsed["affiliate"], "memo_fee_bps": parsed["fee_bps"],
                        "status": action.get("status"), "height": int(action["height"]) if action.get("height") else None,
                    })
    return links


def _link_key(row: dict[str, Any]) -> tuple:
    return (row["in_tx"], row["in_asset"], row["out_tx"], row["out_asset"], row["out_address"])


def ingest_midgard(chain_dir: Path, path: Path, *, strict: bool = False, show_progress: bool = True) -> IngestReport:
    """A Midgard actions response (or a directory of pages) → links, deduplicated by swap identity."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    writer = TableWriter(chain_dir, "crosschain", "crosschain")
    report = IngestReport("crosschain", str(path), batches=len(files))
    decimals = Decimals(chain_dir)
    existing = {_link_key(r) for f in writer.files("links") for r in pq.read_table(f).to_pylist()}
    ctx = progress_bar("ingest midgard", len(files)) if show_progress else None
    progress = ctx.__enter__() if ctx else None
    try:
        for file in files:
            key = f"midgard:{file_fingerprint(file)}"
            if writer.has_batch(key):
                report.batches_skipped += 1
                continue
            try:
                doc = json.loads(file.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(f"{file}:{exc.lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(doc, dict) or not isinstance(doc.get("actions"), list):
                raise InputError(f"{file}: not a Midgard v2 actions response (no 'actions' list)")
            rows, bad, unknown = [], [], set()
            for i, action in enumerate(doc["actions"]):
                if action.get("type") != "swap":
                    continue
                try:
                    for link in _links_of(action, decimals, unknown):
                        if _link_key(link) not in existing:
                            existing.add(_link_key(link))
                            rows.append(link)
                except (KeyError, TypeError, ValueError) as exc:
                    bad.append(BadRow(str(file), None, f"actions[{i}]: {type(exc).__name__}: {exc}"))
            if strict:
                fail_strict(bad)
            if unknown:
                report.note(f"no decimals known for {', '.join(sorted(unknown))}: those amounts are stored as null "
                            "(ingest the token's ethereum-etl tokens.csv first)")
            staged: dict[str, Path] = {}
            try:
                n = writer.write_arrow_part("links", pa.Table.from_pylist(rows, schema=LINKS), staged)
                times = [r["timestamp"] for r in rows]
                writer.commit(key, staged, {"label": str(file), "counts": {"links": n}, "bad_rows": len(bad),
                                            "first_time": min(times, default=None), "last_time": max(times, default=None)})
            except BaseException:
                writer.discard(staged)
                raise
            report.batches_committed += 1
            report.add_rows({"links": n})
            report.add_bad(bad)
            advance(progress, file.name, 1)
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    return report
