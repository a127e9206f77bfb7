"""Submitting STIX content: parse, validate every object, store new versions in batch transactions.

Validation (the slow, CPU-bound part) runs before any transaction is opened. Storage then goes in
batches of BATCH_SIZE objects, each one transaction holding the objects, their recipients,
observables, correlations, status details and one audit entry: a crash mid-import leaves whole
batches stored and none half-stored, and the status resource says how many are still pending.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import struct
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp
from trilateral.hub import audit, markings, ownership
from trilateral.hub.database import AUDIT_LOCK_KEY, PlannerStatistics, bulk_insert, text_in, writing
from trilateral.hub.recipients import recipients_of
from trilateral.hub.schema import (
    correlations,
    object_recipients,
    objects,
    observables,
    principals,
    status_details,
    statuses,
)
from trilateral.hub.types import SubmitResult, from_micros, parse_timestamp, to_micros

BATCH_SIZE = 5000
_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,63}$")
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
DATE_WINDOW_US = 100_000  # date_added offsets of one batch are drawn from [0, this) (see store_batch)
_IN_CHUNK = 5000  # ids per look-up: one parameter each (database.text_in)


@dataclass(slots=True)
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
    created_by_ref: str | None = None
    builtin: bool = False  # the real definition of one of the hub's own objects: a no-op
    shadow: bool = False


@dataclass
class Failure:
    position: int
    stix_id: str | None
    version: str | None
    reason: str
    tlp: Tlp = Tlp.AMBER_STRICT
    recipients: frozenset[str] = frozenset()


def load_payload(payload: bytes | str | dict | list, source: str | None, settings: Settings,
                 json_size: int | None = None) -> tuple[list[Any], str | None]:
    """The objects of a bundle, TAXII envelope, object list or single object; InputError otherwise.

    `json_size`: the size of the JSON text an already parsed `payload` was read from, when the
    caller has it (the TAXII layer); otherwise the payload is serialised again to measure it."""
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
            size = json_size if json_size is not None else len(orjson.dumps(payload))
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


@functools.cache
def _validation() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The observables, stixcheck and stixfast modules, imported on first use: stix2-validator's
    import costs seconds (jsonschema format grammars), and commands that never validate (member
    list, audit verify, export) should not pay it. Cached: an import statement per object cost ~7 µs."""
    from trilateral.hub import observables, stixcheck, stixfast

    return observables, stixcheck, stixfast


