"""Top ATT&CK techniques of the quarter: `uses` relationships from incidents to attack-patterns, by month."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from trilateral.report.figures_incidents import incident_time, latest_trace_per_incident
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, by_type


@dataclass
class TechniqueFigures:
    quarter: Quarter
    techniques: list[dict[str, Any]]     # [{id, name, label, total, months: [n, n, n]}], most used first
    months: list[str]
    incidents: int                       # incidents of the quarter with at least one technique
    sources: Sources


def technique_label(pattern: dict[str, Any] | None, ref: str) -> tuple[str, str]:
    """(ATT&CK id such as 'T1566.001', name) of an attack-pattern; its STIX id when unreadable."""
    if not pattern:
        return ref, ref
    ext_id = next((e.get("external_id") for e in pattern.get("external_references") or ()
                   if e.get("source_name") in ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack")
                   and e.get("external_id")), None)
    return ext_id or ref, str(pattern.get("name") or ext_id or ref)


def technique_figures(records: list[Record], quarter: Quarter, top: int = 15) -> TechniqueFigures:
    """Count, per technique and month, the quarter's incidents that used it (each incident once)."""
    groups = by_type(records)
    incidents = {r.id: r for r in groups.get("incident", [])}
    patterns = {r.id: r for r in groups.get("attack-pattern", [])}
    traces = latest_trace_per_incident(groups.get("x-trilateral-trace", []))
    used: dict[str, set[str]] = defaultdict(set)       # technique ref -> incidents
    month_of: dict[str, str] = {}
    sources = Sources()
    for rel in groups.get("relationship", []):
        obj = rel.object
        src, dst = str(obj.get("source_ref", "")), str(obj.get("target_ref", ""))
        if obj.get("relationship_type") != "uses" or not dst.startswith("attack-pattern--") or src not in incidents:
            continue
        trace = traces.get(src)
        when = incident_time(incidents[src].object, trace.object if trace else None)
        if not quarter.contains(when):
            continue
        assert when is not None
        used[dst].add(src)
        month_of[src] = when.strftime("%Y-%m")
        sources.extend([rel, incidents[src]])
        sources.add(patterns.get(dst))
    months = quarter.months
    rows = []
    for ref, incs in used.items():
        ext_id, name = technique_label(patterns[ref].object if ref in patterns else None, ref)
        per_month = Counter(month_of[i] for i in incs)
        rows.append({"id": ext_id, "name": name, "label": f"{ext_id} {name}" if name != ext_id else ext_id,
                     "total": len(incs), "months": [per_month.get(m, 0) for m in months]})
    rows.sort(key=lambda r: (-r["total"], r["id"]))
    return TechniqueFigures(quarter, rows[:top], months, len(month_of), sources)
