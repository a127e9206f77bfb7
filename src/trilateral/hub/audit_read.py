"""Reading the audit log back, cut to one agency (read-only; the chain is written by audit.append).

A member reads the entries of its own agency: what it and its clients did, and the token and
revocation changes made to them. Object ids in an entry are kept only when the reader may read that
object (the policy's SQL twin decides); the rest are counted, never named, so the log never tells an
agency about an object it may not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.hub.policy import visible_clause
from trilateral.hub.schema import audit_log, object_recipients, objects
from trilateral.hub.types import from_micros

SCAN_BATCH = 2000
SCAN_LIMIT = 20_000  # rows looked at per page at most; the page then offers "older" from where it stopped


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    hidden_ids: int  # object ids in the entry the reader may not read (removed from `detail`)
    hash: str


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    older: int | None  # pass as `before` for the next (older) page; None at the start of the log


def agency_of(principal: Principal, everyone: Iterable[tuple[str, str | None]]) -> set[str]:
    """The codes whose entries the principal reads: a member and its clients; a client itself."""
    if not principal.is_member:
        return {principal.code}
    return {principal.code} | {code for code, sponsor in everyone if sponsor == principal.code}


def _concerns(row: sa.Row, codes: set[str]) -> bool:
    if row.actor in codes:
        return True
    if row.action.startswith("principal."):
        detail = orjson.loads(row.detail)
        return detail.get("code") in codes or detail.get("sponsor") in codes
    return False


def _readable(conn: sa.Connection, principal: Principal, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    o = objects
    found: set[str] = set()
    chunk = sorted(ids)
    for start in range(0, len(chunk), 500):
        part = chunk[start:start + 500]
        found.update(conn.execute(sa.select(o.c.stix_id).distinct().where(
            o.c.stix_id.in_(part), visible_clause(principal, o, object_recipients))).scalars())
    return found


def _object_ids(detail: dict[str, Any]) -> list[str]:
    ids = [str(i).split("|")[0] for i in detail.get("ids") or ()]
    return ids + ([str(detail["id"])] if isinstance(detail.get("id"), str) and "--" in detail["id"] else [])


def entries(conn: sa.Connection, principal: Principal, codes: set[str], before: int | None,
            limit: int) -> AuditPage:
    """The agency's entries, newest first, older than `before` (a seq)."""
    chosen: list[sa.Row] = []
    cursor, scanned = before, 0
    while len(chosen) < limit and scanned < SCAN_LIMIT:
        q = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(SCAN_BATCH)
        if cursor is not None:
            q = q.where(audit_log.c.seq < cursor)
        rows = conn.execute(q).all()
        if not rows:
            cursor = None
            break
        scanned += len(rows)
        for row in rows:
            cursor = row.seq
            if _concerns(row, codes):
                chosen.append(row)
                if len(chosen) == limit:
                    break
        if len(rows) < SCAN_BATCH and len(chosen) < limit:
            cursor = None
            break
    details = [orjson.loads(r.detail) for r in chosen]
    readable = _readable(conn, principal, {i for d in details for i in _object_ids(d)})
    out = []
    for row, detail in zip(chosen, details, strict=True):
        hidden = sum(1 for i in _object_ids(detail) if i not in readable)
        if "ids" in detail:
            detail["ids"] = [i for i in detail["ids"] if str(i).split("|")[0] in readable]
        if isinstance(detail.get("id"), str) and "--" in detail["id"] and detail["id"] not in readable:
            detail["id"] = None
        out.append(AuditEntry(row.seq, from_micros(row.at_us), row.actor, row.action, detail, hidden, row.hash))
    return AuditPage(out, cursor if cursor is not None and cursor > 1 else None)
