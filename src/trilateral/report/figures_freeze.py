"""Freeze requests: per jurisdiction, requested vs frozen, and time from theft to the first request."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trilateral.report.amounts import AssetTotals, base_units_of, format_amount
from trilateral.report.figures_flows import percent
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, by_type, parse_time

STATUSES = ("requested", "frozen", "partially_frozen", "refused")
NO_JURISDICTION = "none"


@dataclass
class JurisdictionFreeze:
    jurisdiction: str
    routed_to: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    exchanges: set[str] = field(default_factory=set)
    requested: AssetTotals = field(default_factory=AssetTotals)
    frozen: AssetTotals = field(default_factory=AssetTotals)

    def amount_rows(self) -> list[dict[str, Any]]:
        keys = sorted(set(self.requested.assets()) | set(self.frozen.assets()))
        return [{"chain": c, "asset": a, "requested": format_amount(self.requested.get((c, a)), a),
                 "frozen": format_amount(self.frozen.get((c, a)), a),
                 "share": percent(self.frozen.get((c, a)), self.requested.get((c, a)))} for c, a in keys]


@dataclass
class FreezeFigures:
    quarter: Quarter
    jurisdictions: list[JurisdictionFreeze]
    total_requests: int
    statuses: Counter
    requested: AssetTotals
    frozen: AssetTotals
    first_request_delays: list[dict[str, Any]]     # per incident: theft, first request, hours
    median_hours_to_first_request: float | None
    sources: Sources
    requests: list[Record] = field(default_factory=list)   # the quarter's requests (last versions)
    issuer_frozen: list[dict[str, Any]] = field(default_factory=list)  # per issuer, chain, asset


ISSUER_OF_ASSET = {"USDT": "Tether", "USDC": "Circle"}


def _frozen_rows(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """The trace's `frozen` rows with asset and amount; rows of older traces (address and source only)
    take them from the trace's holdings marked frozen at that address."""
    held = {}
    for h in trace.get("holdings") or ():
        if h.get("frozen"):
            held.setdefault((h.get("chain"), h.get("address")), []).append(h)
    out = []
    for f in trace.get("frozen") or ():
        if f.get("amount_base_units") is not None:
            out.append(f)
        else:
            out += [{**h, **{k: v for k, v in f.items() if v is not None}}
                    for h in held.get((f.get("chain"), f.get("address")), ())]
    return out


def _issuer_frozen(traces: list[Record], quarter: Quarter, sources: Sources) -> list[dict[str, Any]]:
    """Stolen stablecoins an issuer blacklisted (the traces' `frozen`: blacklist events or labels),
    by the quarter of the blacklisting (the trace's creation when the time is unknown); an address
    seen by several traces counts once."""
    seen: dict[tuple[str, str, str, str], tuple[int, Record]] = {}
    for rec in traces:
        for f in _frozen_rows(rec.object):
            when = parse_time(f.get("block_time")) or parse_time(rec.object.get("created"))
            if not (when and quarter.contains(when)):
                continue
            asset = str(f.get("asset", ""))
            issuer = f.get("issuer") or ISSUER_OF_ASSET.get(asset.upper()) or "unknown issuer"
            key = (str(issuer), str(f.get("chain", "")), asset, str(f.get("address", "")))
            seen[key] = (max(seen.get(key, (0, rec))[0], base_units_of(f)), rec)
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (issuer, chain, asset, _), (amount, rec) in seen.items():
        totals[(issuer, chain, asset)][0] += amount
        totals[(issuer, chain, asset)][1] += 1
        sources.add(rec)
    return [{"issuer": i, "chain": c, "asset": a, "frozen": format_amount(v, a), "frozen_base_units": v,
             "addresses": n}
            for (i, c, a), (v, n) in sorted(totals.items())]


