"""Append-only audit log, chained with HMAC-SHA256 under a key kept outside the database.

mac_n = HMAC(key, canonical JSON of {seq, at_us, actor, action, detail} || mac_{n-1}) (column `hash`).
Without the key (trilateral.hub.audit_key) nobody who can only write the database can edit an entry
and recompute the chain. The head (last seq and mac) is kept in `hub_meta` with its own MAC, so
removing the newest entries is detected, and a log emptied together with its head is detected
because every principal's creation is an audit entry: a hub with principals has a non-empty log.
Truncation below a signed checkpoint a member keeps is caught by `audit_checkpoint`.

Entries written before the hub was keyed (plain SHA-256) are marked once, under the key, as
`audit_legacy` {upto, hash}: they verify as before, and the marker cannot be extended without the key.

On PostgreSQL appends take a transaction-scoped advisory lock so concurrent writers extend one chain;
on SQLite the write transaction is BEGIN IMMEDIATE, which already serialises writers.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.hub.audit_key import bound_key
from trilateral.hub.database import AUDIT_LOCK_KEY
from trilateral.hub.schema import audit_log, meta, principals
from trilateral.hub.types import AuditVerdict

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
LEGACY_KEY = "audit_legacy"


def _canonical(seq: int, at_us: int, actor: str, action: str, detail: str) -> bytes:
    return orjson.dumps({"seq": seq, "at_us": at_us, "actor": actor, "action": action,
                         "detail": orjson.loads(detail)}, option=orjson.OPT_SORT_KEYS)


def entry_hash(seq: int, at_us: int, actor: str, action: str, detail: str, prev_hash: str,
               key: bytes | None = None) -> str:
    """The entry's link: HMAC-SHA256 under `key`; plain SHA-256 for entries from before keying."""
    data = _canonical(seq, at_us, actor, action, detail) + prev_hash.encode("ascii")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def record_mac(key: bytes, kind: str, seq: int, digest: str) -> str:
    return hmac.new(key, f"{kind}:{seq}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()


def _put(conn: sa.Connection, name: str, value: str) -> None:
    if not conn.execute(meta.update().where(meta.c.key == name).values(value=value)).rowcount:
        conn.execute(meta.insert().values(key=name, value=value))


def _meta_json(conn: sa.Connection, name: str) -> dict | None:
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == name)).scalar()
    if value is None:
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def adopt_legacy(conn: sa.Connection, key: bytes) -> None:
    """When a hub is first keyed: mark its existing (unkeyed) entries, under the key, as legacy."""
    last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    if last is not None and _meta_json(conn, LEGACY_KEY) is None:
        _put(conn, LEGACY_KEY, orjson.dumps({"upto": last.seq, "hash": last.hash,
                                             "mac": record_mac(key, "legacy", last.seq, last.hash)}).decode())
        _put(conn, HEAD_KEY, orjson.dumps({"seq": last.seq, "hash": last.hash,
                                           "mac": record_mac(key, "head", last.seq, last.hash)}).decode())


def append(conn: sa.Connection, actor: str, action: str, detail: dict[str, Any]) -> int:
    """Append one entry inside the caller's write transaction; returns its sequence number."""
    key = bound_key(conn.engine)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.hash)
                        .order_by(audit_log.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at_us = time.time_ns() // 1000
    body = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode()
    digest = entry_hash(seq, at_us, actor, action, body, prev, key)
    conn.execute(audit_log.insert().values(seq=seq, at_us=at_us, actor=actor, action=action, detail=body,
                                           prev_hash=prev, hash=digest))
    _put(conn, HEAD_KEY, orjson.dumps({"seq": seq, "hash": digest,
                                       "mac": record_mac(key, "head", seq, digest)}).decode())
    return seq


def _legacy_upto(conn: sa.Connection, key: bytes) -> tuple[int, str | None]:
    """(last legacy seq, its hash) from a genuine legacy marker; (0, None) when there is none."""
    data = _meta_json(conn, LEGACY_KEY)
    if not data:
        return 0, None
    seq, digest = data.get("upto"), data.get("hash")
    if not isinstance(seq, int) or not isinstance(digest, str) or not hmac.compare_digest(
            str(data.get("mac", "")), record_mac(key, "legacy", seq, digest)):
        return -1, None
    return seq, digest


def verify(conn: sa.Connection) -> AuditVerdict:
    """Walk the chain in order; the first entry whose link or MAC does not hold is named."""
    key = bound_key(conn.engine)
    legacy_upto, legacy_hash = _legacy_upto(conn, key)
    if legacy_upto < 0:
        return AuditVerdict(False, 1, "the record of entries written before keying was forged or edited", 0)
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
            digest = entry_hash(row.seq, row.at_us, row.actor, row.action, row.detail, row.prev_hash,
                                None if row.seq <= legacy_upto else key)
        except orjson.JSONDecodeError:
            digest = ""
        if not hmac.compare_digest(digest, row.hash) or (row.seq == legacy_upto and row.hash != legacy_hash):
            return AuditVerdict(False, row.seq, f"entry {row.seq} was edited (its MAC does not match under the "
                                "hub's audit key)", count)
        expected_prev, expected_seq = row.hash, row.seq + 1
    last_seq = expected_seq - 1
    if last_seq < legacy_upto:
        return AuditVerdict(False, last_seq + 1, f"entries {last_seq + 1}-{legacy_upto} are missing "
                            "(recorded when the hub was keyed)", count)
    head = _meta_json(conn, HEAD_KEY)
    if head is not None:
        seq, digest = head.get("seq"), head.get("hash")
        if not isinstance(seq, int) or not isinstance(digest, str) or not hmac.compare_digest(
                str(head.get("mac", "")), record_mac(key, "head", seq, digest)):
            return AuditVerdict(False, max(last_seq, 1), "the chain head record was forged or edited", count)
        if seq != last_seq or digest != expected_prev:
            return AuditVerdict(False, last_seq + 1 if seq > last_seq else seq,
                                f"the chain ends at entry {last_seq} but its head records entry {seq}: "
                                "entries were removed from the end", count)
    elif count:
        return AuditVerdict(False, 1, "the chain head record is missing", count)
    if count == 0:
        members = conn.execute(sa.select(sa.func.count()).select_from(principals)).scalar() or 0
        if members:
            return AuditVerdict(False, 1, f"the log is empty but the hub has {members} principals, each of "
                                "whose creation was an audit entry: the log was wiped", 0)
    return AuditVerdict(True, None, f"{count} entries intact", count)


def head(conn: sa.Connection) -> tuple[int, str]:
    """(seq, mac) of the newest entry; (0, GENESIS) for an empty log."""
    last = conn.execute(sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def entry_at(conn: sa.Connection, seq: int) -> str | None:
    """The MAC of entry `seq`, or None when there is no such entry."""
    return conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar()
