"""The action register: decisions of the group's meetings as `x-trilateral-action` objects in the hub.

An update is a new STIX version (same id, later `modified`), so the hub keeps the history and every
version is TLP-marked and read through the one policy like any other object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record, Sources, parse_time
from trilateral.report.stix import marking, query_all, stix_time, submit_all

ACTION_TYPE = "x-trilateral-action"
STATUSES = ("open", "in_progress", "done", "closed")
OPEN_STATUSES = ("open", "in_progress")


def _date(text: str | date, what: str) -> str:
    if isinstance(text, date):
        return text.isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def _status(text: str) -> str:
    status = text.strip().lower().replace("-", "_").replace(" ", "_")
    if status not in STATUSES:
        raise InputError(f"status {text!r} is not one of {', '.join(STATUSES)}")
    return status


def make_action(*, title: str, owner: str, due: str | date, decided_at: str | date, quarter: str | None = None,
                status: str = "open", notes: str = "", tlp: Tlp = Tlp.AMBER,
                now: datetime | None = None) -> dict[str, Any]:
    """A new action object (first version)."""
    if not title.strip():
        raise InputError("an action needs a title")
    if not owner.strip():
        raise InputError("an action needs an owner member code")
    decided = _date(decided_at, "decided_at")
    stamp = stix_time(now)
    return {
        "type": ACTION_TYPE, "spec_version": "2.1", "id": f"{ACTION_TYPE}--{uuid.uuid4()}",
        "created": stamp, "modified": stamp, "title": title.strip(), "owner": owner.strip().upper(),
        "due": _date(due, "due"), "status": _status(status), "decided_at": decided,
        "quarter": str(Quarter.parse(quarter) if quarter else Quarter.of(date.fromisoformat(decided))),
        "notes": notes, "object_marking_refs": marking(tlp),
    }


def revise_action(old: dict[str, Any], changes: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The next version of `old` with `changes` applied (validated) and a later `modified`."""
    new = dict(old)
    for key, value in changes.items():
        if value is None:
            continue
        if key in ("due", "decided_at"):
            new[key] = _date(value, key)
        elif key == "status":
            new[key] = _status(value)
        elif key == "owner":
            new[key] = str(value).strip().upper()
        elif key == "tlp":
            new["object_marking_refs"] = marking(value)
        elif key in ("title", "notes", "quarter"):
            new[key] = str(Quarter.parse(value)) if key == "quarter" else str(value)
        else:
            raise InputError(f"actions have no field {key!r}")
    moment = now or datetime.now(UTC)
    previous = parse_time(old.get("modified"))
    if previous is not None and moment <= previous:
        moment = previous + timedelta(milliseconds=1)
    new["modified"] = stix_time(moment)
    return new


def add_action(hub: Any, principal: Principal, **fields: Any) -> dict[str, Any]:
    action = make_action(**fields)
    submit_all(hub, principal, [action], "actions")
    return action


def get_action(hub: Any, principal: Principal, action_id: str) -> dict[str, Any]:
    """The last version of an action the principal may read; a clear error when there is none."""
    if not action_id.startswith(ACTION_TYPE + "--"):
        raise InputError(f"{action_id!r} is not an action id ({ACTION_TYPE}--…); see `trilateral actions list`")
    for rec in query_all(hub, principal, ids=[action_id], types=[ACTION_TYPE]):
        return rec.object
    raise InputError(f"no action {action_id} readable by {principal.code}; see `trilateral actions list`")


def update_action(hub: Any, principal: Principal, action_id: str, **changes: Any) -> dict[str, Any]:
    new = revise_action(get_action(hub, principal, action_id), changes)
    submit_all(hub, principal, [new], "action versions")
    return new


def close_action(hub: Any, principal: Principal, action_id: str, notes: str | None = None) -> dict[str, Any]:
    return update_action(hub, principal, action_id, status="closed", notes=notes)


def list_actions(hub: Any, principal: Principal, *, quarter: str | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
    """Last versions the principal may read, optionally of one quarter's meeting or one status."""
    wanted_q = str(Quarter.parse(quarter)) if quarter else None
    wanted_s = _status(status) if status else None
    out = [rec.object for rec in query_all(hub, principal, types=[ACTION_TYPE])
           if (wanted_q is None or rec.object.get("quarter") == wanted_q)
           and (wanted_s is None or rec.object.get("status") == wanted_s)]
    return sorted(out, key=lambda a: (a.get("due", ""), a.get("title", "")))


@dataclass
class ActionFigures:
    quarter: Quarter
    rows: list[dict[str, Any]]
    counts: dict[str, int]
    overdue: int
    decided_this_quarter: int
    sources: Sources


def action_figures(records: list[Record], quarter: Quarter) -> ActionFigures:
    """Actions decided up to the end of `quarter`; overdue = still open with `due` before the quarter ends."""
    rows, sources = [], Sources()
    counts = {s: 0 for s in STATUSES}
    overdue = decided = 0
    end = quarter.end.date()
    for rec in records:
        if rec.type != ACTION_TYPE:
            continue
        obj = rec.object
        try:
            decided_on = date.fromisoformat(str(obj.get("decided_at"))[:10])
            due = date.fromisoformat(str(obj.get("due"))[:10])
        except ValueError:
            continue
        if decided_on >= end:
            continue
        status = str(obj.get("status", "open"))
        late = status in OPEN_STATUSES and due < end
        counts[status] = counts.get(status, 0) + 1
        overdue += late
        decided += quarter.start.date() <= decided_on
        sources.add(rec)
        rows.append({"id": rec.id, "title": obj.get("title", ""), "owner": obj.get("owner", ""),
                     "due": due.isoformat(), "status": status, "decided_at": decided_on.isoformat(),
                     "quarter": obj.get("quarter", ""), "notes": obj.get("notes", ""), "overdue": late,
                     "tlp": rec.tlp.label})
    rows.sort(key=lambda r: (r["status"] not in OPEN_STATUSES, r["due"], r["title"]))
    return ActionFigures(quarter, rows, counts, overdue, decided, sources)