def prepare(position: int, obj: Any, known: set[tuple[str, int, str]] | None = None,
            refused: set[str] | None = None, max_recipients: int = 64) -> Prepared | Failure:
    """Validate one object and compute the columns the policy and correlation need.

    `known` holds (id, modified_us, content hash) of versions already stored in the collection: an
    identical re-submission (a TAXII client retrying) is a duplicate and skips re-validation, since
    those exact bytes were validated when first stored. `refused`: ids of marking-definitions of
    the same submission that claim a TLP level under a non-OASIS id (objects naming them fail).
    """
    if not isinstance(obj, dict):
        return Failure(position, None, None, f"object {position}: not a JSON object")
    stix_id, stix_type = obj.get("id"), obj.get("type")
    if not isinstance(stix_id, str) or not isinstance(stix_type, str) or "--" not in stix_id:
        return Failure(position, stix_id if isinstance(stix_id, str) else None, None,
                       f"object {position}: not a STIX object (needs 'type' and 'id')")
    stix_id = markings.normalise_id(stix_id)
    version = obj.get("modified") or obj.get("created")
    version = version if isinstance(version, str) else None
    if stix_type == "bundle":
        return Failure(position, stix_id, version, f"{stix_id}: a bundle is not a STIX object: submit its "
                       "objects (or the bundle itself as the request body), not a bundle inside the envelope")
    if _too_deep(obj):
        return Failure(position, stix_id, version, f"{stix_id}: nested more than {MAX_DEPTH} levels deep "
                       "(STIX objects are shallow; refused before validation)")
    if obj["id"] != stix_id:
        obj = {**obj, "id": stix_id}
    try:
        obj = markings.normalise_markings(obj, refused or set())
        tlp = markings.stored_tlp(obj)
        recipients = recipients_of(obj)
    except (TypeError, ValueError) as exc:
        return Failure(position, stix_id, version, f"{stix_id}: {exc}")
    bad_code = next((c for c in sorted(recipients) if not _CODE.match(c)), None)
    if bad_code is not None:
        return Failure(position, stix_id, version, f"{stix_id}: recipient {bad_code[:70]!r} is not a principal "
                       "code (2-64 letters, digits, '-' or '_')", tlp, frozenset())
    if len(recipients) > max_recipients:
        return Failure(position, stix_id, version, f"{stix_id}: names {len(recipients)} recipients; at most "
                       f"{max_recipients} are allowed (TRILATERAL_MAX_RECIPIENTS)", tlp, recipients)
    builtin = markings.builtin_verdict(obj, stix_id)
    if builtin is not None and not builtin[0]:
        return Failure(position, stix_id, version, builtin[1], tlp, recipients)
    refusal = markings.refused_definition(obj, stix_id)
    if refusal is not None:
        return Failure(position, stix_id, version, refusal, tlp, recipients)
    spec = obj.get("spec_version")
    if spec is not None and spec != "2.1":
        return Failure(position, stix_id, version, f"{stix_id}: spec_version {spec!r} is not supported; "
                       "the hub stores STIX 2.1", tlp, recipients)
    if spec is None and "created" in obj:
        return Failure(position, stix_id, version, f"{stix_id}: no spec_version (STIX 2.1 objects with "
                       "'created' must say spec_version '2.1')", tlp, recipients)
    body = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    content_hash = hashlib.sha256(body).hexdigest()
    # the object a sighting or relationship points at, indexed for sighting counts and screening
    ref = obj.get("sighting_of_ref") if stix_type == "sighting" else \
        obj.get("target_ref") if stix_type == "relationship" else None
    ref = ref.lower() if isinstance(ref, str) and len(ref) <= 128 else None
    author = obj.get("created_by_ref")
    prepared = Prepared(position=position, stix_id=stix_id, stix_type=stix_type, version=version,
                        modified_us=0, tlp=tlp, recipients=recipients, content_hash=content_hash,
                        body=body.decode(), ref_id=ref,
                        created_by_ref=author.lower() if isinstance(author, str) else None,
                        builtin=builtin is not None)
    if known:
        modified_us = _version_micros(version)
        if modified_us is not None and (stix_id, modified_us, content_hash) in known:
            prepared.modified_us = modified_us
            return prepared
    # imported only now: a page of versions already stored (a peer's forwarded copies) never needs them
    observables, stixcheck, stixfast = _validation()
    plain = stixfast.plain_indicator(obj)  # valid for certain, and already read (see stixfast); None: not known yet
    modified_us = plain.modified_us if plain is not None else _version_micros(version)
    prepared.modified_us = modified_us or 0
    reason = None if plain is not None else stixcheck.full_check(obj)
    if reason is None and modified_us is None:
        reason = f"version timestamp {version!r} is not RFC 3339"
    if reason is not None:
        return Failure(position, stix_id, version, f"{stix_id}: {reason}", tlp, recipients)
    prepared.observed = observables.observables_of(obj, plain.pattern if plain is not None else None)
    return prepared


MAX_DEPTH = 64


def _too_deep(obj: Any) -> bool:
    """Nesting deeper than MAX_DEPTH, found without recursion (a deep object must not crash the batch)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, (dict, list)):  # noqa: UP038 - the tuple form is the faster one
                stack.append((child, depth + 1))
    return False


def refused_markings(items: list[Any]) -> set[str]:
    """Ids of the submission's marking-definitions that claim a TLP level under a non-OASIS id."""
    out = set()
    for obj in items:
        if isinstance(obj, dict) and obj.get("type") == "marking-definition" and isinstance(obj.get("id"), str):
            stix_id = markings.normalise_id(obj["id"])
            if not _too_deep(obj) and markings.refused_definition(obj, stix_id):
                out.add(stix_id)
    return out


def _version_micros(version: str | None) -> int | None:
    if version is None:
        return 0
    try:
        return to_micros(parse_timestamp(version))
    except (ValueError, OverflowError):
        return None


def known_versions(engine: sa.Engine, collection: str, items: list[Any]) -> set[tuple[str, int, str]]:
    """(id, modified_us, content hash) of stored versions of the ids in `items`."""
    ids = {o["id"].lower() for o in items
           if isinstance(o, dict) and isinstance(o.get("id"), str) and _STIX_ID.match(o["id"])}
    with engine.connect() as conn:
        return {(i, m, h) for (i, m), h in _stored_versions(conn, collection, ids).items()}


