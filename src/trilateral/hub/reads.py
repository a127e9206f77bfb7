"""Read paths: TAXII-shaped query, manifest and versions, with keyset paging and signed cursors.

The policy is part of every SQL statement (policy.visible_clause), so a page, its `more` flag and
its cursor are computed only over what the caller may read. Pages are keyset-ordered on
(date_added_us, seq): any number of objects sharing one date_added page correctly, and a page costs
the same at object 10 as at object 1,000,000. The cursor holds only the position; it is HMAC-signed
with a server secret and bound to the principal and to the filters, and the policy is re-applied
for whoever presents it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from Crypto.Cipher import AES

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub.errors import InputError, InvalidCursor
from trilateral.hub.markings import strip_granular
from trilateral.hub.policy import ObjectMeta, node_visible_clause, visible_clause
from trilateral.hub.recipients import recipients_of
from trilateral.hub.schema import object_recipients, objects, principals
from trilateral.hub.types import (
    ManifestRecord,
    QueryPage,
    StoredObject,
    format_timestamp,
    from_micros,
    parse_timestamp,
    to_micros,
)

MAX_PAGE = 10_000
# objects.source of a version a federation node received: this prefix and its origin node
SYNCED_FROM = "federation:"


def as_micros(value: datetime | str | None) -> int | None:
    if value is None:
        return None
    try:
        return to_micros(parse_timestamp(value) if isinstance(value, str) else value)
    except ValueError as exc:
        why = str(exc) if "outside the years" in str(exc) else "not an RFC 3339 timestamp"
        raise InputError(f"{value!r} is {why.removeprefix(repr(value) + ' is ')}") from None
    except OverflowError:  # a datetime near year 1 or 9999 given directly
        raise InputError(f"{value!r} is outside the years 1-9999 once converted to UTC") from None


def normalise_versions(versions: str | Sequence[str] | None) -> tuple[str, ...]:
    if versions is None:
        return ("last",)
    items = [versions] if isinstance(versions, str) else list(versions)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if part in ("first", "last", "all"):
                out.append(part)
            else:
                out.append(str(as_micros(part)))
    return tuple(sorted(set(out))) or ("last",)


class Filters:
    """The filters of one request, normalised, with the digest a cursor is bound to."""

    def __init__(self, collection: str | None, added_after: datetime | str | None, ids: Sequence[str] | None,
                 types: Sequence[str] | None, versions: str | Sequence[str] | None,
                 spec_versions: Sequence[str] | None) -> None:
        self.collection = collection
        self.added_after = as_micros(added_after)
        self.ids = tuple(sorted({i.lower() for i in ids})) if ids else None  # ids compare lower-case
        self.types = tuple(sorted(set(types))) if types else None
        self.versions = normalise_versions(versions)
        self.spec_versions = tuple(sorted(set(spec_versions))) if spec_versions else None
        self.within: tuple[str, ...] | None = None  # collection None: only these collections (export)
        # set when the caller is a peer node (federation): it reads on behalf of the principals it
        # hosts, and is never served the versions that came from it (docs/federation.md)
        self.peer: str | None = None
        # origins whose received versions the reader leaves out (it reads those nodes directly)
        self.skip_origins: tuple[str, ...] = ()

    def digest(self, kind: str) -> str:
        data = [kind, self.collection, self.added_after, self.ids, self.types, self.versions, self.spec_versions,
                self.within]
        if self.peer is not None:
            data.append(["peer", self.peer])
        if self.skip_origins:
            data.append(["skip", list(self.skip_origins)])
        return hashlib.sha256(orjson.dumps(data)).hexdigest()[:32]

    def where(self, principal: Principal, o: Any) -> list[sa.ColumnElement]:
        conds: list[sa.ColumnElement] = [self._visible(principal, o)]
        left_out = sorted({*([self.peer] if self.peer is not None else []), *self.skip_origins})
        if left_out:  # a plain column test: no join for the planner to get wrong
            sources = [SYNCED_FROM + code for code in left_out]
            conds.append(sa.or_(o.c.source.is_(None), o.c.source.not_in(sources)))
        if self.collection is not None:
            conds.append(o.c.collection == self.collection)
        elif self.within is not None:
            conds.append(o.c.collection.in_(self.within))
        if self.added_after is not None:
            conds.append(o.c.date_added_us > self.added_after)
        if self.ids:
            conds.append(o.c.stix_id.in_(self.ids))
        if self.types:
            conds.append(o.c.stix_type.in_(self.types))
        if self.spec_versions:
            conds.append(o.c.spec_version.in_(self.spec_versions))
        if "all" not in self.versions:
            choices: list[sa.ColumnElement] = []
            for name, newer in (("last", True), ("first", False)):
                if name in self.versions:
                    other = objects.alias()
                    cmp = other.c.modified_us > o.c.modified_us if newer else other.c.modified_us < o.c.modified_us
                    choices.append(~sa.exists().where(other.c.collection == o.c.collection,
                                                      other.c.stix_id == o.c.stix_id, cmp,
                                                      self._visible(principal, other)))
            stamps = [int(v) for v in self.versions if v not in ("first", "last")]
            if stamps:
                choices.append(o.c.modified_us.in_(stamps))
            conds.append(sa.or_(*choices))
        return conds


    def _visible(self, principal: Principal, o: Any) -> sa.ColumnElement:
        if self.peer is not None and principal.code == self.peer and principal.is_member:
            return node_visible_clause(principal, o, object_recipients, principals)
        return visible_clause(principal, o, object_recipients)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cursor_key(secret: bytes) -> bytes:
    return hashlib.sha256(b"trilateral cursor key|" + secret).digest()


def make_cursor(secret: bytes, principal: Principal, digest: str, date_added_us: int, seq: int) -> str:
    """An opaque token: the position (date_added, global seq) encrypted and authenticated (AES-GCM)
    with the principal and the filters as associated data. The seq is a global row number; in clear
    text, two cursors would tell how many rows (hidden ones included) lie between them."""
    nonce = secrets.token_bytes(12)
    cipher = AES.new(_cursor_key(secret), AES.MODE_GCM, nonce=nonce, mac_len=16)
    cipher.update(f"{principal.code}|{digest}".encode())
    body, tag = cipher.encrypt_and_digest(struct.pack(">qq", date_added_us, seq))
    return _b64(nonce + body + tag)


def read_cursor(secret: bytes, principal: Principal, digest: str, cursor: str) -> tuple[int, int]:
    try:
        raw = _unb64(cursor)
    except (ValueError, TypeError):
        raise InvalidCursor("the paging cursor is malformed; start again without 'next'") from None
    if len(raw) != 12 + 16 + 16:
        raise InvalidCursor("the paging cursor is malformed; start again without 'next'")
    cipher = AES.new(_cursor_key(secret), AES.MODE_GCM, nonce=raw[:12], mac_len=16)
    cipher.update(f"{principal.code}|{digest}".encode())
    try:
        d, s = struct.unpack(">qq", cipher.decrypt_and_verify(raw[12:28], raw[28:]))
    except ValueError:
        raise InvalidCursor("the paging cursor was not issued by this hub for this principal and query; "
                            "start again without 'next'") from None
    return d, s


def columns_of(kind: str) -> list[sa.Column]:
    o = objects
    columns = [o.c.seq, o.c.collection, o.c.stix_id, o.c.version, o.c.modified_us, o.c.date_added_us,
               o.c.spec_version, o.c.tlp, o.c.submitter_code, o.c.submitter_member]
    return columns + [o.c.body, o.c.source] if kind == "objects" else columns


def newest_page(conn: sa.Connection, principal: Principal, filters: Filters, limit: int) -> QueryPage:
    """The newest visible versions, latest first, as one page (no cursor): the same index read
    backwards, for screens that show what just arrived."""
    size = max(1, min(limit, MAX_PAGE))
    o = objects
    rows = conn.execute(sa.select(*columns_of("objects")).where(*filters.where(principal, o))
                        .order_by(o.c.date_added_us.desc(), o.c.seq.desc()).limit(size + 1)).all()
    return QueryPage([stored_object(r, principal) for r in rows[:size]], len(rows) > size, None)


def page(conn: sa.Connection, secret: bytes, principal: Principal, filters: Filters, *, kind: str,
         limit: int | None, cursor: str | None) -> tuple[list[sa.Row], bool, str | None]:
    """One keyset page of visible versions: rows, whether more follow, and the signed next cursor."""
    if limit is not None and limit < 1:
        raise InputError(f"limit must be a positive integer, not {limit}")
    size = min(limit or MAX_PAGE, MAX_PAGE)
    o = objects
    digest = filters.digest(kind)
    conds = filters.where(principal, o)
    if cursor:
        d, s = read_cursor(secret, principal, digest, cursor)
        # a row-value comparison, not an OR of two conditions, so both SQLite and PostgreSQL seek the
        # (collection, date_added_us, seq) index to the cursor instead of filtering from the start
        conds.append(sa.tuple_(o.c.date_added_us, o.c.seq) > sa.tuple_(sa.literal(d), sa.literal(s)))
    columns = columns_of(kind)
    order: tuple[Any, ...] = (o.c.date_added_us, o.c.seq)
    if filters.ids and conn.dialect.name == "sqlite":
        # An id look-up must probe uq_objects_version (stix_id, collection, ...). Sorting on the bare
        # columns lets SQLite's planner walk ix_objects_page instead, which reads the whole collection
        # (O(N) per look-up); sorting on an expression takes that index out of the choice.
        order = (o.c.date_added_us + 0, o.c.seq)
    rows = conn.execute(sa.select(*columns).where(*conds).order_by(*order).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = make_cursor(secret, principal, digest, rows[-1].date_added_us, rows[-1].seq) if more else None
    return rows, more, next_cursor


def version_text(row: sa.Row) -> str:
    return row.version or format_timestamp(from_micros(row.date_added_us))


def stored_object(row: sa.Row, principal: Principal | None = None) -> StoredObject:
    body = row.body if principal is None else body_for(principal, row)
    return StoredObject(id=row.stix_id, modified=version_text(row), date_added=from_micros(row.date_added_us),
                        spec_version=row.spec_version, tlp=Tlp(row.tlp), submitted_by=row.submitter_code,
                        raw_json=body, collection=row.collection, seq=row.seq,
                        submitter_member=row.submitter_member, origin=origin_of(row.source))


def origin_of(source: str | None) -> str | None:
    """The node a version came from when federation sync stored it (`objects.source`), else None."""
    return source[len(SYNCED_FROM):] if source and source.startswith(SYNCED_FROM) else None


def body_for(principal: Principal, row: Any) -> str:
    """The stored JSON as `principal` may read it: granular markings it may not read remove the
    properties they cover (markings.strip_granular). Every read of object content goes through here."""
    if "granular_markings" not in row.body or row.submitter_code == principal.code:
        return row.body
    obj = orjson.loads(row.body)
    meta = ObjectMeta(Tlp(row.tlp), row.submitter_code, row.submitter_member, recipients_of(obj))
    out = strip_granular(principal, meta, obj)
    return row.body if out is obj else orjson.dumps(out, option=orjson.OPT_SORT_KEYS).decode()


def manifest_record(row: sa.Row) -> ManifestRecord:
    return ManifestRecord(id=row.stix_id, date_added=from_micros(row.date_added_us), version=version_text(row))


def query_page(conn: sa.Connection, secret: bytes, principal: Principal, filters: Filters, limit: int | None,
               cursor: str | None) -> QueryPage:
    rows, more, nxt = page(conn, secret, principal, filters, kind="objects", limit=limit, cursor=cursor)
    return QueryPage([stored_object(r, principal) for r in rows], more, nxt)


def manifest_page(conn: sa.Connection, secret: bytes, principal: Principal, filters: Filters, limit: int | None,
                  cursor: str | None) -> QueryPage:
    rows, more, nxt = page(conn, secret, principal, filters, kind="manifest", limit=limit, cursor=cursor)
    return QueryPage([manifest_record(r) for r in rows], more, nxt)


def sensitive_ids(records: list[StoredObject]) -> list[str]:
    """Ids of AMBER+STRICT and RED versions in a response: these reads are audited."""
    return sorted({f"{r.id}|{r.modified}" for r in records if r.tlp >= Tlp.AMBER_STRICT})
