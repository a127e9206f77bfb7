"""A case's linked incident, its attribution and the chain watch's alerts on it, read from the hub
through its policy.

The incident is the case's `incident` key in findings.json (an incident's STIX id), or the incident
of an `incident.json` bundle beside it (the demo writes the victim report there). The attribution is
what `trilateral attribute` shared: `attributed-to` relationships from that incident to an actor.
The alerts are the watch's `x-trilateral-watch-alert` objects whose case has the case's name (the
watch names its cases as `trilateral case open --name` was told). All are hub objects, so the
principal sees only the ones `may_read` allows; a case a principal may read can still point at an
incident it may not, which then shows as not readable, never its content.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.web.services.cases import Case
from trilateral.web.services.recent import Alert, new_alerts

SCAN_BATCH = 500
SCAN_BATCHES = 20  # relationships looked at per view at most (10,000) ...
SCAN_SECONDS = 0.1  # ... or for this long: the hub has no index on source_ref
ALERT_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Attribution:
    actor_id: str
    actor_name: str
    confidence: int | None  # STIX confidence 0-100
    score: float | None
    description: str
    relationship_id: str
    submitter: str
    tlp: Tlp

    def as_json(self) -> dict[str, Any]:
        return {"actor_id": self.actor_id, "actor": self.actor_name, "confidence": self.confidence,
                "score": self.score, "description": self.description, "relationship": self.relationship_id,
                "submitter": self.submitter, "tlp": self.tlp.label}


@dataclass
class CaseContext:
    incident_id: str | None
    incident: dict[str, Any] | None = None  # the newest version the principal may read
    incident_tlp: Tlp | None = None
    incident_submitter: str = ""
    attributions: list[Attribution] = field(default_factory=list)
    complete: bool = True  # False when the relationship scan stopped at its bound
    alerts: list[Alert] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        inc = None
        if self.incident is not None:
            inc = {"id": self.incident_id, "name": self.incident.get("name"),
                   "description": self.incident.get("description"), "tlp": self.incident_tlp.label
                   if self.incident_tlp else None, "submitter": self.incident_submitter}
        return {"incident_id": self.incident_id, "incident": inc, "readable": self.incident is not None,
                "attributions": [a.as_json() for a in self.attributions], "complete": self.complete,
                "alerts": [a.as_json() for a in self.alerts]}


def incident_id(case: Case) -> str | None:
    """The case's incident: findings' `incident`, else the incident of incident.json beside them."""
    value = case.findings.get("incident")
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value.startswith("incident--"):
        return value
    beside = case.path.parent / "incident.json"
    if beside.is_file():
        try:
            doc = orjson.loads(beside.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        objects = doc.get("objects", []) if isinstance(doc, dict) else []
        return next((o["id"] for o in objects if isinstance(o, dict) and o.get("type") == "incident"
                     and isinstance(o.get("id"), str)), None)
    return None


def _latest(hub: Any, principal: Principal, ids: list[str]) -> dict[str, Any]:
    """id → newest readable record, for the ids the principal may read (one probe of the id index)."""
    if not ids:
        return {}
    page = hub.query(principal, collection=None, ids=ids, limit=len(ids) * 20)
    out: dict[str, Any] = {}
    for rec in page.records:
        if rec.id not in out or rec.modified > out[rec.id].modified:
            out[rec.id] = rec
    return out


def context(hub: Any, principal: Principal, case: Case) -> CaseContext:
    """The linked incident, the attributions of it and the case's alerts that the principal may read."""
    ident = incident_id(case)
    out = CaseContext(ident)
    since = datetime.now(UTC) - timedelta(days=ALERT_WINDOW_DAYS)
    out.alerts = [a for a in new_alerts(hub, principal, since, limit=500)[0]
                  if a.case_name.casefold() == case.name.casefold()][:50]
    if ident is None:
        return out
    rec = _latest(hub, principal, [ident]).get(ident)
    if rec is None:  # hidden and missing look the same: no attribution is shown either
        return out
    out.incident, out.incident_tlp, out.incident_submitter = rec.object, rec.tlp, rec.submitted_by
    found = []
    cursor, started = None, time.perf_counter()
    for _ in range(SCAN_BATCHES):
        page = hub.query(principal, collection=None, types=["relationship"], limit=SCAN_BATCH, cursor=cursor)
        found.extend(r for r in page.records if r.object.get("source_ref") == ident
                     and r.object.get("relationship_type") == "attributed-to")
        cursor = page.next_cursor if page.more else None
        if cursor is None:
            break
        if time.perf_counter() - started > SCAN_SECONDS:
            break
    out.complete = cursor is None
    actors = _latest(hub, principal, sorted({r.object.get("target_ref", "") for r in found} - {""}))
    for r in found:
        o = r.object
        target = str(o.get("target_ref", ""))
        actor = actors.get(target)
        name = str(actor.object.get("name")) if actor is not None else target
        out.attributions.append(Attribution(target, name, o.get("confidence"), o.get("x_trilateral_score"),
                                            str(o.get("description") or ""), r.id, r.submitted_by, r.tlp))
    out.attributions.sort(key=lambda a: -(a.confidence or 0))
    return out