def create_status(conn: sa.Connection, status_id: str, principal: Principal, collection: str, total: int,
                  source: str | None) -> None:
    """A new status resource, inside the caller's write transaction."""
    conn.execute(statuses.insert().values(id=status_id, submitted_by=principal.code,
                                          submitter_member=principal.member_code, collection=collection,
                                          created_us=time.time_ns() // 1000, total_count=total, source=source))


_OBJECT_COLUMNS = ("collection", "stix_id", "stix_type", "spec_version", "version", "modified_us", "date_added_us",
                   "tlp", "submitter_code", "submitter_member", "content_hash", "status_id", "source", "ref_id", "body", "shadow")
_DETAIL_COLUMNS = ("status_id", "position", "stix_id", "version", "outcome", "message", "tlp", "recipients")


@dataclass
class _Outcome:
    """What storing a batch decides for each of its objects, before anything is written."""

    details: list[tuple] = field(default_factory=list)
    to_insert: list[Prepared] = field(default_factory=list)
    stored: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str | None, str]] = field(default_factory=list)


def store_batch(conn: sa.Connection, principal: Principal, collection: str, status_id: str, source: str | None,
                batch: list[Prepared | Failure], result: SubmitResult, none_stored: bool = False,
                recipients_checked: bool = False) -> int:
    """Store one batch inside the caller's transaction; returns the earliest date_added (µs) it gave.

    Every stored version gets its own date_added: a distinct random offset, drawn independently per
    object, in a window after max(now, last date_added in the collection + 1). Consecutive values
    would let a reader count the objects it may not read between two it may (issue 14, point 7);
    independent draws make the gaps between visible objects say nothing about hidden ones. Writers
    are serialised (advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and the next batch starts
    after this batch's largest value, so date_added is unique per collection and follows commit
    order: a TAXII client polling with added_after = the last date_added it saw never skips or
    repeats an object.

    `none_stored`: a look-up just before the transaction found none of the batch's ids stored. Then
    the batch is inserted without looking again, inside a savepoint: if another writer stored one
    of its versions in between, the unique constraint refuses the insert, the savepoint is rolled
    back and the batch is decided again against what is stored.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    last = conn.execute(sa.select(sa.func.max(objects.c.date_added_us))
                        .where(objects.c.collection == collection)).scalar()
    date_added = max(time.time_ns() // 1000, (last or 0) + 1)
    offsets = random_offsets(max(DATE_WINDOW_US, 20 * len(batch)), len(batch))
    ids = {p.stix_id for p in batch if isinstance(p, Prepared)}
    authors = {p.created_by_ref for p in batch if isinstance(p, Prepared) and p.created_by_ref}
    ledger = ownership.Ledger(ownership.load_owners(conn, ids | authors))
    named = {c for p in batch if isinstance(p, Prepared) for c in p.recipients}
    # recipients_checked: federation sync stores a peer's version as its origin addressed it; a
    # recipient hosted on a node this one does not know yet reads nothing here (docs/federation.md)
    codes = named if recipients_checked else _known_codes(conn, named)
    outcome = None
    if none_stored:
        outcome = _decide(status_id, principal.code, batch, {}, ledger, codes)
        try:
            with conn.begin_nested():
                _write(conn, principal, collection, status_id, source, outcome, date_added, ledger, offsets)
        except sa.exc.IntegrityError:
            outcome = None
            ledger = ownership.Ledger(ownership.load_owners(conn, ids | authors))
    if outcome is None:
        outcome = _decide(status_id, principal.code, batch, _stored_versions(conn, collection, ids, principal.code),
                          ledger, codes)
        _write(conn, principal, collection, status_id, source, outcome, date_added, ledger, offsets)
    result.stored.extend(outcome.stored)
    result.duplicates.extend(outcome.duplicates)
    result.failed.extend(outcome.failed)
    return date_added + min(offsets[:len(outcome.to_insert)], default=0)


def random_offsets(window: int, count: int) -> list[int]:
    """`count` distinct offsets in [0, window), each drawn independently from the OS's CSPRNG.

    Why not `SystemRandom().sample`: it makes one urandom call per draw (~4 µs an object, a tenth of
    storing one); here one call serves the whole batch. Rejecting repeats gives exactly sampling
    without replacement; reducing 64 random bits modulo the window biases by < window / 2**64.
    """
    chosen: set[int] = set()
    out: list[int] = []
    while len(out) < count:
        for (value,) in struct.iter_unpack("<Q", os.urandom(8 * (count - len(out)))):
            value %= window
            if value not in chosen:
                chosen.add(value)
                out.append(value)
    return out


def _known_codes(conn: sa.Connection, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(conn.execute(sa.select(principals.c.code).where(principals.c.code.in_(sorted(codes)))).scalars())


def _stored_versions(conn: sa.Connection, collection: str, ids: set[str],
                     submitter: str | None = None) -> dict[tuple[str, int], str]:
    """(id, modified_us) -> content hash of the stored versions of `ids` (only `submitter`'s if given:
    versions are unique per submitter, and others' must not change the answer)."""
    existing: dict[tuple[str, int], str] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), _IN_CHUNK):
        query = (sa.select(objects.c.stix_id, objects.c.modified_us, objects.c.content_hash)
                 .where(objects.c.collection == collection, text_in(conn, objects.c.stix_id, ordered[i:i + _IN_CHUNK])))
        if submitter is not None:
            query = query.where(objects.c.submitter_code == submitter)
        existing.update({(r.stix_id, r.modified_us): r.content_hash for r in conn.execute(query)})
    return existing


