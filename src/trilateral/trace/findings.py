"""Findings JSON (DESIGN.md §4) from a trace result, its JSON schema, and `--explain` paths."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from trilateral.core.amount import format_units
from trilateral.trace.model import STEP_KINDS, WARNING_KINDS, Edge, TraceResult

FINDINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["policy", "seeds", "offramps", "stats", "holdings", "warnings"],
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
        "holdings": {"type": "array", "items": {
            "type": "object",
            "required": ["chain", "address", "asset", "amount_base_units", "confidence", "since"],
            "properties": {"chain": {"type": "string"}, "address": {"type": "string"}, "asset": {"type": "string"},
                           "amount_base_units": {"type": "string", "pattern": "^[0-9]+$"},
                           "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                           "since": {"type": ["string", "null"]}}}},
        "frozen": {"type": "array", "items": {
            "type": "object",
            "required": ["chain", "address", "asset", "amount_base_units", "issuer", "tx_hash", "block_time", "source"],
            "properties": {"chain": {"type": "string"}, "address": {"type": "string"}, "asset": {"type": "string"},
                           "amount_base_units": {"type": "string", "pattern": "^[0-9]+$"},
                           "issuer": {"type": "string"}, "tx_hash": {"type": ["string", "null"]},
                           "block_time": {"type": ["string", "null"]}, "source": {"type": "string"}}}},
        "warnings": {"type": "array", "items": {
            "type": "object", "required": ["kind", "chain", "address", "detail"],
            "properties": {"kind": {"enum": list(WARNING_KINDS)}, "chain": {"type": "string"},
                           "address": {"type": ["string", "null"]}, "detail": {"type": "string"}}}},
    },
}


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amounts(result: TraceResult, chain: str, asset: str, amount: int) -> dict[str, str]:
    decimals = result.decimals.get((chain, asset), 18 if chain != "bitcoin" else 8)
    return {"amount": format_units(amount, decimals), "amount_base_units": str(amount)}


def build_findings(result: TraceResult, incident: str | None = None) -> dict[str, Any]:
    """The `trace --json` document; amounts are exact decimal strings of base units. `incident`
    (an incident id or name) ties the findings to it for reports and letters."""
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
    doc = {
        "policy": result.policy,
        "incident": incident,
        "gaps": result.gaps,
        "seeds": result.seeds,
        "victims": [{"chain": c, "address": a} for c, a in sorted(result.victims)],
        "theft_time": iso(result.theft_time),
        "stolen": [{"chain": c, "asset": a, "amount_base_units": str(v)} for (c, a), v in sorted(result.stolen.items())],
        "offramps": offramps,
        "flows": flows,
        "mixer": {"crossed": [{"chain": c, "asset": a, "amount_base_units": str(v)}
                              for (c, a), v in sorted(result.mixer_flows.items())],
                  "links": result.mixer_links, "coinjoins": result.coinjoins},
        "stats": {"transfers_scanned": int(result.transfers_scanned), "seconds": round(result.seconds, 3),
                  "subgraph_transfers": int(result.subgraph_transfers),
                  "reached_addresses": int(result.reached_addresses),
                  "tainted_edges": len(result.edges)},
        "holdings": holdings_of(result),
        "presumed": [{"chain": c, "asset": a, "amount_base_units": str(v)}
                     for (c, a), v in sorted(result.presumed.items()) if v],
        "unexplained": [] if result.gaps == "clean" else
        [{k: v for k, v in u.items() if k != "time"} | {"time": iso(u["time"])} for u in result.unexplained
         if not u["never_received"]],
        "frozen": [{"chain": c, "address": a, **v, "block_time": iso(v.get("block_time"))}
                   for (c, a, _), v in sorted(result.frozen.items())],
        "totals": totals(result),
    }
    doc["warnings"] = warnings_of(result, doc)
    return doc


def holdings_of(result: TraceResult) -> list[dict[str, Any]]:
    """Stolen value still sitting at addresses that are not off-ramps, largest first."""
    out = []
    for (chain, address, asset), amount in sorted(result.holdings.items(), key=lambda kv: (-kv[1], kv[0])):
        conf, since = result.holding_info.get((chain, address, asset), (0.0, None))
        out.append({"chain": chain, "address": address, "asset": asset, "contract": result.contracts.get((chain, asset)),
                    **_amounts(result, chain, asset, amount),
                    "confidence": round(conf, 4), "since": iso(since) if since else None,
                    "frozen": (chain, address, asset) in result.frozen})
    return out


def totals(result: TraceResult) -> list[dict[str, Any]]:
    """Per chain and asset: the value basis (stolen, plus value presumed stolen under `--gaps
    taint`) and where it is. Poison marks rather than measures, so its figures are capped at the
    basis and flagged: no value figure ever exceeds 100 % of what was stolen."""
    keys = sorted(set(result.stolen) | set(result.presumed))
    out = []
    for chain, asset in keys:
        basis = result.stolen.get((chain, asset), 0) + result.presumed.get((chain, asset), 0)
        at_offramps = sum(c.taint_amount for (ch, _, a), c in result.offramps.items() if (ch, a) == (chain, asset))
        held = sum(v for (ch, _, a), v in result.holdings.items() if (ch, a) == (chain, asset))
        row = {"chain": chain, "asset": asset, "stolen_base_units": str(result.stolen.get((chain, asset), 0)),
               "presumed_base_units": str(result.presumed.get((chain, asset), 0)),
               "at_offramps_base_units": str(min(at_offramps, basis)), "held_base_units": str(min(held, basis))}
        if result.policy == "poison":
            row["capped"] = at_offramps > basis or held > basis
        out.append(row)
    return out


def warnings_of(result: TraceResult, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The trace's warnings, one per (kind, address): unexplained outflows summed per address, and,
    when nothing was found, a `nothing_found` warning that says why."""
    warnings = [dict(w) for w in result.warnings]
    missing: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(dict)
    for u in result.unexplained:
        if not u["never_received"]:
            got = missing[(u["chain"], u["address"])].setdefault(u["asset"], [0, 0, 0])
            got[0] += int(u["amount_base_units"])
            got[1] += int(u["presumed_stolen_base_units"])
            got[2] += 1
    for (chain, address), per in sorted(missing.items()):
        parts = [f"{_amounts(result, chain, a, v[0])['amount']} {a} in {v[2]} transfer(s)"
                 + (f", {_amounts(result, chain, a, v[1])['amount']} of it presumed stolen" if v[1] else "")
                 for a, v in sorted(per.items())]
        how = {"taint": "the data lacks where it came from; value is presumed stolen at the address's known "
                        "tainted share (--gaps taint)",
               "clean": "counted as clean (--gaps clean): stolen value may be missed here",
               "report": "counted as clean but listed under `unexplained` (--gaps report)"}[result.gaps]
        warnings.append({"kind": "outflow_exceeds_inflow", "chain": chain, "address": address,
                         "detail": f"{address} sent more than the data shows it receiving: {'; '.join(parts)}; "
                                   f"{how}"})
    if not doc["offramps"] and not doc["holdings"]:
        if any(w["kind"] == "seed_without_inflow" for w in warnings):
            why = "no stolen value enters the seeds in the data (add the theft transactions or use --after)"
        elif not result.stolen and not result.presumed:
            why = "the seeds moved no value in the data"
        else:
            why = "all stolen value left through steps the trace cannot follow (see flows.unresolved)"
        warnings.append({"kind": "nothing_found", "chain": doc["seeds"][0]["chain"] if doc["seeds"] else "",
                         "address": None, "detail": f"no off-ramps and no holdings: {why}"})
    order = {k: n for n, k in enumerate(WARNING_KINDS)}
    warnings.sort(key=lambda w: (order.get(w["kind"], 99), w["chain"], w["address"] or ""))
    return warnings


