"""Append-only, hash-chained audit log: each entry's hash covers its content and the previous hash.

hash_n = sha256(canonical JSON of {seq, at_us, actor, action, detail} || hash_{n-1}); the head (last
seq and hash) is also kept in `hub_meta`, so removing the newest entries is detected too. On
PostgreSQL appends take a transaction-scoped advisory lock so concurrent writers extend one chain;
on SQLite the write transaction is BEGIN IMMEDIATE, which already serialises writers.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.hub.database import AUDIT_LOCK_KEY
from trilateral.hub.schema import audit_log, meta
from trilateral.hub.types import AuditVerdict

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def entry_hash(seq: int, at_us: int, actor: str, action: str, detail: str, prev_hash: str) -> str:
    canonical = orjson.dumps({"seq": seq, "at_us": at_us, "actor": actor, "action": action,
                              "detail": orjson.loads(detail)}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical + prev_hash.encode("ascii")).hexdigest()


def append(conn: sa.Connection, actor: str, action: str, detail: dict[str, Any]) -> int:
    """Append one entry inside the caller's write transaction; returns its sequence number."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.hash)
                        .order_by(audit_log.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at_us = time.time_ns() // 1000
    body = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    digest = entry_hash(seq, at_us, actor, action, body, prev)
    conn.execute(audit_log.insert().values(seq=seq, at_us=at_us, actor=actor, action=action, detail=body,
                                           prev_hash=prev, hash=digest))
    head = orjson.dumps({"seq": seq, "hash": digest}).decode()
    updated = conn.execute(meta.update().where(meta.c.key == HEAD_KEY).values(value=head)).rowcount
    if not updated:
        conn.execute(meta.insert().values(key=HEAD_KEY, value=head))
    return seq


def verify(conn: sa.Connection) -> AuditVerdict:
    """Walk the chain in order; the first entry whose link or hash does not hold is named."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    rows = conn.execution_options(yield_per=5000).execute(sa.select(audit_log).order_by(audit_log.c.seq))
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return AuditVerdict(False, expected_seq, f"entry {expected_seq} is missing (next is {row.seq})", count)
        if row.prev_hash != expected_prev:
            return AuditVerdict(False, row.seq, f"entry {row.seq} does not follow entry {row.seq - 1} "
                                "(removed, reordered or edited)", count)
        try:
            digest = entry_hash(row.seq, row.at_us, row.actor, row.action, row.detail, row.prev_hash)
        except orjson.JSONDecodeError:
            digest = ""
        if digest != row.hash:
            return AuditVerdict(False, row.seq, f"entry {row.seq} was edited (hash mismatch)", count)
        expected_prev, expected_seq = row.hash, row.seq + 1
    head_row = conn.execute(sa.select(meta.c.value).where(meta.c.key == HEAD_KEY)).scalar()
    if head_row is not None:
        head = orjson.loads(head_row)
        if head["seq"] != expected_seq - 1 or head["hash"] != expected_prev:
            return AuditVerdict(False, expected_seq if head["seq"] >= expected_seq else head["seq"],
                                f"the chain ends at entry {expected_seq - 1} but its head records entry "
                                f"{head['seq']}: entries were removed from the end", count)
    elif count:
        return AuditVerdict(False, 1, "the chain head record is missing", count)
    return AuditVerdict(True, None, f"{count} entries intact", count)
