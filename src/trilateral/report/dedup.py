"""One incident per theft: register rows, members' STIX incidents and traces' incidents linked into one.

The same theft reaches the hub several times: a row of the incident register, a member's STIX
`incident`, and the incident a `trace --share-as` created ("Bybit 2025-02-21", or "Theft traced by
Trilateral" with the victim as its `targets`). Counting each would triple the theft. Two incidents are
the same theft when their dates agree (to the register's stated precision, or within two days) and
their names, or a name and the other's victim, share a distinctive word. Two register rows are never
merged (the register lists each theft once), and a trace that names its incident (`incident_ref`,
`trace --incident ID`) belongs to it.

Pure: records in, records out. The kept incident (the register row when there is one) takes the
others' ids: relationships, traces and freeze requests pointing at a duplicate point at it, and it
carries the most restrictive TLP of what was merged into it, since it now shows their content.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, RecordSet, by_type, parse_time

DAY_WINDOW = 2  # days between two dates of the same theft (time zones, "reported the next day")
SPAN_DAYS = 92  # a register date of quarter precision stands for any day of its quarter
# Words that do not identify a theft: kinds of event, months, filler, the trace's own defaults.
GENERIC = frozenset(["the", "a", "an", "of", "and", "in", "on", "at", "by", "for", "to", "from", "with", "via", "theft", "thefts", "hack", "hacked", "hacks", "exploit", "exploited", "incident", "incidents", "stolen", "funds", "fund", "drain", "drained", "attack", "breach", "compromise", "compromised", "traced", "trilateral", "unknown", "misc", "individual", "victim", "wallet", "wallets", "cold", "hot", "founder", "ceo", "user", "users", "exchange", "address", "addresses", "reuse", "token", "tokens", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december", "q1", "q2", "q3", "q4"])
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:t[\d:.]+z?)?")


def name_words(text: str) -> frozenset[str]:
    """Distinctive lower-case words of a name: no dates, numbers, generic words or words under 3 letters."""
    text = _DATE.sub(" ", str(text or "").casefold())
    return frozenset(w for w in re.split(r"[^a-z0-9]+", text)
                     if len(w) >= 3 and not w.isdigit() and w not in GENERIC)


@dataclass
class _Theft:
    record: Record
    when: datetime | None
    precision: str                      # day | month | quarter
    words: frozenset[str]
    victims: frozenset[str]             # distinctive words of the victims' names
    register: bool


@dataclass
class Dedup:
    """The records with duplicates merged, and for each kept incident what was merged into it."""

    records: RecordSet
    merged: dict[str, list[Record]] = field(default_factory=dict)   # kept incident id -> duplicates
    alias_of: dict[str, str] = field(default_factory=dict)          # duplicate id -> kept incident id

    def linked_names(self, incident_id: str) -> list[str]:
        return [str(r.object.get("name", r.id)) for r in self.merged.get(incident_id, [])]


def _is_register(obj: dict[str, Any]) -> bool:
    return bool(obj.get("x_trilateral_date")) and obj.get("x_trilateral_linked") is None


def _same_date(a: _Theft, b: _Theft) -> bool:
    if a.when is None or b.when is None:
        return False
    coarse = {a.precision, b.precision}
    if "quarter" in coarse:
        return Quarter.of(a.when) == Quarter.of(b.when)
    if "month" in coarse:
        return (a.when.year, a.when.month) == (b.when.year, b.when.month)
    return abs((a.when - b.when).total_seconds()) <= DAY_WINDOW * 86400


def _same_theft(a: _Theft, b: _Theft) -> bool:
    if not _same_date(a, b):
        return False
    return bool(a.words & b.words or a.words & b.victims or b.words & a.victims or a.victims & b.victims)


def _thefts(records: RecordSet) -> list[_Theft]:
    groups = by_type(records)
    identities = {r.id: r.object for r in groups.get("identity", [])}
    victims: dict[str, set[str]] = {}
    for rel in groups.get("relationship", []):
        obj = rel.object
        if obj.get("relationship_type") == "targets" and obj.get("target_ref") in identities:
            victims.setdefault(str(obj.get("source_ref")), set()).update(
                name_words(identities[obj["target_ref"]].get("name", "")))
    theft_time: dict[str, datetime] = {}
    for trace in groups.get("x-trilateral-trace", []):
        ref, moment = trace.object.get("incident_ref"), parse_time(trace.object.get("theft_time"))
        if ref and moment and (ref not in theft_time or moment < theft_time[ref]):
            theft_time[ref] = moment
    out = []
    for rec in groups.get("incident", []):
        obj = rec.object
        register = _is_register(obj)
        when = parse_time(obj.get("x_trilateral_date")) or theft_time.get(rec.id) or \
            parse_time(obj.get("first_seen")) or parse_time(obj.get("created"))
        precision = str(obj.get("x_trilateral_date_precision") or "day")
        words = name_words(obj.get("name", "")) | name_words(obj.get("x_trilateral_victim", ""))
        out.append(_Theft(rec, when, precision, words, frozenset(victims.get(rec.id, ())), register))
    return out


def _pick_groups(thefts: list[_Theft]) -> list[list[_Theft]]:
    """Each non-register incident joins the nearest matching register row, else other non-register ones.

    Candidates come from a day index (a quarter either side, the coarsest precision a date has), so a
    quarter of thousands of incidents is not compared pairwise."""
    registers = [t for t in thefts if t.register]
    groups: dict[str, list[_Theft]] = {t.record.id: [t] for t in registers}
    by_day: dict[int, list[_Theft]] = defaultdict(list)
    for r in registers:
        if r.when is not None:
            by_day[r.when.toordinal()].append(r)
    loose: list[list[_Theft]] = []
    loose_by_day: dict[int, list[list[_Theft]]] = defaultdict(list)
    for t in sorted((t for t in thefts if not t.register), key=lambda t: t.record.id):
        if t.when is None:
            loose.append([t])
            continue
        day = t.when.toordinal()
        near = [r for d in range(day - SPAN_DAYS, day + SPAN_DAYS + 1) for r in by_day.get(d, ())]
        matches = [r for r in near if _same_theft(t, r)]
        if matches:
            best = min(matches, key=lambda r: (abs((r.when - t.when).total_seconds()) if r.when else 0,
                                               -len(r.words & (t.words | t.victims)), r.record.id))
            groups[best.record.id].append(t)
            continue
        near_groups = [g for d in range(day - DAY_WINDOW, day + DAY_WINDOW + 1) for g in loose_by_day.get(d, ())]
        home = next((g for g in near_groups if any(_same_theft(t, other) for other in g)), None)
        if home is None:
            home = [t]
            loose.append(home)
        else:
            home.append(t)
        loose_by_day[day].append(home)
    return list(groups.values()) + loose


def _keeper(group: list[_Theft]) -> _Theft:
    """The register row; else the incident with the most to show (a name that is not a default), oldest first."""
    return min(group, key=lambda t: (not t.register, not t.words, str(t.record.object.get("created", "")),
                                     t.record.id))


def _remap(record: Record, alias_of: dict[str, str]) -> Record:
    obj = record.object
    changed = {k: alias_of[v] for k in ("source_ref", "target_ref", "incident_ref")
               if isinstance(v := obj.get(k), str) and v in alias_of}
    if not changed:
        return record
    return Record({**obj, **changed}, record.tlp, record.submitted_by, record.date_added, record.member)


def deduplicate(records: list[Record]) -> Dedup:
    """Merge incidents that are one theft; rewrite references to the merged ones (see module doc)."""
    records = records if isinstance(records, RecordSet) else RecordSet(records)
    thefts = _thefts(records)
    if len(thefts) < 2:
        return Dedup(records)
    alias_of: dict[str, str] = {}
    merged: dict[str, list[Record]] = {}
    replaced: dict[str, Record] = {}
    for group in _pick_groups(thefts):
        if len(group) < 2:
            continue
        keep = _keeper(group)
        dups = [t.record for t in group if t is not keep]
        merged[keep.record.id] = dups
        for d in dups:
            alias_of[d.id] = keep.record.id
        obj = dict(keep.record.object)
        for d in dups:  # what the kept incident lacks, a duplicate may state (a trace's stolen amounts)
            for key in ("x_trilateral_stolen", "first_seen", "x_trilateral_usd_stolen"):
                if key not in obj and key in d.object:
                    obj[key] = d.object[key]
        obj["x_trilateral_linked"] = [{"id": d.id, "name": str(d.object.get("name", d.id))} for d in dups]
        tlp = max([keep.record.tlp, *(d.tlp for d in dups)])
        r = keep.record
        replaced[r.id] = Record(obj, tlp, r.submitted_by, r.date_added, r.member)
    if not alias_of:
        return Dedup(records)
    out = RecordSet()
    for rec in records:
        if rec.id in alias_of and rec.type == "incident":
            continue
        out.append(replaced.get(rec.id) or _remap(rec, alias_of))
    return Dedup(out, merged, alias_of)
