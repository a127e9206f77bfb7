"""Case graph for the browser (pure: no I/O): edges merged per (from, to, asset), a layered layout
(seeds left, off-ramps and holdings right, by hop depth), and beyond a node budget, intermediate
addresses grouped into clusters per (chain, hop depth) and edges bundled, so a 50,000-edge case is a
readable picture instead of a blank page. Amounts stay integers in base units end to end."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from decimal import Decimal
from typing import Any, NamedTuple

from trilateral.core.amount import format_units

NODE_BUDGET = 6_000
EDGE_BUDGET = 12_000
DEFAULT_DECIMALS = {"BTC": 8, "USDT": 6, "USDC": 6, "RUNE": 8}
ROLE_COLOURS = {"seed": "#c0392b", "offramp": "#d35400", "holding": "#7d3c98", "address": "#34495e",
                "cluster": "#117a65"}
PINNED_ROLES = ("seed", "offramp", "holding")
HEIGHT = 100.0  # layout units; sigma scales the picture to its container


class Flow(NamedTuple):
    """One tainted transfer (or a merge of several) between two addresses."""

    source: str
    target: str
    chain: str
    asset: str
    amount: int
    confidence: float
    kind: str = "transfer"


def decimals_of(asset: str, known: dict[str, int]) -> int:
    return known.get(asset, DEFAULT_DECIMALS.get(asset.upper(), 18))


def decimals_from_offramps(offramps: list[dict[str, Any]]) -> dict[str, int]:
    """Asset decimals implied by the findings' pairs of amount and amount_base_units."""
    out: dict[str, int] = {}
    for o in offramps:
        try:
            base, shown = int(o["amount_base_units"]), Decimal(str(o["amount"]))
        except (KeyError, ValueError, ArithmeticError):
            continue
        if base > 0 and shown > 0:
            ratio = Decimal(base) / shown
            d = ratio.adjusted()
            if ratio == Decimal(10) ** d:
                out[o["asset"]] = d
    return out


def merge(flows: list[Flow]) -> list[Flow]:
    """One flow per (source, target, asset): amounts summed, confidence weighted by amount."""
    acc: dict[tuple[str, str, str], list[Any]] = {}
    for f in flows:
        key = (f.source, f.target, f.asset)
        slot = acc.setdefault(key, [f.chain, 0, 0.0, f.kind])
        slot[1] += f.amount
        slot[2] += f.confidence * max(f.amount, 1)
    return [Flow(s, t, c, a, amt, round(min(1.0, w / max(amt, 1)), 4), kind)
            for (s, t, a), (c, amt, w, kind) in acc.items()]


def depths(flows: list[Flow], seeds: set[str]) -> dict[str, int]:
    """Hops from the nearest seed along the flows (breadth first); unreached addresses get max + 1."""
    out_edges: dict[str, list[str]] = defaultdict(list)
    nodes: set[str] = set(seeds)
    for f in flows:
        out_edges[f.source].append(f.target)
        nodes.update((f.source, f.target))
    depth = {s: 0 for s in seeds}
    queue = deque(seeds)
    while queue:
        node = queue.popleft()
        for nxt in out_edges.get(node, ()):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    far = max(depth.values(), default=0) + 1
    return {n: depth.get(n, far) for n in nodes}


