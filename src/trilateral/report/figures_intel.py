"""Intel shared through the hub: objects per member and client by type and TLP, sightings, correlations."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trilateral.core.tlp import Tlp
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, by_type, parse_time

NOT_INTEL = {"marking-definition", "x-trilateral-action"}


@dataclass
class SubmitterShare:
    code: str
    member: str
    objects: int = 0
    by_type: Counter = field(default_factory=Counter)
    by_tlp: Counter = field(default_factory=Counter)
    sightings: int = 0
    sighted_count: int = 0  # sum of the sightings' `count`

    @property
    def is_client(self) -> bool:
        return self.code != self.member


@dataclass
class IntelFigures:
    quarter: Quarter
    submitters: list[SubmitterShare]
    types: list[str]                         # column order: most shared first
    total_objects: int
    total_sightings: int
    multi_member_indicators: list[dict[str, Any]]   # indicators sighted by two or more members
    correlations: list[dict[str, Any]]              # from hub.correlations, as the audience sees them
    first_sighting_delays: list[dict[str, Any]]
    median_hours_first_sighting_to_shared: float | None
    sources: Sources


def _sighting_time(obj: dict[str, Any]) -> datetime | None:
    return parse_time(obj.get("first_seen")) or parse_time(obj.get("created"))


# The property that says when an object's content happened, per type; `created` for the rest.
ABOUT_KEYS = {"sighting": ("first_seen",), "indicator": ("valid_from",), "observed-data": ("first_observed",),
              "incident": ("x_trilateral_date", "first_seen"), "campaign": ("first_seen",),
              "intrusion-set": ("first_seen",), "x-trilateral-trace": ("theft_time",),
              "x-trilateral-freeze-request": ("requested_at",)}


def about_time(record: Record) -> datetime:
    """When the object is about (first_seen, valid_from, ..., else created), not when the hub stored it:
    a look-back report of an earlier quarter counts the intel of that quarter."""
    obj = record.object
    for key in (*ABOUT_KEYS.get(record.type, ()), "created"):
        moment = parse_time(obj.get(key))
        if moment is not None:
            return moment
    return record.date_added


def _utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def about_in(records: list[Record], quarter: Quarter) -> list[Record]:
    """The intel records about `quarter`. STIX timestamps in UTC ('…Z') compare as text, so the 100,000
    objects of a quarter are not parsed one by one; anything else goes through `about_time`."""
    start, end = _utc_text(quarter.start), _utc_text(quarter.end)
    out = []
    for r in records:
        if r.type in NOT_INTEL:
            continue
        obj = r.object
        text = None
        for key in (*ABOUT_KEYS.get(r.type, ()), "created"):
            value = obj.get(key)
            if value:
                text = value
                break
        if isinstance(text, str) and len(text) >= 20 and text.endswith("Z") and text[10] == "T":
            if start <= text[:19] < end:
                out.append(r)
        elif quarter.contains(about_time(r)):
            out.append(r)
    return out


def intel_figures(records: list[Record], quarter: Quarter,
                  correlations: list[dict[str, Any]] | None = None, counts_only: bool = False) -> IntelFigures:
    """Counts over the objects about `quarter` (`about_time`), as the audience may read them;
    `counts_only` skips the sighting delays and cross-member indicators (the previous quarter's row)."""
    shares: dict[str, SubmitterShare] = {}
    sources = Sources()
    types: Counter = Counter()
    sightings_by_indicator: dict[str, list[Record]] = defaultdict(list)
    for rec in () if counts_only else by_type(records).get("sighting", []):
        ref = rec.object.get("sighting_of_ref")
        if isinstance(ref, str) and ref.startswith("indicator--"):
            sightings_by_indicator[ref].append(rec)
    received = about_in(records, quarter)
    keys = Counter((r.submitted_by, r.member, r.type, r.tlp) for r in received)
    for (code, member, kind, tlp), n in keys.items():
        share = shares.get(code)
        if share is None:
            share = shares[code] = SubmitterShare(code, member or code)
        share.objects += n
        share.by_type[kind] += n
        share.by_tlp[tlp] += n
        types[kind] += n
    for rec in received:
        if rec.type == "sighting":
            shares[rec.submitted_by].sightings += 1
            shares[rec.submitted_by].sighted_count += int(rec.object.get("count") or 1)
    sources.records.update((r.id, r) for r in received)
    multi, delays = [], []
    for indicator, sightings in sorted(sightings_by_indicator.items()):
        first_per_member: dict[str, tuple[datetime, Record]] = {}
        for s in sightings:
            t = _sighting_time(s.object)
            old = first_per_member.get(s.member)
            if t is not None and (old is None or t < old[0]):
                first_per_member[s.member] = (t, s)
        if not first_per_member:
            continue
        first_seen, first = min(first_per_member.values(), key=lambda ts: (ts[0], ts[1].date_added))
        if quarter.contains(first_seen):
            delays.append({"indicator": indicator, "member": first.member, "first_seen": first_seen,
                           "shared": first.date_added,
                           "hours": round(max(0.0, (first.date_added - first_seen).total_seconds()) / 3600, 1)})
            sources.add(first)
        if len(first_per_member) >= 2 and any(quarter.contains(t) for t, _ in first_per_member.values()):
            multi.append({"indicator": indicator, "members": sorted(first_per_member),
                          "sightings": len(sightings)})
            sources.extend(s for _, s in first_per_member.values())
    hours = [d["hours"] for d in delays]
    submitters = sorted(shares.values(), key=lambda s: (s.member, s.is_client, s.code))
    return IntelFigures(quarter, submitters, [t for t, _ in types.most_common()], sum(types.values()),
                        sum(s.sightings for s in submitters), multi, list(correlations or []), delays,
                        statistics.median(hours) if hours else None, sources)


def tlp_columns() -> list[Tlp]:
    return list(Tlp)
