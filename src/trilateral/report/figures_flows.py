"""Where the money went: value through each kind of laundering step and off-ramp, from x-trilateral-trace."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from trilateral.report.amounts import AssetKey, AssetTotals, Prices, base_units_of, decimals_of, format_amount
from trilateral.report.figures_incidents import incident_time
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, by_type, parse_time

STEP_KINDS = ("dex_swap", "mixer", "bridge", "exchange", "unresolved")
STEP_LABELS = {"dex_swap": "DEX swaps", "mixer": "Mixers", "bridge": "Bridges", "exchange": "Exchanges",
               "unresolved": "Unresolved"}
STEP_PHRASES = {"dex_swap": "DEX swaps", "mixer": "mixers", "bridge": "bridges", "exchange": "exchanges",
                "unresolved": "unresolved steps"}


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    """'45.0 %' to one decimal (half-even); '—' when the whole is zero."""
    if not whole:
        return "—"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.1'))} %"


@dataclass
class FlowFigures:
    quarter: Quarter
    traces: int
    stolen: AssetTotals
    by_kind: dict[str, AssetTotals]
    offramps: dict[str, AssetTotals]          # off-ramp category -> totals
    rows: list[dict[str, Any]]                # per (chain, asset): stolen, each kind, shares
    usd_stolen: Decimal | None = None         # only with prices, all entries priced
    usd_by_kind: dict[str, Decimal] = field(default_factory=dict)
    usd_offramps: dict[str, Decimal] = field(default_factory=dict)
    unpriced: int = 0
    sources: Sources = field(default_factory=Sources)
    trace_counts: dict[AssetKey, int] = field(default_factory=dict)  # traces that stole each asset

    def usd_share(self, kind: str) -> str:
        return percent(self.usd_by_kind.get(kind, Decimal(0)), self.usd_stolen or 0)

    def sankey(self) -> dict[str, Any] | None:
        """Node values for the flow diagram: one unit (USD, else the largest stolen asset)."""
        if self.usd_stolen and not self.unpriced:
            return {"unit": "USD", "stolen": float(self.usd_stolen),
                    "kinds": {k: float(v) for k, v in self.usd_by_kind.items() if v},
                    "offramps": {c: float(v) for c, v in self.usd_offramps.items() if v}}
        if not self.stolen:
            return None
        def laundered(k: AssetKey) -> Decimal:
            return sum((Decimal(t.get(k)) / self.stolen.get(k) for t in self.by_kind.values()), Decimal(0))

        key = max(self.stolen.assets(), key=lambda k: (self.trace_counts.get(k, 0), laundered(k), k))
        dec = decimals_of(key[1]) or 0
        scale = float(10 ** dec)
        return {"unit": key[1], "chain": key[0], "stolen": self.stolen.get(key) / scale,
                "kinds": {k: t.get(key) / scale for k, t in self.by_kind.items() if t.get(key)},
                "offramps": {c: t.get(key) / scale for c, t in self.offramps.items() if t.get(key)}}


def _trace_time(trace: dict[str, Any], incidents: dict[str, Record]) -> datetime | None:
    moment = parse_time(trace.get("theft_time"))
    if moment is None and trace.get("incident_ref") in incidents:
        moment = incident_time(incidents[trace["incident_ref"]].object, None)
    return moment


def flow_figures(records: list[Record], quarter: Quarter, prices: Prices | None = None) -> FlowFigures:
    """Sum the latest trace per incident (or each trace without an incident) whose theft is in `quarter`."""
    groups = by_type(records)
    incidents = {r.id: r for r in groups.get("incident", [])}
    latest: dict[str, Record] = {}
    for trace in groups.get("x-trilateral-trace", []):
        key = trace.object.get("incident_ref") or trace.id
        if key not in latest or trace.object.get("modified", "") > latest[key].object.get("modified", ""):
            latest[key] = trace
    stolen, by_kind = AssetTotals(), {k: AssetTotals() for k in STEP_KINDS}
    offramps: dict[str, AssetTotals] = defaultdict(AssetTotals)
    usd_stolen, usd_kind, usd_off = Decimal(0), defaultdict(Decimal), defaultdict(Decimal)
    unpriced, sources, count = 0, Sources(), 0
    trace_counts: dict[AssetKey, int] = defaultdict(int)

    def value(entry: dict[str, Any], when: datetime) -> Decimal | None:
        asset = str(entry.get("asset", ""))
        return prices.usd(base_units_of(entry), asset, when.date(), decimals_of(asset, entry.get("decimals"))) \
            if prices else None

    for trace in sorted(latest.values(), key=lambda r: r.id):
        obj = trace.object
        when = _trace_time(obj, incidents)
        if not quarter.contains(when):
            continue
        assert when is not None
        count += 1
        sources.add(trace)
        sources.add(incidents.get(obj.get("incident_ref", "")))
        stolen.add_entries(obj.get("stolen"))
        for key in {(str(e.get("chain", "")), str(e.get("asset", ""))) for e in obj.get("stolen") or ()}:
            trace_counts[key] += 1
        for entry in obj.get("stolen") or ():
            usd = value(entry, when)
            unpriced += usd is None
            usd_stolen += usd or 0
        for kind, entries in (obj.get("flows") or {}).items():
            by_kind.setdefault(kind, AssetTotals()).add_entries(entries)
            for entry in entries or ():
                usd = value(entry, when)
                unpriced += usd is None
                usd_kind[kind] += usd or 0
        for off in obj.get("offramps") or ():
            category = str(off.get("category") or "unlabelled")
            offramps[category].add_entries([off])
            usd = value(off, when)
            unpriced += usd is None
            usd_off[category] += usd or 0
    rows = []
    keys = sorted(set(stolen.assets()) | {k for t in by_kind.values() for k in t.assets()})
    for chain, asset in keys:
        whole = stolen.get((chain, asset))
        row: dict[str, Any] = {"chain": chain, "asset": asset, "stolen": format_amount(whole, asset) if whole else "—"}
        for kind in by_kind:
            part = by_kind[kind].get((chain, asset))
            row[kind] = format_amount(part, asset) if part else "—"
            row[kind + "_share"] = percent(part, whole) if part and whole else "—"
        rows.append(row)
    return FlowFigures(quarter, count, stolen, by_kind, dict(offramps), rows,
                       usd_stolen if prices and usd_stolen else None, dict(usd_kind), dict(usd_off),
                       unpriced if prices else 0, sources, dict(trace_counts))
