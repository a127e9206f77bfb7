"""What a trace may publish about an address: services never shared as the thief's (labelled
non-thief addresses, contracts) and holdings an issuer has already frozen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from trilateral.trace.loader import contract_ids
from trilateral.trace.model import TraceResult
from trilateral.trace.roles import is_thief_label

if TYPE_CHECKING:
    from trilateral.trace.engine import Tracer


ISSUER_OF = {"USDT": "Tether", "USDC": "Circle"}
# Blacklist events as the chain ingest stores them: name -> (issuer, blacklists?)
BLACKLIST_EVENTS = {"AddedBlackList": ("Tether", True), "RemovedBlackList": ("Tether", False),
                    "Blacklisted": ("Circle", True), "UnBlacklisted": ("Circle", False)}


def frozen_entry(result: TraceResult, chain: str, address: str, asset: str, issuer: str, source: str,
                 tx_hash: str | None = None, block_time: int | None = None, **extra: object) -> dict:
    """One row of the findings' `frozen`: stolen tokens an issuer has blacklisted where they sit."""
    return {"asset": asset, "contract": result.contracts.get((chain, asset)),
            "amount_base_units": str(result.holdings[(chain, address, asset)]), "issuer": issuer,
            "tx_hash": tx_hash, "block_time": block_time, "source": source, **extra}


def mark_frozen(tracer: Tracer, result: TraceResult) -> None:
    """Stablecoin holdings at addresses a label marks as blacklisted (e.g. GraphSense
    `usdt_blacklist`); blacklist events in the store are read by the engine (`frozen_by_events`).
    A label names no asset, so every stolen USDT/USDC there counts (the issuer from the label text
    when it names one)."""
    by_chain: dict[str, set[str]] = defaultdict(set)
    for chain, address, asset in result.holdings:
        if asset in ISSUER_OF:
            by_chain[chain].add(address)
    for chain, addresses in by_chain.items():
        texts = sorted(addresses)
        if tracer.labels is None:
            continue
        for text, labels in zip(texts, tracer.labels.lookup(chain, texts), strict=True):
            for lab in labels:
                if (getattr(lab, "category", None) or "").lower() not in ("black_list", "blacklist", "frozen"):
                    continue
                words = f"{getattr(lab, 'label', '') or ''}".lower()
                for asset, issuer in ISSUER_OF.items():
                    named = [a for a in ISSUER_OF if a.lower() in words]
                    if (chain, text, asset) in result.holdings and (not named or asset in named) \
                            and (chain, text, asset) not in result.frozen:
                        result.frozen[(chain, text, asset)] = frozen_entry(
                            result, chain, text, asset, issuer, f"label ({getattr(lab, 'source', None) or 'labels'})",
                            label=getattr(lab, "label", None))


def service_addresses(tracer: Tracer, result: TraceResult) -> set[tuple[str, str]]:
    """The trace's addresses that must never be shared as the thief's: those with any label that
    does not name a thief (exchanges, DEXs, bridges, mixers, token contracts, the victim's
    wallets) and contracts the store shows (token contracts, senders of internal transfers)."""
    by_chain: dict[str, set[str]] = defaultdict(set)
    for e in result.edges:
        by_chain[e.chain].add(e.source)
        by_chain[e.target_chain or e.chain].add(e.target)
    for chain, address, _ in result.holdings:
        by_chain[chain].add(address)
    out: set[tuple[str, str]] = set()
    for chain, addresses in by_chain.items():
        texts = sorted(a for a in addresses if not a.startswith("id:"))
        if tracer.labels is not None and texts:
            for text, labels in zip(texts, tracer.labels.lookup(chain, texts), strict=True):
                if labels and not any(is_thief_label(lab) for lab in labels):
                    out.add((chain, text))
        if chain in tracer.store.chains() and tracer.store.model(chain) != "utxo" and texts:
            ids = [int(i) for i in tracer.store.address_ids(chain, texts).tolist() if i >= 0]
            contracts = contract_ids(tracer.con, tracer.store, chain, ids)
            out |= {(chain, t) for t in tracer.store.addresses(chain, sorted(contracts))}
    return out


def frozen_by_events(result: TraceResult, chain: str, read_events: Callable[[], pa.Table],
                     address_of: Callable[[list[int]], list[str]]) -> None:
    """Holdings of USDT/USDC at addresses their issuer's contract blacklisted (`AddedBlackList`,
    `Blacklisted`, stored by the chain ingest with `to_id` the address) and did not un-blacklist
    later in the data (at any time: a blacklisting before the theft still holds). Only the blacklisting
    contract's own token is frozen there. The events are read only when stablecoins are held."""
    if not any(c == chain and asset in ISSUER_OF for c, _, asset in result.holdings):
        return
    events = read_events()
    events = events.filter(pc.is_in(events.column("event"), pa.array(list(BLACKLIST_EVENTS))))
    if not events.num_rows:
        return
    rows = events.to_pylist()
    ids = sorted({r["to_id"] for r in rows if r["to_id"] is not None and r["to_id"] >= 0} |
                 {r["contract_id"] for r in rows})
    text = dict(zip(ids, address_of(ids), strict=True))
    latest: dict[tuple[str, str], dict] = {}  # (contract, address) -> last event, in block and log order
    for r in sorted(rows, key=lambda r: (r["block_number"], r["log_index"])):
        if r["to_id"] is not None and r["to_id"] >= 0:
            latest[(text[r["contract_id"]], text[r["to_id"]])] = r
    held = {(a, asset): result.contracts.get((c, asset)) for c, a, asset in result.holdings if c == chain}
    for (address, asset), contract in sorted(held.items()):
        issuer = ISSUER_OF.get(asset)
        r = latest.get((contract, address)) if contract else None
        if r is None or not issuer:
            continue
        by, blacklisted = BLACKLIST_EVENTS[r["event"]]
        if blacklisted:
            result.frozen[(chain, address, asset)] = frozen_entry(
                result, chain, address, asset, by, f"{r['event']} event", r["tx_hash"], r["timestamp"])
