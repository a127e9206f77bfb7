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
    stolen: AssetTotals                       # stolen plus presumed stolen (the value the traces followed)
    by_kind: dict[str, AssetTotals]
    offramps: dict[str, AssetTotals]          # off-ramp category -> totals
    rows: list[dict[str, Any]]                # per (chain, asset): stolen, each kind, shares
    usd_stolen: Decimal | None = None         # only with prices, all entries priced
    usd_by_kind: dict[str, Decimal] = field(default_factory=dict)
    usd_offramps: dict[str, Decimal] = field(default_factory=dict)
    unpriced: int = 0
    sources: Sources = field(default_factory=Sources)
    trace_counts: dict[AssetKey, int] = field(default_factory=dict)  # traces that stole each asset
    held: AssetTotals = field(default_factory=AssetTotals)            # still at the thief's addresses
    frozen_held: AssetTotals = field(default_factory=AssetTotals)     # of which an issuer froze
    usd_held: Decimal = Decimal(0)
    usd_frozen_held: Decimal = Decimal(0)
    per_trace: list[dict[str, Any]] = field(default_factory=list)     # laundering route of each traced theft
    priced_assets: set[AssetKey] = field(default_factory=set)          # assets the prices could value

    def usd_share(self, kind: str) -> str:
        return percent(self.usd_by_kind.get(kind, Decimal(0)), self.usd_stolen or 0)

    def sankey(self) -> dict[str, Any] | None:
        """Values for the flow chart in one unit (USD, else the most traced asset): `kinds` (value that
        passed each kind of step; they overlap) and `destinations`, a split of the stolen value into
        where it ended that never exceeds it (`scaled` when off-ramps and holdings overlapped and
        were scaled down to the stolen value)."""
        if self.usd_stolen and not self.unpriced:
            unit, stolen = "USD", self.usd_stolen
            kinds = {k: v for k, v in self.usd_by_kind.items() if v}
            ends = {f"off-ramp: {c}": v for c, v in self.usd_offramps.items() if v}
            ends["frozen by issuer"] = self.usd_frozen_held
            ends["held by the thief"] = self.usd_held - self.usd_frozen_held
            chain = None
        elif self.stolen:
            def laundered(k: AssetKey) -> Decimal:
                return sum((Decimal(t.get(k)) / self.stolen.get(k) for t in self.by_kind.values()), Decimal(0))

            key = max(self.stolen.assets(), key=lambda k: (self.trace_counts.get(k, 0), k in self.priced_assets,
                                                           laundered(k), k))
            scale = Decimal(10) ** (decimals_of(key[1]) or 0)
            unit, chain, stolen = key[1], key[0], Decimal(self.stolen.get(key)) / scale
            kinds = {k: Decimal(t.get(key)) / scale for k, t in self.by_kind.items() if t.get(key)}
            ends = {f"off-ramp: {c}": Decimal(t.get(key)) / scale for c, t in self.offramps.items() if t.get(key)}
            ends["frozen by issuer"] = Decimal(self.frozen_held.get(key)) / scale
            ends["held by the thief"] = Decimal(self.held.get(key) - self.frozen_held.get(key)) / scale
        else:
            return None
        ends = {k: v for k, v in ends.items() if v > 0}
        total = sum(ends.values(), Decimal(0))
        scaled = total > stolen
        if scaled:  # a split, never an overlap: bands sum to the stolen value at most
            ends = {k: v * stolen / total for k, v in ends.items()}
        rest = stolen - sum(ends.values(), Decimal(0))
        if rest > 0:
            ends["not followed to an end"] = rest
        return {"unit": unit, "chain": chain, "stolen": float(stolen), "scaled": scaled,
                "kinds": {k: float(min(v, stolen)) for k, v in kinds.items()},
                "destinations": {k: float(v) for k, v in ends.items()}}


