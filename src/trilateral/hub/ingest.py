"""Submitting STIX content: parse, validate every object, store new versions in batch transactions.

Validation (the slow, CPU-bound part) runs before any transaction is opened. Storage then goes in
batches of BATCH_SIZE objects, each one transaction holding the objects, their recipients,
observables, correlations, status details and one audit entry: a crash mid-import leaves whole
batches stored and none half-stored, and the status resource says how many are still pending.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.settings import Settings
from trilateral.core.tlp import MARKING_ID_TO_TLP, Tlp, effective_tlp
from trilateral.hub import audit
from trilateral.hub.database import AUDIT_LOCK_KEY, bulk_insert, text_in, writing
from trilateral.hub.recipients import recipients_of
from trilateral.hub.schema import (
    correlations,
    object_recipients,
    objects,
    observables,
    status_details,
    statuses,
)
from trilateral.hub.types import SubmitResult, from_micros, parse_timestamp, to_micros

BATCH_SIZE = 5000
log = logging.getLogger(__name__)
_IN_CHUNK = 500


@dataclass
class Prepared:
    """One valid object, ready to insert."""

    position: int
    stix_id: str
    stix_type: str
    version: str | None
    modified_us: int
    tlp: Tlp
    recipients: frozenset[str]
    content_hash: str
    body: str
    ref_id: str | None
    observed: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Failure:
    position: int
    stix_id: str | None
    version: str | None
    reason: str
    tlp: Tlp = Tlp.AMBER_STRICT
    recipients: frozenset[str] = frozenset()


def load_payload(payload: bytes | str | dict | list, source: str | None, settings: Settings) -> tuple[list[Any], str | None]:
    """The objects of a bundle, TAXII envelope, object list or single object; InputError otherwise."""
    where = source or "submitted content"
    if isinstance(payload, str | bytes):
        size = len(payload.encode("utf-8")) if isinstance(payload, str) else len(payload)
        if size > settings.max_bundle_bytes:
            raise InputError(f"{where}: {size} bytes is over the limit of {settings.max_bundle_bytes} bytes "
                             "(TRILATERAL_MAX_BUNDLE_BYTES); split the bundle")
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{where}: malformed JSON: {exc}") from None
    elif isinstance(payload, dict | list):  # already parsed (e.g. by the TAXII layer): same byte limit
        try:
            size = len(orjson.dumps(payload))
        except TypeError as exc:
            raise InputError(f"{where}: not JSON: {exc}") from None
        if size > settings.max_bundle_bytes:
            raise InputError(f"{where}: {size} bytes is over the limit of {settings.max_bundle_bytes} bytes "
                             "(TRILATERAL_MAX_BUNDLE_BYTES); split the bundle")
    bundle_id = None
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict):
        if payload.get("type") == "bundle":
            bundle_id = payload.get("id") if isinstance(payload.get("id"), str) else None
            if payload.get("spec_version") not in (None, "2.1"):
                raise InputError(f"{where}: bundle spec_version {payload.get('spec_version')!r} is not "
                                 "supported; the hub stores STIX 2.1")
            items = payload.get("objects", [])
        elif "objects" in payload and "type" not in payload:
            items = payload["objects"]  # TAXII 2.1 envelope
        elif isinstance(payload.get("type"), str) and isinstance(payload.get("id"), str):
            items = [payload]
        else:
            raise InputError(f"{where}: not STIX: expected a bundle (type 'bundle'), a TAXII envelope "
                             "('objects') or a STIX object")
    else:
        raise InputError(f"{where}: not STIX: expected a JSON object or list, got {type(payload).__name__}")
    if not isinstance(items, list):
        raise InputError(f"{where}: 'objects' must be a list")
    if len(items) > settings.max_bundle_objects:
        raise InputError(f"{where}: {len(items)} objects is over the limit of {settings.max_bundle_objects} "
                         "(TRILATERAL_MAX_BUNDLE_OBJECTS); split the bundle")
    return items, bundle_id


def prepare(position: int, obj: Any, known: set[tuple[str, int, str]] | None = None) -> Prepared | Failure:
    """Validate one object and compute the columns the policy and correlation need.

    `known` holds (id, modified_us, content hash) of versions already stored in the collection: an
    identical re-submission (a TAXII client retrying) is a duplicate and skips re-validation, since
    those exact bytes were validated when first stored.
    """
    # Imported here: stix2-validator's import costs seconds (jsonschema format grammars), and
    # commands that never validate (member list, audit verify, export) should not pay it.
    from trilateral.hub.observables import observables_of
    from trilateral.hub.stixcheck import check_object

    if not isinstance(obj, dict):
        return Failure(position, None, None, f"object {position}: not a JSON object")
    stix_id, stix_type = obj.get("id"), obj.get("type")
    if not isinstance(stix_id, str) or not isinstance(stix_type, str) or "--" not in stix_id:
        return Failure(position, stix_id if isinstance(stix_id, str) else None, None,
                       f"object {position}: not a STIX object (needs 'type' and 'id')")
    version = obj.get("modified") or obj.get("created")
    version = version if isinstance(version, str) else None
    try:
        tlp = effective_tlp(obj.get("object_marking_refs"))
        recipients = recipients_of(obj)
    except (TypeError, ValueError) as exc:
        return Failure(position, stix_id, version, f"{stix_id}: {exc}")
    spec = obj.get("spec_version")
    if spec is not None and spec != "2.1":
        return Failure(position, stix_id, version, f"{stix_id}: spec_version {spec!r} is not supported; "
                       "the hub stores STIX 2.1", tlp, recipients)
    if spec is None and "created" in obj:
        return Failure(position, stix_id, version, f"{stix_id}: no spec_version (STIX 2.1 objects with "
                       "'created' must say spec_version '2.1')", tlp, recipients)
    body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    content_hash = hashlib.sha256(body).hexdigest()
    modified_us = _version_micros(version)
    ref = obj.get("sighting_of_ref") if stix_type == "sighting" else None
    prepared = Prepared(position=position, stix_id=stix_id, stix_type=stix_type, version=version,
                        modified_us=modified_us or 0, tlp=tlp, recipients=recipients, content_hash=content_hash,
                        body=body.decode(), ref_id=ref if isinstance(ref, str) else None)
    if known and modified_us is not None and (stix_id, modified_us, content_hash) in known:
        return prepared
    reason = check_object(obj)
    if reason is None and modified_us is None:
        reason = f"version timestamp {version!r} is not RFC 3339"
    if reason is not None:
        return Failure(position, stix_id, version, f"{stix_id}: {reason}", tlp, recipients)
    prepared.observed = observables_of(obj)
    return prepared


def _version_micros(version: str | None) -> int | None:
    if version is None:
        return 0
    try:
        return to_micros(parse_timestamp(version))
    except ValueError:
        return None


def known_versions(engine: sa.Engine, collection: str, items: list[Any]) -> set[tuple[str, int, str]]:
    """(id, modified_us, content hash) of stored versions of the ids in `items`."""
    ids = sorted({o["id"] for o in items if isinstance(o, dict) and isinstance(o.get("id"), str)})
    known: set[tuple[str, int, str]] = set()
    with engine.connect() as conn:
        for i in range(0, len(ids), _IN_CHUNK):
            rows = conn.execute(sa.select(objects.c.stix_id, objects.c.modified_us, objects.c.content_hash)
                                .where(objects.c.collection == collection,
                                       text_in(conn, objects.c.stix_id, ids[i:i + _IN_CHUNK])))
            known.update((r.stix_id, r.modified_us, r.content_hash) for r in rows)
    return known


def create_status(engine: sa.Engine, principal: Principal, collection: str, total: int, source: str | None) -> str:
    status_id = str(uuid.uuid4())
    with writing(engine) as conn:
        conn.execute(statuses.insert().values(id=status_id, submitted_by=principal.code,
                                              submitter_member=principal.member_code, collection=collection,
                                              created_us=time.time_ns() // 1000, total_count=total, source=source))
    return status_id


def store_batch(conn: sa.Connection, principal: Principal, collection: str, status_id: str, source: str | None,
                batch: list[Prepared | Failure], result: SubmitResult) -> int:
    """Store one batch inside the caller's transaction; returns the date_added (µs) of its first object.

    Every stored version gets its own date_added: the batch's objects get consecutive microseconds
    from max(now, last date_added in the collection + 1). Writers are serialised (advisory lock on
    PostgreSQL, BEGIN IMMEDIATE on SQLite), so date_added is unique per collection and follows commit
    order: a TAXII client paging or polling with added_after = the last date_added it saw never
    skips or repeats an object.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(sa.select(sa.func.max(objects.c.date_added_us))
                        .where(objects.c.collection == collection)).scalar()
    date_added = max(time.time_ns() // 1000, (last or 0) + 1)
    good = [p for p in batch if isinstance(p, Prepared)]
    existing: dict[tuple[str, int], str] = {}
    ids = sorted({p.stix_id for p in good})
    for i in range(0, len(ids), _IN_CHUNK):
        rows = conn.execute(sa.select(objects.c.stix_id, objects.c.modified_us, objects.c.content_hash)
                            .where(objects.c.collection == collection,
                                   text_in(conn, objects.c.stix_id, ids[i:i + _IN_CHUNK])))
        existing.update({(r.stix_id, r.modified_us): r.content_hash for r in rows})
    details: list[dict[str, Any]] = []
    to_insert: list[Prepared] = []
    for item in batch:
        if isinstance(item, Failure):
            details.append(_detail(status_id, item.position, item.stix_id, item.version, "failure", item.reason,
                                   item.tlp, item.recipients))
            result.failed.append((item.stix_id, item.reason))
            continue
        key = (item.stix_id, item.modified_us)
        version_text = item.version or ""
        if item.stix_id in MARKING_ID_TO_TLP:  # the hub's policy is built on these; never replaced
            details.append(_detail(status_id, item.position, item.stix_id, item.version, "duplicate",
                                   "standard TLP marking-definition (built in, not stored)", item.tlp,
                                   item.recipients))
            result.duplicates.append((item.stix_id, version_text))
            continue
        if key in existing:
            if existing[key] == item.content_hash:
                details.append(_detail(status_id, item.position, item.stix_id, item.version, "duplicate",
                                       "identical version already stored", item.tlp, item.recipients))
                result.duplicates.append((item.stix_id, version_text))
            else:
                reason = (f"{item.stix_id}: version {version_text or '(unversioned)'} is already stored with "
                          "different content; a changed object needs a new 'modified'")
                details.append(_detail(status_id, item.position, item.stix_id, item.version, "failure", reason,
                                       item.tlp, item.recipients))
                result.failed.append((item.stix_id, reason))
            continue
        existing[key] = item.content_hash
        to_insert.append(item)
        details.append(_detail(status_id, item.position, item.stix_id, item.version, "success", "", item.tlp,
                               item.recipients))
        result.stored.append((item.stix_id, version_text))
    if to_insert:
        rows = [{"collection": collection, "stix_id": p.stix_id, "stix_type": p.stix_type, "spec_version": "2.1",
                 "version": p.version, "modified_us": p.modified_us, "date_added_us": date_added + n, "tlp": int(p.tlp),
                 "submitter_code": principal.code, "submitter_member": principal.member_code,
                 "content_hash": p.content_hash, "status_id": status_id, "source": source, "ref_id": p.ref_id,
                 "body": p.body} for n, p in enumerate(to_insert)]
        # Plain executemany, then one SELECT for the new sequence numbers: INSERT .. RETURNING with
        # guaranteed row order makes SQLAlchemy send SQLite one statement per row (10x slower).
        # Writers are serialised (BEGIN IMMEDIATE / advisory lock), so seq > before is this batch.
        before = conn.execute(sa.select(sa.func.coalesce(sa.func.max(objects.c.seq), 0))).scalar()
        bulk_insert(conn, objects, rows)
        new_seq = {(r.stix_id, r.modified_us): r.seq for r in conn.execute(
            sa.select(objects.c.seq, objects.c.stix_id, objects.c.modified_us)
            .where(objects.c.seq > before, objects.c.collection == collection))}
        seqs = [new_seq[(p.stix_id, p.modified_us)] for p in to_insert]
        recips = [{"object_seq": s, "code": c} for s, p in zip(seqs, to_insert, strict=True) for c in p.recipients]
        if recips:
            bulk_insert(conn, object_recipients, recips)
        obs = [{"object_seq": s, "kind": k, "value": v, "submitter_member": principal.member_code}
               for s, p in zip(seqs, to_insert, strict=True) for k, v in p.observed]
        if obs:
            bulk_insert(conn, observables, obs)
            correlate(conn, min(seqs), max(seqs), status_id, principal.member_code, date_added)
    if details:
        bulk_insert(conn, status_details, details)
    digest = hashlib.sha256("\n".join(f"{p.stix_id}|{p.version}" for p in to_insert).encode()).hexdigest()
    audit.append(conn, principal.code, "object.submit", {
        "status_id": status_id, "collection": collection, "source": source, "stored": len(to_insert),
        "failed": sum(1 for d in details if d["outcome"] == "failure"),
        "duplicates": sum(1 for d in details if d["outcome"] == "duplicate"), "objects_sha256": digest})
    return date_added


def correlate(conn: sa.Connection, lo: int, hi: int, status_id: str, member: str, now_us: int) -> None:
    """Record a correlation for every value the new objects share with another member's object."""
    new, old = observables.alias("n"), observables.alias("o")
    batch_seqs = sa.select(objects.c.seq).where(objects.c.seq.between(lo, hi), objects.c.status_id == status_id)
    select = (sa.select(old.c.object_seq, new.c.object_seq, new.c.kind, new.c.value, sa.literal(now_us))
              .select_from(new.join(old, sa.and_(old.c.kind == new.c.kind, old.c.value == new.c.value,
                                                 old.c.submitter_member != member)))
              .where(new.c.object_seq.between(lo, hi), new.c.object_seq.in_(batch_seqs)))
    conn.execute(correlations.insert().from_select(["seq_a", "seq_b", "kind", "value", "created_us"], select))


_grown_since_analyze: dict[str, int] = {}


def refresh_planner_statistics(engine: sa.Engine, stored: int) -> None:
    """On PostgreSQL, ANALYZE the object tables once they have grown by a tenth since the last time.

    Why: the paging and look-up plans depend on the row estimates. Right after a bulk load the
    planner still believed `objects` held a few dozen rows and chose a bitmap scan + sort of the
    whole collection for every page (0.5 s a page at 100,000 objects) instead of walking the
    (collection, date_added, seq) index (7 ms). Autovacuum fixes the estimate within a minute or
    so; a TAXII client paging right after a large POST should not wait for it. ANALYZE samples a
    fixed number of rows and does not block readers or writers.
    """
    if engine.dialect.name != "postgresql":
        return
    key = str(engine.url)
    grown = _grown_since_analyze[key] = _grown_since_analyze.get(key, 0) + stored
    if grown < 1000:  # most POSTs: no catalogue round trip
        return
    try:
        with engine.connect() as conn:
            estimate = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'objects'").scalar() or 0
        if grown < 0.1 * max(estimate, 0):
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE objects, object_recipients, observables, status_details")
    except sa.exc.SQLAlchemyError as exc:  # e.g. a role that may not ANALYZE: the objects are stored already
        log.warning("could not refresh PostgreSQL planner statistics (autovacuum will): %s",
                    str(getattr(exc, "orig", exc)).strip().splitlines()[0])
    _grown_since_analyze[key] = 0


def _detail(status_id: str, position: int, stix_id: str | None, version: str | None, outcome: str, message: str,
            tlp: Tlp, recipients: frozenset[str]) -> dict[str, Any]:
    return {"status_id": status_id, "position": position, "stix_id": stix_id, "version": version,
            "outcome": outcome, "message": message, "tlp": int(tlp),
            "recipients": orjson.dumps(sorted(recipients)).decode() if recipients else "[]"}


def submit(engine: sa.Engine, settings: Settings, principal: Principal, payload: Any, collection: str,
           source: str | None, progress: Callable[[int, int], None] | None = None) -> SubmitResult:
    if isinstance(payload, Path):
        source = source or str(payload)
        payload = payload.read_bytes()
    items, bundle_id = load_payload(payload, source, settings)
    source_text = orjson.dumps({"file": source, "bundle": bundle_id}).decode() if (source or bundle_id) else None
    known = known_versions(engine, collection, items)
    prepared: list[Prepared | Failure] = []
    for i, obj in enumerate(items):
        prepared.append(prepare(i, obj, known))
        if progress is not None and (i + 1) % 1000 == 0:
            progress(i + 1, len(items))
    status_id = create_status(engine, principal, collection, len(items), source_text)
    result = SubmitResult(status_id=status_id, date_added=from_micros(time.time_ns() // 1000), total=len(items))
    first_date: int | None = None
    for start in range(0, len(prepared), BATCH_SIZE):
        with writing(engine) as conn:
            date_added = store_batch(conn, principal, collection, status_id, source_text,
                                     prepared[start:start + BATCH_SIZE], result)
        first_date = date_added if first_date is None else first_date
    if result.stored:
        refresh_planner_statistics(engine, len(result.stored))
    if first_date is not None:
        result = SubmitResult(status_id=result.status_id, date_added=from_micros(first_date), stored=result.stored,
                              duplicates=result.duplicates, failed=result.failed, total=result.total)
    return result
