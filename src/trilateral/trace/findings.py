"""Findings JSON (DESIGN.md §4) from a trace result, its JSON schema, and `--explain` paths."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from trilateral.core.amount import format_units
from trilateral.trace.model import STEP_KINDS, Edge, TraceResult

FINDINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["policy", "seeds", "offramps", "stats"],
    "properties": {
        "policy": {"enum": ["haircut", "poison", "fifo"]},
        "seeds": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["chain"],
            "properties": {"chain": {"type": "string"}, "address": {"type": "string"},
                           "tx_hash": {"type": "string"}},
            "anyOf": [{"required": ["address"]}, {"required": ["tx_hash"]}]}},
        "offramps": {"type": "array", "items": {
            "type": "object",
            "required": ["chain", "address", "entity", "category", "jurisdiction", "asset", "amount",
                         "amount_base_units", "first_seen", "hops", "confidence"],
            "properties": {
                "chain": {"type": "string"},
                "address": {"type": "string"},
                "entity": {"type": ["string", "null"]},
                "category": {"type": "string"},
                "jurisdiction": {"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
                "asset": {"type": "string"},
                "amount": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                "amount_base_units": {"type": "string", "pattern": "^[0-9]+$"},
                "first_seen": {"type": "string", "pattern": "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"},
                "hops": {"type": "integer", "minimum": 0},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "via_mixer_base_units": {"type": "string", "pattern": "^[0-9]+$"},
            }}},
        "stats": {"type": "object", "required": ["transfers_scanned", "seconds"],
                  "properties": {"transfers_scanned": {"type": "integer", "minimum": 0},
                                 "seconds": {"type": "number", "minimum": 0}}},
        "flows": {"type": "object", "propertyNames": {"enum": list(STEP_KINDS)}},
    },
}


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amounts(result: TraceResult, chain: str, asset: str, amount: int) -> dict[str, str]:
    decimals = result.decimals.get((chain, asset), 18 if chain != "bitcoin" else 8)
    return {"amount": format_units(amount, decimals), "amount_base_units": str(amount)}


def build_findings(result: TraceResult) -> dict[str, Any]:
    """The `trace --json` document; amounts are exact decimal strings of base units."""
    offramps = []
    for (chain, address, asset), credit in sorted(result.offramps.items(),
                                                  key=lambda kv: (-kv[1].taint_amount, kv[0])):
        if credit.taint_amount <= 0:
            continue
        role = result.roles.get((chain, address))
        offramps.append({
            "chain": chain, "address": address,
            "entity": role.entity if role else None,
            "category": (role.category if role and role.category else "exchange"),
            "jurisdiction": role.jurisdiction if role else None,
            "asset": asset, **_amounts(result, chain, asset, credit.taint_amount),
            "first_seen": iso(credit.first_seen), "hops": int(credit.hops),
            "confidence": round(min(1.0, credit.conf_mass / credit.taint_amount), 4),
            "via_mixer_base_units": str(credit.mixed),
            "deposit_address_of": role.hot_wallet if role and role.kind == "deposit" else None,
        })
    flows = {kind: [{"chain": c, "asset": a, "amount_base_units": str(v)}
                    for (c, a), v in sorted(result.flows[kind].items()) if v]
             for kind in STEP_KINDS}
    return {
        "policy": result.policy,
        "seeds": result.seeds,
        "theft_time": iso(result.theft_time),
        "stolen": [{"chain": c, "asset": a, "amount_base_units": str(v)} for (c, a), v in sorted(result.stolen.items())],
        "offramps": offramps,
        "flows": flows,
        "mixer": {"crossed": [{"chain": c, "asset": a, "amount_base_units": str(v)}
                              for (c, a), v in sorted(result.mixer_flows.items())],
                  "links": result.mixer_links},
        "stats": {"transfers_scanned": int(result.transfers_scanned), "seconds": round(result.seconds, 3),
                  "subgraph_transfers": int(result.subgraph_transfers),
                  "reached_addresses": int(result.reached_addresses),
                  "tainted_edges": len(result.edges)},
    }


def explain(result: TraceResult, address: str, limit: int = 20, max_depth: int = 60) -> list[dict[str, Any]]:
    """Paths of tainted edges from the seeds to `address`, each step with its amount and confidence,
    strongest paths first (by the smallest tainted amount along the path)."""
    target = address.lower() if address.startswith("0x") else address
    into: dict[str, list[Edge]] = defaultdict(list)
    for e in result.edges:
        into[e.target].append(e)
    seeds = {s.get("address") for s in result.seeds if s.get("address")}
    seed_txs = {s.get("tx_hash") for s in result.seeds if s.get("tx_hash")}
    paths: list[list[Edge]] = []

    def walk(node: str, before: int, path: list[Edge], seen: set[str]) -> None:
        if len(paths) >= limit * 5 or len(path) > max_depth:
            return
        if node in seeds and path:
            paths.append(list(reversed(path)))
            return
        for e in sorted(into.get(node, []), key=lambda e: -e.tainted):
            if e.timestamp > before or e.source in seen:
                continue
            if path and path[-1].kind == "dex_swap" and e.kind == "dex_swap" and e.tx_hash != path[-1].tx_hash:
                continue  # through a DEX only inside its own swap transaction
            if e.tx_hash in seed_txs:
                paths.append(list(reversed([*path, e])))
                continue
            walk(e.source, e.timestamp, [*path, e], seen | {e.source})

    walk(target, 1 << 62, [], {target})
    out = []
    for p in sorted(paths, key=lambda p: -min(e.tainted for e in p))[:limit]:
        conf = min((e.confidence for e in p), default=0.0)
        out.append({"hops": len(p), "confidence": round(conf, 4),
                    "steps": [{"chain": e.chain, "time": iso(e.timestamp), "tx_hash": e.tx_hash, "from": e.source,
                               "to": e.target, "asset": e.asset, "kind": e.kind,
                               **{k: v for k, v in _amounts(result, e.chain, e.asset, e.tainted).items()},
                               "confidence": round(e.confidence, 4)} for e in p]})
    return out


def explain_text(paths: list[dict[str, Any]], address: str) -> str:
    if not paths:
        return f"no tainted path from the seeds reaches {address}"
    lines = [f"{len(paths)} path(s) from the seeds to {address}:"]
    for n, p in enumerate(paths, 1):
        lines.append(f"path {n}: {p['hops']} hop(s), confidence {p['confidence']}")
        for s in p["steps"]:
            lines.append(f"  {s['time']} {s['chain']} {s['kind']:<9} {s['from']} -> {s['to']}  "
                         f"{s['amount']} {s['asset']} tainted (conf {s['confidence']})  tx {s['tx_hash']}")
    return "\n".join(lines)
