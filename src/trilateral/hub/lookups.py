"""Indexed look-ups for screening: which readable indicators name a value, and which are DPRK-linked.

Screening used to page through every indicator the caller may read and build a dictionary of them
on each call (18 s at ~410,000 readable indicators). Here the `observables` index (normalised kind,
value -> object row) and the `ref_id` index (a relationship's target) narrow the work to the rows
that can matter, and only then are the objects read through `Hub.query` by id: the same read path,
policy (`may_read` in SQL), latest-version rule and read audit as every other read. The SQL step
only proposes candidates; what the caller receives is what `Hub.query` returned, re-checked against
its content (a newer version that no longer names the value is not a hit). Cost follows the number of
matching rows, not the size of the hub.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.hub.database import reading, text_in
from trilateral.hub.errors import NotFound
from trilateral.hub.observables import normalise, observables_of
from trilateral.hub.policy import visible_clause
from trilateral.hub.schema import object_recipients, objects, observables
from trilateral.hub.types import StoredObject

_CHUNK = 500
MAX_REF_LENGTH = 128  # objects.ref_id


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def read_by_ids(hub, principal: Principal, found: dict[str, set[str]], types: list[str]) -> list[StoredObject]:
    """The latest readable version of each (collection -> ids) through `Hub.query` (policy, audit)."""
    out: list[StoredObject] = []
    for collection, ids in sorted(found.items()):
        for chunk in _chunks(sorted(ids)):
            cursor = None
            while True:
                try:
                    page = hub.query(principal, collection=collection, ids=chunk, types=types, cursor=cursor)
                except NotFound:  # a collection the caller may not use (e.g. a revoked member's)
                    break
                out.extend(page.records)
                if not page.more:
                    break
                cursor = page.next_cursor
    return out


def _candidates(hub, principal: Principal, select_for) -> dict[str, set[str]]:
    """collection -> stix ids of visible rows that `select_for(conn)` proposes (a superset)."""
    found: dict[str, set[str]] = defaultdict(set)
    with reading(hub.engine) as conn:
        for statement in select_for(conn):
            for collection, stix_id in conn.execute(statement):
                found[collection].add(stix_id)
    return found


def indicators_naming(hub, principal: Principal, kind: str, values: Iterable[str]
                      ) -> dict[str, list[StoredObject]]:
    """Normalised value -> the indicators (latest readable version) whose pattern names it by `=`.

    `values` are normalised like the index (`observables.normalise`); unparseable ones are skipped.
    """
    wanted = sorted({v for v in (normalise(kind, x) for x in values) if v is not None})
    if not wanted:
        return {}
    o, ob = objects, observables

    def statements(conn: sa.Connection) -> Iterator[sa.Select]:
        for chunk in _chunks(wanted):
            yield (sa.select(o.c.collection, o.c.stix_id).distinct()
                   .select_from(ob.join(o, o.c.seq == ob.c.object_seq))
                   .where(ob.c.kind == kind, text_in(conn, ob.c.value, chunk), o.c.stix_type == "indicator",
                          visible_clause(principal, o, object_recipients)))

    found = _candidates(hub, principal, statements)
    if not found:
        return {}
    wanted_set = set(wanted)
    out: dict[str, list[StoredObject]] = defaultdict(list)
    for record in read_by_ids(hub, principal, found, ["indicator"]):
        for k, value in observables_of(record.object):
            if k == kind and value in wanted_set:
                out[value].append(record)
    return dict(out)


def relationships_to(hub, principal: Principal, targets: set[str], relationship_type: str) -> list[dict]:
    """Readable relationships of `relationship_type` whose target_ref is one of `targets`."""
    targets = {t.lower() for t in targets if isinstance(t, str)}  # ids compare lower-case
    refs = sorted(t for t in targets if len(t) <= MAX_REF_LENGTH)
    if not refs:
        return []
    o = objects

    def statements(conn: sa.Connection) -> Iterator[sa.Select]:
        for chunk in _chunks(refs):
            yield (sa.select(o.c.collection, o.c.stix_id).distinct()
                   .where(text_in(conn, o.c.ref_id, chunk), o.c.stix_type == "relationship",
                          visible_clause(principal, o, object_recipients)))

    found = _candidates(hub, principal, statements)
    out = []
    for record in read_by_ids(hub, principal, found, ["relationship"]):
        obj = record.object
        if obj.get("relationship_type") == relationship_type and str(obj.get("target_ref", "")).lower() in targets:
            out.append(obj)
    return out


def readable_of_type(hub, principal: Principal, stix_type: str) -> list[StoredObject]:
    """Every readable object of one type (meant for small types such as intrusion-set), from the
    collections the caller may use (not a revoked member's: the same rule as export)."""
    active = {c.id for c in hub.collections(principal)}
    out: list[StoredObject] = []
    cursor = None
    while True:
        page = hub.query(principal, collection=None, types=[stix_type], cursor=cursor)
        out.extend(r for r in page.records if r.collection in active)
        if not page.more:
            return out
        cursor = page.next_cursor


def wallets_of_indicators(hub, principal: Principal, indicator_ids: set[str]) -> set[str]:
    """Normalised wallet addresses named by the readable indicators among `indicator_ids`."""
    ids = {i for i in indicator_ids if isinstance(i, str)}
    if not ids:
        return set()
    # by (collection, id): the primary look-up index, in every collection the caller may use
    found = {c.id: ids for c in hub.collections(principal)}
    out: set[str] = set()
    for record in read_by_ids(hub, principal, found, ["indicator"]):
        out.update(value for kind, value in observables_of(record.object) if kind == "wallet")
    return out
