"""Incidents figures: DPRK-attributed thefts this quarter and in the trailing quarters, value, actor."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trilateral.attribution.actors import ActorCatalog
from trilateral.report.actor_names import ActorNamer, NamedActor, report_catalog
from trilateral.report.amounts import (
    AssetTotals,
    Prices,
    base_units_of,
    decimals_of,
    format_amount,
    format_usd,
)
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, by_type, parse_time

# ATT&CK intrusion sets ATT&CK describes as North Korean (../shared/data SOURCES.md), with names and
# the aliases incident sources use; an attribution to any of them makes an incident DPRK-attributed.
DPRK_ATTACK_IDS = frozenset({"G0032", "G0082", "G0138", "G0094", "G0067", "G1036", "G1049", "G1052", "G0086"})
DPRK_NAMES = frozenset(n.lower() for n in (
    "Lazarus Group", "APT38", "Andariel", "Kimsuky", "APT37", "Moonstone Sleet", "AppleJeus",
    "Contagious Interview", "Stolen Pencil", "BlueNoroff", "TraderTraitor", "Jade Sleet", "Sapphire Sleet",
    "Citrine Sleet", "Hidden Cobra", "ScarCruft", "Famous Chollima"))


def is_dprk_actor(name: str, pattern: dict[str, Any] | None) -> bool:
    """True for one of ATT&CK's DPRK groups: by ATT&CK id, name or alias (of the object or the text)."""
    if pattern:
        ids = {e.get("external_id") for e in pattern.get("external_references") or ()}
        names = {str(pattern.get("name", "")).lower()} | {str(a).lower() for a in pattern.get("aliases") or ()}
        if ids & DPRK_ATTACK_IDS or names & DPRK_NAMES:
            return True
    text = name.lower()
    return any(g.lower() in text for g in DPRK_ATTACK_IDS) or any(n in text for n in DPRK_NAMES)


@dataclass
class Attribution:
    actor: str
    actor_ref: str
    confidence: int | None
    record: Record


@dataclass
class IncidentRow:
    id: str
    name: str
    when: datetime
    quarter: Quarter
    actor: str
    confidence: int | None
    cluster: str
    stolen: AssetTotals
    usd: Decimal | None
    usd_basis: str  # "source" | "prices" | "partly priced" | "none"
    record: Record
    dprk: bool = True  # the register's cluster (a DPRK cluster by the source), or attributed to a DPRK group
    named: NamedActor | None = None  # the canonical actor (aliases, umbrella) when the catalogue knows it
    linked: list[str] = field(default_factory=list)  # names of the incidents merged into this one (dedup)

    @property
    def stolen_text(self) -> str:
        return "; ".join(r["text"] for r in self.stolen.rows()) or "—"

    @property
    def usd_text(self) -> str:
        return format_usd(self.usd)


@dataclass
class QuarterTotals:
    quarter: Quarter
    count: int = 0
    usd_source: Decimal = Decimal(0)
    usd_priced: Decimal = Decimal(0)
    usd_unknown: int = 0
    stolen: AssetTotals = field(default_factory=AssetTotals)
    largest_usd: Decimal | None = None

    @property
    def usd_total(self) -> Decimal:
        return self.usd_source + self.usd_priced


@dataclass
class IncidentFigures:
    quarter: Quarter
    rows: list[IncidentRow]                    # this quarter, by date
    per_quarter: list[QuarterTotals]           # history for the trend chart, oldest first
    this_quarter: QuarterTotals
    trailing: QuarterTotals                    # the four quarters ending with this one
    actors: list[dict[str, Any]]               # this quarter and trailing, by actor
    sources: Sources
    other_rows: list[IncidentRow] = field(default_factory=list)   # this quarter, not DPRK-attributed
    previous: QuarterTotals | None = None                         # the quarter before, for "what changed"
    previous_rows: list[IncidentRow] = field(default_factory=list)


def incident_time(incident: dict[str, Any], trace: dict[str, Any] | None) -> datetime | None:
    """When the theft happened: the register's date, else the trace's theft time, else first_seen/created."""
    for value in (incident.get("x_trilateral_date"), (trace or {}).get("theft_time"),
                  incident.get("first_seen"), incident.get("created")):
        moment = parse_time(value)
        if moment is not None:
            return moment
    return None


