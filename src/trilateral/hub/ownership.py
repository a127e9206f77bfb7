"""Who may add a version of an id: the principal that stored its first version (issue 14).

Rule: the first principal to store an id owns it (table `object_owners`, ids lower-case). A version
from anyone else is stored as a *shadow*: a copy only its submitter reads. Nobody else's reads,
counts or versions change, and the submitter gets exactly the answer it would get for an id nobody
holds -- refusing would tell it that the id exists (an oracle on objects it may not read).

`created_by_ref` binds an object to an identity: the identity id is owned like any other id (by the
principal that first stored it or first named it as author), and a version naming an identity owned
by someone else is a shadow too, so nobody can publish in another principal's name.

Deterministic-id SCOs (`ipv4-addr--<uuid5 of the value>`) are the same id for everyone: they have no
owner; each submitter's copy is its own row (versions are unique per submitter) and is read under
its own markings, never blocking, replacing or revealing another's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import sqlalchemy as sa

from trilateral.hub.database import bulk_insert, text_in
from trilateral.hub.schema import object_owners

SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate"})
_CHUNK = 5000  # ids per look-up: one parameter each (database.text_in)


def is_sco(stix_type: str) -> bool:
    return stix_type in SCO_TYPES


def load_owners(conn: sa.Connection, ids: Iterable[str]) -> dict[str, str]:
    """id -> owner code for the (lower-case) ids that have an owner."""
    ordered = sorted(set(ids))
    out: dict[str, str] = {}
    for i in range(0, len(ordered), _CHUNK):
        rows = conn.execute(sa.select(object_owners.c.stix_id, object_owners.c.owner)
                            .where(text_in(conn, object_owners.c.stix_id, ordered[i:i + _CHUNK])))
        out.update({r.stix_id: r.owner for r in rows})
    return out


class Ledger:
    """Owners of the ids a batch touches, with the claims it makes (written by `save`)."""

    def __init__(self, owners: dict[str, str]) -> None:
        self.owners = owners
        self.claims: dict[str, tuple[str, str | None]] = {}

    def is_shadow(self, code: str, stix_id: str, stix_type: str, created_by_ref: str | None) -> bool:
        """True when `code` may not add this version for others to read; claims free ids for it."""
        if is_sco(stix_type):
            return False
        owner = self.owners.get(stix_id)
        if owner is not None and owner != code:
            return True
        if created_by_ref and created_by_ref != stix_id:
            author = self.owners.get(created_by_ref)
            if author is not None and author != code:
                return True
            self._claim(code, created_by_ref, None)
        self._claim(code, stix_id, created_by_ref)
        return False

    def _claim(self, code: str, stix_id: str, created_by_ref: str | None) -> None:
        if stix_id not in self.owners:
            self.owners[stix_id] = code
            self.claims[stix_id] = (code, created_by_ref)

    def save(self, conn: sa.Connection) -> None:
        now = time.time_ns() // 1000
        rows = [(i, code, cbr, now) for i, (code, cbr) in self.claims.items()]
        if rows:
            bulk_insert(conn, object_owners, ("stix_id", "owner", "created_by_ref", "created_us"), rows)
        self.claims.clear()
