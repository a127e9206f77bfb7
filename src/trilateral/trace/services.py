"""What a trace may publish about an address: services never shared as the thief's (labelled
non-thief addresses, contracts) and holdings an issuer has already frozen."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from trilateral.trace.loader import contract_ids
from trilateral.trace.model import TraceResult
from trilateral.trace.roles import is_thief_label

if TYPE_CHECKING:
    from trilateral.trace.engine import Tracer


def mark_frozen(tracer: Tracer, result: TraceResult) -> None:
    """Holding addresses a stablecoin issuer has blacklisted, from blacklist labels (e.g. GraphSense
    `usdt_blacklist`); blacklist events in the store are read by the engine (`frozen_by_events`)."""
    by_chain: dict[str, set[str]] = defaultdict(set)
    for chain, address, _ in result.holdings:
        by_chain[chain].add(address)
    for chain, addresses in by_chain.items():
        texts = sorted(addresses)
        if tracer.labels is not None:
            for text, labels in zip(texts, tracer.labels.lookup(chain, texts), strict=True):
                for lab in labels:
                    if (getattr(lab, "category", None) or "").lower() in ("black_list", "blacklist", "frozen"):
                        result.frozen.setdefault((chain, text), {"source": getattr(lab, "source", None) or "labels",
                                                                 "label": getattr(lab, "label", None)})

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


def frozen_by_events(result: TraceResult, chain: str, events: pa.Table, texts: dict[int, str]) -> None:
    """Holdings at addresses a blacklist event (`AddedBlackList`, `Blacklisted`, stored by the chain
    ingest as an event whose name contains `blacklist`, `to_id` the address) names."""
    events = events.filter(pc.fill_null(pc.match_substring(events.column("event"), "blacklist"), False))
    held = {a for c, a, _ in result.holdings if c == chain}
    for r in events.to_pylist():
        address = texts.get(r["to_id"]) if r["to_id"] is not None else None
        if address in held:
            result.frozen[(chain, address)] = {"source": "blacklist event", "tx_hash": r["tx_hash"]}