def presumed_entries(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """Value the trace presumed stolen (`--gaps taint`: addresses that sent more than the data shows them
    receiving), from its `totals`; it passes steps like stolen value, so shares are of stolen + presumed."""
    return [{"chain": t.get("chain"), "asset": t.get("asset"), "amount_base_units": t.get("presumed_base_units")}
            for t in trace.get("totals") or () if str(t.get("presumed_base_units") or "0").strip() not in ("", "0")]


def basis_entries(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """The value a trace followed: stolen plus presumed stolen, per chain and asset."""
    return list(trace.get("stolen") or ()) + presumed_entries(trace)


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
    stolen, presumed, by_kind = AssetTotals(), AssetTotals(), {k: AssetTotals() for k in STEP_KINDS}
    offramps: dict[str, AssetTotals] = defaultdict(AssetTotals)
    usd_stolen, usd_kind, usd_off = Decimal(0), defaultdict(Decimal), defaultdict(Decimal)
    held, frozen_held, usd_held, usd_frozen = AssetTotals(), AssetTotals(), Decimal(0), Decimal(0)
    per_trace: list[dict[str, Any]] = []
    priced_assets: set[AssetKey] = set()
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
        stolen.add_entries(basis_entries(obj))
        presumed.add_entries(presumed_entries(obj))
        for key in {(str(e.get("chain", "")), str(e.get("asset", ""))) for e in obj.get("stolen") or ()}:
            trace_counts[key] += 1
        for entry in basis_entries(obj):
            usd = value(entry, when)
            unpriced += usd is None
            if usd is not None:
                priced_assets.add((str(entry.get("chain", "")), str(entry.get("asset", ""))))
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
        for h in obj.get("holdings") or ():
            held.add_entries([h])
            usd = value(h, when)
            usd_held += usd or 0
            if h.get("frozen"):
                frozen_held.add_entries([h])
                usd_frozen += usd or 0
        per_trace.append(route_of(trace, incidents.get(obj.get("incident_ref", "")), when))
    rows = []
    keys = sorted(set(stolen.assets()) | {k for t in by_kind.values() for k in t.assets()})
    for chain, asset in keys:
        whole = stolen.get((chain, asset))
        row: dict[str, Any] = {"chain": chain, "asset": asset, "stolen": format_amount(whole, asset) if whole else "—"}
        if presumed.get((chain, asset)):
            row["stolen"] += f" (of which {format_amount(presumed.get((chain, asset)), asset)} presumed)"
        for kind in by_kind:
            part = by_kind[kind].get((chain, asset))
            row[kind] = format_amount(part, asset) if part else "—"
            row[kind + "_share"] = percent(part, whole) if part and whole else "—"
        rows.append(row)
    return FlowFigures(quarter, count, stolen, by_kind, dict(offramps), rows,
                       usd_stolen if prices and usd_stolen else None, dict(usd_kind), dict(usd_off),
                       unpriced if prices else 0, sources, dict(trace_counts), held, frozen_held, usd_held,
                       usd_frozen, per_trace, priced_assets)


def route_of(trace: Record, incident: Record | None, when: datetime) -> dict[str, Any]:
    """One traced theft's laundering route: per stolen asset, the share through each kind of step (largest
    first), the exchanges reached and the share still held, each figure from the trace object."""
    obj = trace.object
    name = str(incident.object.get("name")) if incident is not None else str(obj.get("incident") or trace.id)
    assets = []
    stolen = AssetTotals()
    stolen.add_entries(basis_entries(obj))
    for key in stolen.assets():
        whole = stolen.get(key)
        steps = []
        for kind, entries in (obj.get("flows") or {}).items():
            part = AssetTotals()
            part.add_entries(entries)
            if part.get(key):
                steps.append((kind, part.get(key)))
        steps.sort(key=lambda kv: -kv[1])
        held = AssetTotals()
        held.add_entries(obj.get("holdings"))
        assets.append({"chain": key[0], "asset": key[1], "stolen": format_amount(whole, key[1]),
                       "steps": [{"kind": k, "label": STEP_PHRASES.get(k, k), "share": percent(v, whole),
                                  "amount": format_amount(v, key[1])} for k, v in steps],
                       "held_share": percent(held.get(key), whole) if held.get(key) else None})
    entities: dict[str, int] = defaultdict(int)
    for off in obj.get("offramps") or ():
        entities[str(off.get("entity") or off.get("category") or "unlabelled")] += 1
    return {"name": name, "when": when, "policy": obj.get("policy"), "assets": assets,
            "exchanges": sorted(entities), "record": trace}