def _decide(status_id: str, code: str, batch: list[Prepared | Failure], existing: dict[tuple[str, int], str],
            ledger: ownership.Ledger, known_codes: set[str]) -> _Outcome:
    """Each object's outcome against `existing` (the caller's stored versions), which grows with the
    batch's own. Ownership (ledger) decides which new versions are shadows (read by the caller only)."""
    out = _Outcome()
    for item in batch:
        if isinstance(item, Prepared) and not item.recipients <= known_codes:
            unknown = sorted(item.recipients - known_codes)
            item = Failure(item.position, item.stix_id, item.version, f"{item.stix_id}: unknown recipient "
                           f"{', '.join(unknown)}: name existing members or clients (`trilateral member list`)",
                           item.tlp, item.recipients)
        if isinstance(item, Failure):
            out.details.append(_detail(status_id, item, "failure", item.reason))
            out.failed.append((item.stix_id, item.reason))
            continue
        key = (item.stix_id, item.modified_us)
        version_text = item.version or ""
        if item.builtin:  # the hub's policy is built on these; never stored or replaced
            out.details.append(_detail(status_id, item, "duplicate", "built-in definition (not stored)"))
            out.duplicates.append((item.stix_id, version_text))
            continue
        if key in existing:
            if existing[key] == item.content_hash:
                out.details.append(_detail(status_id, item, "duplicate", "identical version already stored"))
                out.duplicates.append((item.stix_id, version_text))
            else:
                reason = (f"{item.stix_id}: version {version_text or '(unversioned)'} is already stored with "
                          "different content; a changed object needs a new 'modified'")
                out.details.append(_detail(status_id, item, "failure", reason))
                out.failed.append((item.stix_id, reason))
            continue
        existing[key] = item.content_hash
        item.shadow = ledger.is_shadow(code, item.stix_id, item.stix_type, item.created_by_ref)
        out.to_insert.append(item)
        out.details.append(_detail(status_id, item, "success", ""))
        out.stored.append((item.stix_id, version_text))
    return out


def _write(conn: sa.Connection, principal: Principal, collection: str, status_id: str, source: str | None,
           outcome: _Outcome, date_added: int, ledger: ownership.Ledger, offsets: Sequence[int]) -> None:
    to_insert = outcome.to_insert
    ledger.save(conn)
    if to_insert:
        code, member = principal.code, principal.member_code
        before = conn.execute(sa.select(sa.func.coalesce(sa.func.max(objects.c.seq), 0))).scalar()
        bulk_insert(conn, objects, _OBJECT_COLUMNS, [
            (collection, p.stix_id, p.stix_type, "2.1", p.version, p.modified_us, date_added + offsets[n], int(p.tlp), code,
             member, p.content_hash, status_id, source, p.ref_id, p.body, p.shadow) for n, p in enumerate(to_insert)])
        seqs = _new_seqs(conn, collection, before, to_insert)
        recips = [(s, c) for s, p in zip(seqs, to_insert, strict=True) for c in p.recipients]
        bulk_insert(conn, object_recipients, ("object_seq", "code"), recips)
        obs = [(s, k, v, member) for s, p in zip(seqs, to_insert, strict=True) for k, v in p.observed]
        if obs:
            bulk_insert(conn, observables, ("object_seq", "kind", "value", "submitter_member"), obs)
            correlate(conn, seqs[0], seqs[-1], status_id, member, date_added)
    bulk_insert(conn, status_details, _DETAIL_COLUMNS, outcome.details)
    digest = hashlib.sha256("\n".join(f"{p.stix_id}|{p.version}" for p in to_insert).encode()).hexdigest()
    audit.append(conn, principal.code, "object.submit", {
        "status_id": status_id, "collection": collection, "source": source, "stored": len(to_insert),
        "failed": len(outcome.failed), "duplicates": len(outcome.duplicates), "objects_sha256": digest})


