"""The demo's closing table: stolen, traced to off-ramps, exchanges reached, freezes requested."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from trilateral.report.amounts import format_amount


def _totals(entries: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        totals[(e["chain"], e["asset"])] += int(e["amount_base_units"])
    return totals


def _text(totals: dict[tuple[str, str], int]) -> str:
    return "\n".join(f"{format_amount(v, asset)} ({chain})" for (chain, asset), v in sorted(totals.items())) or "—"


def summary_rows(summary: Any) -> list[tuple[str, str, str]]:
    """(label, amounts, jurisdiction) rows; every figure is summed from the demo's own outputs."""
    offramps = summary.findings.get("offramps", [])
    rows = [("Stolen", _text(_totals(summary.stolen)), ""),
            ("Traced to off-ramps", _text(_totals(offramps)), "")]
    exchanges: dict[str, set[str]] = defaultdict(set)
    for o in offramps:
        if o.get("entity"):
            exchanges[o.get("jurisdiction") or "unknown"].add(o["entity"])
    for where, names in sorted(exchanges.items()):
        rows.append(("Exchanges reached", ", ".join(sorted(names)), where))
    by_route: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in summary.freeze_requests:
        by_route[request.get("routed_to") or "no member jurisdiction"].extend(request["deposit_addresses"])
    for route, deposits in sorted(by_route.items()):
        rows.append(("Freeze requested", _text(_totals(deposits)), route))
    return rows