def edges_into(result: TraceResult) -> dict[str, list[Edge]]:
    """Tainted edges by target address (build once when explaining many addresses)."""
    into: dict[str, list[Edge]] = defaultdict(list)
    for e in result.edges:
        into[e.target].append(e)
    return into


def explain(result: TraceResult, address: str, limit: int = 20, max_depth: int = 60,
            into: dict[str, list[Edge]] | None = None) -> list[dict[str, Any]]:
    """Paths of tainted edges from the seeds to `address`, each step with its amount and confidence,
    strongest paths first (by the smallest tainted amount along the path)."""
    target = address.lower() if address.startswith("0x") else address
    into = edges_into(result) if into is None else into
    seeds = {s.get("address") for s in result.seeds if s.get("address")}
    seed_txs = {s.get("tx_hash") for s in result.seeds if s.get("tx_hash")}
    paths: list[list[Edge]] = []

    def walk(node: str, before: int, path: list[Edge], seen: set[str]) -> None:
        if len(paths) >= limit * 5 or len(path) > max_depth:
            return
        if node in seeds and path:
            paths.append(list(reversed(path)))
            return
        incoming = [e for e in into.get(node, []) if e.timestamp <= before]
        if path and path[-1].kind != "bridge":  # value leaves in the asset it came in (or crosses a swap
            last = path[-1]  # inside the swap's transaction), unless the data lacks that inflow
            same = [e for e in incoming if e.asset == last.asset or
                    (e.kind == last.kind == "dex_swap" and e.tx_hash == last.tx_hash)]
            if sum(e.tainted for e in same) >= last.tainted:  # else the rest was presumed from another asset
                incoming = same
        for e in sorted(incoming, key=lambda e: -e.tainted):
            swap_leg = bool(path) and path[-1].kind == "dex_swap" and e.kind == "dex_swap"
            if swap_leg and e.tx_hash != path[-1].tx_hash:
                continue  # through a DEX only inside its own swap transaction
            if swap_leg and len(path) > 1 and path[-2].kind == "dex_swap" and path[-2].tx_hash == e.tx_hash:
                continue  # both legs of this swap are on the path already
            if e.timestamp > before or (e.source in seen and not swap_leg):
                continue  # (a swap's input leg may come from the address its output went back to)
            if e.tx_hash in seed_txs:
                paths.append(list(reversed([*path, e])))
                continue
            walk(e.source, e.timestamp, [*path, e], seen | {e.source})

    walk(target, 1 << 62, [], {target})
    out = []
    seen_routes: set[tuple] = set()
    for p in sorted(paths, key=lambda p: -min(e.tainted for e in p)):
        route = tuple((e.source, e.target, e.asset) for e in p[1:])
        if route in seen_routes:
            continue  # differs from a stronger path only in its first step: not a distinct path
        seen_routes.add(route)
        conf = min((e.confidence for e in p), default=0.0)
        out.append({"hops": len(p), "confidence": round(conf, 4), "steps": _steps(result, p)})
        if len(out) >= limit:
            break
    return out