def _new_seqs(conn: sa.Connection, collection: str, before: int, inserted: list[Prepared]) -> Sequence[int]:
    """The seq of each row just inserted, in insertion order (rows inserted after max(seq) = `before`).

    Writers hold the write lock, and both databases number new rows upwards (SQLite: max + 1,
    PostgreSQL: the identity sequence), so when max(seq) grew by exactly the number of rows they
    are before+1 .. before+n and no read-back is needed. Otherwise (another session drew numbers
    from the sequence meanwhile) they are read back.
    """
    after = conn.execute(sa.select(sa.func.max(objects.c.seq))).scalar() or 0
    if after - before == len(inserted):
        return range(before + 1, after + 1)
    new_seq = {(r.stix_id, r.modified_us): r.seq for r in conn.execute(
        sa.select(objects.c.seq, objects.c.stix_id, objects.c.modified_us)
        .where(objects.c.seq > before, objects.c.collection == collection))}
    return [new_seq[(p.stix_id, p.modified_us)] for p in inserted]


def correlate(conn: sa.Connection, lo: int, hi: int, status_id: str, member: str, now_us: int) -> None:
    """Record a correlation for every value the new objects share with another member's object."""
    new, old = observables.alias("n"), observables.alias("o")
    batch_seqs = sa.select(objects.c.seq).where(objects.c.seq.between(lo, hi), objects.c.status_id == status_id)
    select = (sa.select(old.c.object_seq, new.c.object_seq, new.c.kind, new.c.value, sa.literal(now_us))
              .select_from(new.join(old, sa.and_(old.c.kind == new.c.kind, old.c.value == new.c.value,
                                                 old.c.submitter_member != member)))
              .where(new.c.object_seq.between(lo, hi), new.c.object_seq.in_(batch_seqs)))
    conn.execute(correlations.insert().from_select(["seq_a", "seq_b", "kind", "value", "created_us"], select))


def _detail(status_id: str, item: Prepared | Failure, outcome: str, message: str) -> tuple:
    recipients = orjson.dumps(sorted(item.recipients)).decode() if item.recipients else "[]"
    if isinstance(item, Failure):  # its id, version and message echo arbitrary input: fit the columns
        return (status_id, item.position, _text(item.stix_id, 128), _text(item.version, 40), outcome,
                _text(message, 4000), int(item.tlp), recipients)
    return (status_id, item.position, item.stix_id, item.version, outcome, message, int(item.tlp), recipients)


def _text(value: str | None, limit: int) -> str | None:
    """`value` storable in a text column of `limit` characters on both databases (PostgreSQL refuses NUL)."""
    if value is None:
        return None
    value = value.replace("\x00", "\\u0000")
    return value if len(value) <= limit else value[:limit - 1] + "…"


def submit(engine: sa.Engine, settings: Settings, principal: Principal, payload: Any, collection: str,
           source: str | None, progress: Callable[[int, int], None] | None = None,
           statistics: PlannerStatistics | None = None, json_size: int | None = None) -> SubmitResult:
    if isinstance(payload, Path):
        source = source or str(payload)
        payload = payload.read_bytes()
    items, bundle_id = load_payload(payload, source, settings, json_size)
    source_text = orjson.dumps({"file": source, "bundle": bundle_id}).decode() if (source or bundle_id) else None
    known = known_versions(engine, collection, items)
    refused = refused_markings(items)
    prepared: list[Prepared | Failure] = []
    for i, obj in enumerate(items):
        prepared.append(prepare(i, obj, known, refused, settings.max_recipients))
        if progress is not None and (i + 1) % 1000 == 0:
            progress(i + 1, len(items))
    status_id = str(uuid.uuid4())
    result = SubmitResult(status_id=status_id, date_added=from_micros(time.time_ns() // 1000), total=len(items))
    if not prepared:
        with writing(engine) as conn:
            create_status(conn, status_id, principal, collection, 0, source_text)
        return result
    first_date: int | None = None
    for start in range(0, len(prepared), BATCH_SIZE):
        with writing(engine) as conn:
            if start == 0:  # in the first batch's transaction: one commit fewer per POST
                create_status(conn, status_id, principal, collection, len(items), source_text)
            date_added = store_batch(conn, principal, collection, status_id, source_text,
                                     prepared[start:start + BATCH_SIZE], result, none_stored=not known)
        first_date = date_added if first_date is None else first_date
    if result.stored and statistics is not None:
        statistics.grew(len(result.stored))
    if first_date is not None:
        result = SubmitResult(status_id=result.status_id, date_added=from_micros(first_date), stored=result.stored,
                              duplicates=result.duplicates, failed=result.failed, total=result.total)
    return result