def _first_request_delays(requests: list[Record], incidents: dict[str, Record],
                          traces: dict[str, Record], quarter: Quarter) -> list[dict[str, Any]]:
    """Per theft (incident, else trace): first request of all time, kept when it falls in `quarter`."""
    first: dict[str, tuple[datetime, Record]] = {}
    for rec in requests:
        key = rec.object.get("incident_ref") or rec.object.get("trace_ref")
        when = parse_time(rec.object.get("requested_at"))
        if key and when and (key not in first or when < first[key][0]):
            first[key] = (when, rec)
    out = []
    for key, (when, rec) in sorted(first.items(), key=lambda kv: kv[1][0]):
        if not quarter.contains(when):
            continue
        trace = traces.get(str(rec.object.get("trace_ref")))
        theft = parse_time(trace.object.get("theft_time")) if trace else None
        if theft is None and key in incidents:  # the register's date; never `created` (that is not the theft)
            theft = parse_time(incidents[key].object.get("x_trilateral_date"))
        if theft is None:
            continue
        name = incidents[key].object.get("name", key) if key in incidents else key
        out.append({"incident": name, "theft": theft, "first_request": when,
                    "hours": round((when - theft).total_seconds() / 3600, 1) + 0.0, "record": rec,
                    "theft_record": incidents.get(key) or trace})
    return out


def freeze_figures(records: list[Record], quarter: Quarter) -> FreezeFigures:
    """Requests whose `requested_at` is in `quarter`, grouped by the exchange's jurisdiction."""
    groups = by_type(records)
    incidents = {r.id: r for r in groups.get("incident", [])}
    traces = {r.id: r for r in groups.get("x-trilateral-trace", [])}
    requests = groups.get("x-trilateral-freeze-request", [])
    in_quarter = [r for r in requests if quarter.contains(parse_time(r.object.get("requested_at")))]
    per: dict[str, JurisdictionFreeze] = {}
    requested_all, frozen_all, statuses = AssetTotals(), AssetTotals(), Counter()
    sources = Sources()
    for rec in in_quarter:
        obj = rec.object
        code = str(obj.get("jurisdiction") or NO_JURISDICTION)
        row = per.setdefault(code, JurisdictionFreeze(code))
        row.requests += 1
        row.statuses[str(obj.get("status", "requested"))] += 1
        statuses[str(obj.get("status", "requested"))] += 1
        row.routed_to.add(str(obj.get("routed_to") or "no member"))
        row.exchanges.add(str(obj.get("exchange", "")))
        row.requested.add_entries(obj.get("deposit_addresses"))
        row.frozen.add_entries(obj.get("frozen"))
        requested_all.add_entries(obj.get("deposit_addresses"))
        frozen_all.add_entries(obj.get("frozen"))
        sources.add(rec)
    delays = _first_request_delays(requests, incidents, traces, quarter)
    for d in delays:
        sources.add(d["record"])
        sources.add(d["theft_record"])
    hours = [d["hours"] for d in delays]
    jurisdictions = sorted(per.values(), key=lambda j: (-j.requests, j.jurisdiction))
    issuer_frozen = _issuer_frozen(groups.get("x-trilateral-trace", []), quarter, sources)
    return FreezeFigures(quarter, jurisdictions, len(in_quarter), statuses, requested_all, frozen_all, delays,
                         statistics.median(hours) if hours else None, sources, in_quarter, issuer_frozen)


def totals_rows(requested: AssetTotals, frozen: AssetTotals) -> list[dict[str, Any]]:
    keys = sorted(set(requested.assets()) | set(frozen.assets()))
    return [{"chain": c, "asset": a, "requested": format_amount(requested.get((c, a)), a),
             "frozen": format_amount(frozen.get((c, a)), a),
             "share": percent(frozen.get((c, a)), requested.get((c, a)))} for c, a in keys]


def group_by_status(figures: FreezeFigures) -> dict[str, list[int]]:
    """Per status, the count per jurisdiction (chart series in jurisdiction order)."""
    series: dict[str, list[int]] = defaultdict(list)
    for status in STATUSES:
        for j in figures.jurisdictions:
            series[status].append(j.statuses.get(status, 0))
    return dict(series)