def build_graph(flows: list[Flow], roles: dict[str, str], labels: dict[str, str], *,
                decimals: dict[str, int] | None = None, node_budget: int = NODE_BUDGET,
                edge_budget: int = EDGE_BUDGET) -> dict[str, Any]:
    """Nodes with positions and edges with amounts for sigma.js; aggregated beyond the budgets."""
    decimals = decimals or {}
    flows = merge(flows)
    seeds = {a for a, r in roles.items() if r == "seed"}
    depth = depths(flows, seeds)
    for address in roles:
        depth.setdefault(address, max(depth.values(), default=0) + 1)
    inflow: dict[str, int] = defaultdict(int)
    chain_of: dict[str, str] = {}
    for f in flows:
        inflow[f.target] += f.amount
        chain_of.setdefault(f.source, f.chain)
        chain_of.setdefault(f.target, f.chain)
    aggregated = len(depth) > node_budget or len(flows) > edge_budget
    group = {n: n for n in depth}
    members: dict[str, list[str]] = defaultdict(list)
    if aggregated:
        pinned = sorted((n for n in depth if roles.get(n) in PINNED_ROLES), key=lambda n: -inflow[n])
        keep = set(pinned[: node_budget // 2])
        for n in depth:
            if n not in keep:
                group[n] = f"cluster:{chain_of.get(n, '?')}:{depth[n]}"
                members[group[n]].append(n)
    nodes = _nodes(group, depth, roles, labels, inflow, members, chain_of)
    edges, hidden_inside = _edges(flows, group, decimals)
    return {"nodes": nodes, "edges": edges, "aggregated": aggregated,
            "stats": {"addresses": len(depth), "flows": len(flows), "nodes": len(nodes), "edges": len(edges),
                      "clusters": len(members), "flows_inside_clusters": hidden_inside,
                      "node_budget": node_budget, "edge_budget": edge_budget}}


def _nodes(group: dict[str, str], depth: dict[str, int], roles: dict[str, str], labels: dict[str, str],
           inflow: dict[str, int], members: dict[str, list[str]], chain_of: dict[str, str]) -> list[dict[str, Any]]:
    layers: dict[int, list[str]] = defaultdict(list)
    gdepth: dict[str, int] = {}
    for n, g in group.items():
        if g not in gdepth:
            gdepth[g] = depth[n]
            layers[depth[n]].append(g)
    rank = {"seed": 0, "offramp": 1, "holding": 2}
    # The tallest layer spans the height, the layers share a 16:10 width: uniform spacing in every layer.
    tallest = max((len(k) for k in layers.values()), default=1)
    step_x = HEIGHT * 1.6 / max(1, len(layers) - 1)
    step_y = HEIGHT / max(1, tallest - 1)
    small = 2.0 if len(group) > 1000 else 3.0
    big = 7.0 if len(group) <= 200 else 4.0
    out = []
    for col, (d, keys) in enumerate(sorted(layers.items())):
        keys.sort(key=lambda g: (rank.get(roles.get(g, ""), 3), g))
        for i, g in enumerate(keys):
            if g in members:
                count = len(members[g])
                role, label = "cluster", f"{count:,} addresses, hop {d} ({g.split(':')[1]})"
                size = 4 + 3 * math.log10(count + 1)
                amount = sum(inflow[m] for m in members[g])
            else:
                count, role = 1, roles.get(g, "address")
                label = labels.get(g) or (g[:10] + "…" if len(g) > 12 else g)
                amount = inflow[g]
                size = (big if role in PINNED_ROLES else small) + math.log10(amount + 1) / 6
            out.append({"key": g, "label": label, "x": round(col * step_x, 3),
                        "y": round((i - (len(keys) - 1) / 2) * step_y, 3),
                        "size": round(size, 2), "color": ROLE_COLOURS[role], "role": role, "depth": d,
                        "count": count, "chain": chain_of.get(g) or (g.split(":")[1] if g in members else "")})
    return out


def _edges(flows: list[Flow], group: dict[str, str], decimals: dict[str, int]) -> tuple[list[dict[str, Any]], int]:
    bundles: dict[tuple[str, str, str], list[Any]] = {}
    inside = 0
    for f in flows:
        s, t = group[f.source], group[f.target]
        if s == t and s != f.source:
            inside += 1
            continue
        slot = bundles.setdefault((s, t, f.asset), [f.chain, 0, 0.0, 0])
        slot[1] += f.amount
        slot[2] += f.confidence * max(f.amount, 1)
        slot[3] += 1
    out = []
    for i, ((s, t, asset), (chain, amount, weighted, count)) in enumerate(bundles.items()):
        conf = round(min(1.0, weighted / max(amount, 1)), 4)
        text = format_units(amount, decimals_of(asset, decimals))
        out.append({"key": f"e{i}", "source": s, "target": t, "asset": asset, "chain": chain,
                    "amount_base_units": str(amount), "amount": text, "confidence": conf, "count": count,
                    "label": f"{text} {asset} · {conf:.2f}" + (f" · {count} flows" if count > 1 else ""),
                    "size": round(1 + min(4.0, math.log10(amount + 1) / 6), 2)})
    return out, inside


def path_to(flows: list[Flow], seeds: set[str], address: str, limit: int = 60) -> list[Flow]:
    """The shortest chain of flows from any seed to `address` (backwards breadth-first search)."""
    into: dict[str, list[Flow]] = defaultdict(list)
    for f in flows:
        into[f.target].append(f)
    prev: dict[str, Flow] = {}
    queue, seen = deque([address]), {address}
    while queue:
        node = queue.popleft()
        if node in seeds:
            path = []
            while node != address and node in prev:
                path.append(prev[node])
                node = prev[node].target
            return path[:limit]
        for f in sorted(into.get(node, ()), key=lambda f: -f.amount):
            if f.source not in seen:
                seen.add(f.source)
                prev[f.source] = f
                queue.append(f.source)
    return []