def latest_trace_per_incident(traces: list[Record]) -> dict[str, Record]:
    best: dict[str, Record] = {}
    for trace in traces:
        ref = trace.object.get("incident_ref")
        if ref and (ref not in best or trace.object.get("modified", "") > best[ref].object.get("modified", "")):
            best[ref] = trace
    return best


def actor_name(rel: dict[str, Any], names: dict[str, str]) -> str:
    """The intrusion set's name when readable; else the name the relationship's description gives
    ('Trilateral attribution: Lazarus Group (G0032)', as the attribution capability writes it)."""
    if rel["target_ref"] in names:
        return names[rel["target_ref"]]
    match = re.search(r"attribution:\s*(.+)$", str(rel.get("description") or ""))
    return match.group(1).strip() if match else rel["target_ref"]


def attributions(records: list[Record], names: dict[str, str]) -> dict[str, Attribution]:
    """Best `attributed-to` per incident: highest confidence, then the newest."""
    best: dict[str, Attribution] = {}
    for rel in records:
        obj = rel.object
        if obj.get("relationship_type") != "attributed-to" or not str(obj.get("source_ref", "")).startswith("incident--"):
            continue
        conf = obj.get("confidence")
        att = Attribution(actor_name(obj, names), obj["target_ref"],
                          int(conf) if conf is not None else None, rel)
        key = obj["source_ref"]
        old = best.get(key)
        rank = ((att.confidence if att.confidence is not None else -1), obj.get("modified", ""))
        if old is None or rank > ((old.confidence if old.confidence is not None else -1),
                                  old.record.object.get("modified", "")):
            best[key] = att
    return best


def _usd(incident: dict[str, Any], stolen: list[dict[str, Any]], when: datetime,
         prices: Prices | None) -> tuple[Decimal | None, str]:
    stated = incident.get("x_trilateral_usd_stolen")
    if stated not in (None, ""):
        try:
            return Decimal(str(stated)), "source"
        except InvalidOperation:
            pass
    if not prices or not stolen:
        return None, "none"
    total, priced = Decimal(0), 0
    for entry in stolen:
        value = prices.usd(base_units_of(entry), str(entry.get("asset", "")), when.date(),
                           decimals_of(str(entry.get("asset", "")), entry.get("decimals")))
        if value is not None:
            total += value
            priced += 1
    if priced == 0:
        return None, "none"
    return total, "prices" if priced == len(stolen) else "partly priced"


def incident_rows(records: list[Record], prices: Prices | None = None,
                  actors: ActorCatalog | None = None) -> list[IncidentRow]:
    """Every readable incident with its date, canonical actor, stolen amounts and USD (source-stated first)."""
    namer = ActorNamer(report_catalog(records, actors))
    groups = by_type(records)
    sets = {r.id: r.object for r in groups.get("intrusion-set", [])}
    names = {k: str(v.get("name", k)) for k, v in sets.items()}
    traces = latest_trace_per_incident(groups.get("x-trilateral-trace", []))
    attrib = attributions(groups.get("relationship", []), names)
    rows: list[IncidentRow] = []
    for rec in groups.get("incident", []):
        obj = rec.object
        trace = traces.get(rec.id)
        when = incident_time(obj, trace.object if trace else None)
        if when is None:
            continue
        stolen_entries = obj.get("x_trilateral_stolen") or (trace.object.get("stolen") if trace else None) or []
        stolen = AssetTotals()
        stolen.add_entries(stolen_entries)
        usd, basis = _usd(obj, stolen_entries, when, prices)
        att = attrib.get(rec.id)
        cluster = str(obj.get("x_trilateral_cluster") or "")
        named = namer(att.actor, sets.get(att.actor_ref, {}).get("name")) if att else namer(cluster)
        dprk = bool(cluster) or (att is not None and is_dprk_actor(att.actor, sets.get(att.actor_ref))) or \
            (named is not None and named.dprk)
        actor = named.name if named is not None else "unattributed"
        linked = [str(x.get("name", "")) for x in obj.get("x_trilateral_linked") or ()]
        rows.append(IncidentRow(rec.id, str(obj.get("name", rec.id)), when, Quarter.of(when), actor,
                                att.confidence if att else None, cluster, stolen, usd, basis, rec, dprk, named,
                                linked))
    rows.sort(key=lambda r: (r.when, r.name))
    return rows


