"""The federation tables: node identity, peers, cursors, provenance, tombstones (SQL edge)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from trilateral.core.errors import InputError
from trilateral.federation import schema
from trilateral.federation.core import Cursor
from trilateral.hub import ownership
from trilateral.hub.database import text_in
from trilateral.hub.schema import meta

NODE_KEY = "federation_node"
_CHUNK = 5000  # ids per look-up: one parameter each (database.text_in)


def now_us() -> int:
    return time.time_ns() // 1000


def node_code(conn: sa.Connection) -> str | None:
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == NODE_KEY)).scalar()


def set_node_code(conn: sa.Connection, code: str) -> None:
    current = node_code(conn)
    if current is not None and current != code:
        raise InputError(f"this hub is already member {current}'s node; a node cannot change member")
    if current is None:
        conn.execute(meta.insert().values(key=NODE_KEY, value=code))


@dataclass(frozen=True)
class Peer:
    code: str
    url: str
    token: str | None
    last_attempt_us: int | None
    last_ok_us: int | None
    last_error: str | None
    received: int


def peers(conn: sa.Connection, code: str | None = None) -> list[Peer]:
    q = sa.select(schema.peers).order_by(schema.peers.c.code)
    if code is not None:
        q = q.where(schema.peers.c.code == code)
    return [Peer(r.code, r.url, r.token, r.last_attempt_us, r.last_ok_us, r.last_error, r.received)
            for r in conn.execute(q)]


def peer_codes(conn: sa.Connection) -> set[str]:
    return set(conn.execute(sa.select(schema.peers.c.code)).scalars())


def add_peer(conn: sa.Connection, code: str, url: str) -> None:
    row = conn.execute(sa.select(schema.peers.c.code).where(schema.peers.c.code == code)).first()
    if row is None:
        conn.execute(schema.peers.insert().values(code=code, url=url, added_us=now_us(), received=0))
    else:
        conn.execute(schema.peers.update().where(schema.peers.c.code == code).values(url=url))


def set_token(conn: sa.Connection, code: str, token: str) -> None:
    done = conn.execute(schema.peers.update().where(schema.peers.c.code == code).values(token=token))
    if not done.rowcount:
        raise InputError(f"no peer {code}: add it first with `trilateral peer add {code} --url URL`")


def remove_peer(conn: sa.Connection, code: str) -> None:
    done = conn.execute(schema.peers.delete().where(schema.peers.c.code == code))
    if not done.rowcount:
        raise InputError(f"no peer {code} (see `trilateral peer list`)")
    conn.execute(schema.cursors.delete().where(schema.cursors.c.peer == code))


def record_attempt(conn: sa.Connection, code: str, error: str | None, received: int) -> None:
    values: dict = {"last_attempt_us": now_us(), "last_error": error,
                    "received": schema.peers.c.received + received}
    if error is None:
        values["last_ok_us"] = values["last_attempt_us"]
    conn.execute(schema.peers.update().where(schema.peers.c.code == code).values(**values))


def load_cursor(conn: sa.Connection, peer: str, collection: str) -> Cursor:
    c = schema.cursors.c
    row = conn.execute(sa.select(schema.cursors).where(c.peer == peer, c.collection == collection)).first()
    return Cursor(row.added_after, row.next_token, row.round_last) if row else Cursor()


def save_cursor(conn: sa.Connection, peer: str, collection: str, cursor: Cursor) -> None:
    c = schema.cursors.c
    values = {"added_after": cursor.added_after, "next_token": cursor.next_token, "round_last": cursor.round_last,
              "updated_us": now_us()}
    done = conn.execute(schema.cursors.update().where(c.peer == peer, c.collection == collection).values(**values))
    if not done.rowcount:
        conn.execute(schema.cursors.insert().values(peer=peer, collection=collection, **values))


def owners(conn: sa.Connection, ids: Iterable[str]) -> dict[str, str]:
    """stix id -> its owner here (hub/ownership.py: the principal that stored its first version)."""
    return ownership.load_owners(conn, ids)


def tombstoned(conn: sa.Connection, collection: str, ids: Iterable[str]) -> set[tuple[str, int]]:
    t = schema.tombstones.c
    out: set[tuple[str, int]] = set()
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _CHUNK):
        rows = conn.execute(sa.select(t.stix_id, t.modified_us).where(
            t.collection == collection, text_in(conn, t.stix_id, ordered[i:i + _CHUNK])))
        out.update((r.stix_id, r.modified_us) for r in rows)
    return out