def _steps(result: TraceResult, path: list[Edge]) -> list[dict[str, Any]]:
    """The path's edges as steps; where the asset changes without a swap or bridge step, a
    `presumed` step says the engine took the new asset as stolen (an unexplained outflow)."""
    steps: list[dict[str, Any]] = []
    for k, e in enumerate(path):
        prev = path[k - 1] if k else None
        if prev is not None and e.asset != prev.asset and "bridge" not in (e.kind, prev.kind) and \
                not (e.kind == prev.kind == "dex_swap" and e.tx_hash == prev.tx_hash):
            steps.append({"chain": e.chain, "time": iso(e.timestamp), "tx_hash": None, "from": e.source,
                          "to": e.source, "asset": e.asset, "from_asset": prev.asset, "kind": "presumed",
                          **_amounts(result, e.chain, e.asset, e.tainted), "confidence": round(e.confidence, 4)})
        steps.append({"chain": e.chain, "time": iso(e.timestamp), "tx_hash": e.tx_hash, "from": e.source,
                      "to": e.target, "asset": e.asset, "kind": e.kind,
                      **_amounts(result, e.chain, e.asset, e.tainted), "confidence": round(e.confidence, 4)})
    return steps


def explain_text(paths: list[dict[str, Any]], address: str) -> str:
    if not paths:
        return f"no tainted path from the seeds reaches {address}"
    lines = [f"{len(paths)} path(s) from the seeds to {address}:"]
    for n, p in enumerate(paths, 1):
        lines.append(f"path {n}: {p['hops']} hop(s), confidence {p['confidence']}")
        for s in p["steps"]:
            if s["kind"] == "presumed":
                lines.append(f"  {s['time']} {s['chain']} presumed  {s['from']} sent {s['asset']} the data does not "
                             f"show it receiving; taken as its stolen {s['from_asset']} (--gaps taint)")
                continue
            lines.append(f"  {s['time']} {s['chain']} {s['kind']:<9} {s['from']} -> {s['to']}  "
                         f"{s['amount']} {s['asset']} tainted (conf {s['confidence']})  tx {s['tx_hash']}")
    return "\n".join(lines)