def _totals(quarter: Quarter, rows: list[IncidentRow]) -> QuarterTotals:
    totals = QuarterTotals(quarter)
    for row in rows:
        totals.count += 1
        for (chain, asset), amount in row.stolen.totals.items():
            totals.stolen.add((chain, asset), amount)
        if row.usd is not None and (totals.largest_usd is None or row.usd > totals.largest_usd):
            totals.largest_usd = row.usd
        if row.usd is None:
            totals.usd_unknown += 1
        elif row.usd_basis == "source":
            totals.usd_source += row.usd
        else:
            totals.usd_priced += row.usd
    return totals


def incident_figures(records: list[Record], quarter: Quarter, prices: Prices | None = None,
                     history: int = 8, actors: ActorCatalog | None = None) -> IncidentFigures:
    """This quarter's incidents, the trailing four quarters, and `history` quarters for the trend chart."""
    every = incident_rows(records, prices, actors)
    rows = [r for r in every if r.dprk]
    others = [r for r in every if not r.dprk and r.quarter == quarter]
    by_quarter: dict[Quarter, list[IncidentRow]] = defaultdict(list)
    for row in rows:
        by_quarter[row.quarter].append(row)
    trailing_quarters = quarter.trailing(4)
    trailing_rows = [r for q in trailing_quarters for r in by_quarter.get(q, [])]
    trailing = _totals(quarter, trailing_rows)
    this_rows = by_quarter.get(quarter, [])
    sources = Sources()
    for row in trailing_rows:
        sources.add(row.record)
    groups = by_type(records)
    names = {r.id: r for r in groups.get("intrusion-set", [])}
    attrib = attributions(groups.get("relationship", []), {})
    traces = latest_trace_per_incident(groups.get("x-trilateral-trace", []))
    for row in trailing_rows:
        if row.id in attrib:
            sources.add(attrib[row.id].record)
            sources.add(names.get(attrib[row.id].actor_ref))
        if not row.record.object.get("x_trilateral_stolen") and row.id in traces:
            sources.add(traces[row.id])
    actor_q = Counter(r.actor for r in this_rows)
    actor_t = Counter(r.actor for r in trailing_rows)
    conf: dict[str, list[int]] = defaultdict(list)
    for r in trailing_rows:
        if r.confidence is not None:
            conf[r.actor].append(r.confidence)
    named = {r.actor: r.named for r in trailing_rows if r.named is not None}
    usd_q: dict[str, Decimal] = defaultdict(Decimal)
    for r in this_rows:
        usd_q[r.actor] += r.usd or 0
    table = [{"actor": a, "quarter": actor_q.get(a, 0), "trailing": n, "usd_quarter": usd_q.get(a, Decimal(0)),
              "description": named[a].description if a in named else "",
              "umbrella": named[a].umbrella if a in named else None,
              "confidence": (round(sum(conf[a]) / len(conf[a])) if conf[a] else None)}
             for a, n in sorted(actor_t.items(), key=lambda kv: (-actor_q.get(kv[0], 0), -kv[1], kv[0]))]
    return IncidentFigures(
        quarter=quarter, rows=this_rows,
        per_quarter=[_totals(q, by_quarter.get(q, [])) for q in quarter.trailing(history)],
        this_quarter=_totals(quarter, this_rows), trailing=trailing, actors=table, sources=sources,
        other_rows=others, previous=_totals(quarter.previous(), by_quarter.get(quarter.previous(), [])),
        previous_rows=by_quarter.get(quarter.previous(), []))


def stolen_table(totals: QuarterTotals) -> list[dict[str, Any]]:
    return [{"chain": c, "asset": a, "text": format_amount(totals.stolen.get((c, a)), a),
             "base_units": totals.stolen.get((c, a))} for c, a in totals.stolen.assets()]
