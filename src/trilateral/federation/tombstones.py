"""Deletions on a federation node: a tombstone object per deleted version, and applying peers' ones.

A tombstone is ordinary STIX content (`x-trilateral-tombstone`) stored in the same collection with
the deleted version's marking, so it travels over TAXII to exactly the nodes that could read the
version, through the same policy, and on around a ring. Applying one removes only versions that
sync created from the tombstone's own origin node; the (id, version) is remembered so that a late
copy arriving through another peer is not stored again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.federation import schema
from trilateral.federation.core import TOMBSTONE_TYPE, tombstone
from trilateral.federation.store import now_us
from trilateral.hub import ingest
from trilateral.hub.reads import SYNCED_FROM
from trilateral.hub.schema import object_recipients, objects
from trilateral.hub.types import SubmitResult, format_timestamp, from_micros, parse_timestamp, to_micros


def _now_text() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def record_deletion(conn: sa.Connection, principal: Principal, collection: str, seqs: list[int], node: str) -> None:
    """Inside the delete's transaction: remember the deleted versions and store their tombstones."""
    o = objects.c
    rows = conn.execute(sa.select(o.seq, o.stix_id, o.version, o.modified_us, o.date_added_us, o.tlp)
                        .where(o.seq.in_(seqs))).all()
    named: dict[int, set[str]] = {}
    for r in conn.execute(sa.select(object_recipients).where(object_recipients.c.object_seq.in_(seqs))):
        named.setdefault(r.object_seq, set()).add(r.code)
    when, stamp = _now_text(), now_us()
    stones = []
    for r in rows:
        if r.stix_id.startswith(TOMBSTONE_TYPE + "--"):
            continue  # deleting a tombstone itself is local housekeeping
        version = r.version or format_timestamp(from_micros(r.date_added_us))
        stones.append(tombstone(r.stix_id, version, Tlp(r.tlp), frozenset(named.get(r.seq, ())), when))
        conn.execute(schema.tombstones.insert().values(collection=collection, stix_id=r.stix_id,
                                                       modified_us=r.modified_us, origin=node, deleted_us=stamp))
    if not stones:
        return
    prepared = [ingest.prepare(i, obj) for i, obj in enumerate(stones)]
    status_id = str(uuid.uuid4())
    ingest.create_status(conn, status_id, principal, collection, len(prepared), None)
    result = SubmitResult(status_id=status_id, date_added=from_micros(stamp), total=len(prepared))
    ingest.store_batch(conn, principal, collection, status_id, None, prepared, result)
    if result.failed:
        raise RuntimeError(f"tombstone refused by the hub: {result.failed[0][1]}")


def apply(conn: sa.Connection, collection: str, stone: dict, origin: str) -> int:
    """Delete the version a peer's tombstone names, if sync created it from `origin`; versions deleted."""
    target, version = stone.get("object_ref"), stone.get("deleted_version")
    if not isinstance(target, str) or not isinstance(version, str):
        return 0
    try:
        modified_us = to_micros(parse_timestamp(version))
    except ValueError:
        return 0
    t = schema.tombstones.c
    exists = conn.execute(sa.select(t.stix_id).where(t.collection == collection, t.stix_id == target,
                                                     t.modified_us == modified_us)).first()
    if exists is None:
        conn.execute(schema.tombstones.insert().values(collection=collection, stix_id=target, modified_us=modified_us,
                                                       origin=origin, deleted_us=now_us()))
    o = objects.c
    # only what sync stored from that origin (objects.source): never a local submitter's version
    done = conn.execute(objects.delete().where(o.stix_id == target, o.collection == collection,
                                               o.modified_us == modified_us, o.source == SYNCED_FROM + origin))
    return done.rowcount or 0


def describe(stone: dict) -> str:
    return orjson.dumps({"object_ref": stone.get("object_ref"), "version": stone.get("deleted_version")}).decode()
