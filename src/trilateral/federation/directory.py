"""Which node hosts which client: published as STIX `identity` objects, learnt from peers.

A peer reads this node for its member and its clients (policy.may_read_for_node), so this node must
know a peer's clients to hand over RED versions naming them. Each node publishes its own clients as
`identity` objects marked TLP:AMBER+STRICT (members only) in its member collection; a peer learns a
client only from the node that sponsors it (the identity's origin), and only a code not already
taken here, so a node cannot claim another node's client.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub import audit
from trilateral.hub.database import AUDIT_LOCK_KEY
from trilateral.hub.hub import Hub
from trilateral.hub.ingest import DATE_WINDOW_US, random_offsets
from trilateral.hub.schema import object_recipients, objects, principals

CODE_KEY = "x_trilateral_code"
SPONSOR_KEY = "x_trilateral_client_of"
_NAMESPACE = uuid.UUID("0c1f6b0e-3c43-4c39-9a0c-52b1c1e4d7aa")


def _stamp(micros: int) -> str:
    when = datetime.fromtimestamp(micros // 1_000_000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(micros % 1_000_000) // 1000:03d}Z"


def client_identity(code: str, name: str, sponsor: str, created_us: int) -> dict[str, Any]:
    """The directory entry of one client; the same client always gives the same object."""
    stamp = _stamp(created_us)
    return {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid5(_NAMESPACE, code)}",
            "created": stamp, "modified": stamp, "name": name, "identity_class": "organization",
            CODE_KEY: code, SPONSOR_KEY: sponsor, "object_marking_refs": [TLP2_MARKING_IDS[Tlp.AMBER_STRICT]]}


def publish(hub: Hub, node: str) -> None:
    """Store the directory entries of this node's clients (identical ones are duplicates: cheap)."""
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(principals).where(principals.c.sponsor == node,
                                                        principals.c.token_hash.is_not(None))).all()
    if rows:
        entries = [client_identity(r.code, r.name, node, r.created_us) for r in rows]
        hub.submit(Principal(node, PrincipalKind.MEMBER), entries, collection=f"member-{node}", source="directory")


def learn(conn: sa.Connection, obj: dict[str, Any], origin: str) -> str | None:
    """Register a peer's client from its directory entry; a reason when the entry is refused."""
    code, sponsor = obj.get(CODE_KEY), obj.get(SPONSOR_KEY)
    if not isinstance(code, str) or not isinstance(sponsor, str):
        return None
    code, sponsor = code.strip().upper(), sponsor.strip().upper()
    if sponsor != origin:
        return f"{obj.get('id')}: node {origin} may not declare {code} a client of {sponsor}"
    row = conn.execute(sa.select(principals.c.kind, principals.c.sponsor).where(principals.c.code == code)).first()
    if row is not None:
        if row.sponsor == sponsor:
            return None
        return f"{obj.get('id')}: {code} is already {row.kind} {row.sponsor or ''} here; not a client of {sponsor}"
    name = obj.get("name") if isinstance(obj.get("name"), str) else code
    conn.execute(principals.insert().values(code=code, name=f"{name} (on {sponsor}'s node)", kind="client",
                                            sponsor=sponsor, token_hash=None, created_us=time.time_ns() // 1000))
    readded = _readd_named(conn, code)
    audit.append(conn, f"node:{origin}", "principal.learn", {"code": code, "sponsor": sponsor, "readded": readded})
    return None


def _readd_named(conn: sa.Connection, code: str) -> int:
    """Give RED versions naming a newly learnt client a new date_added, so its node's next pull sees them.

    Its node's cursor may already be past versions stored before this node knew the client (a version
    relayed from a third node, or one stored before the directory arrived). Only readers of those versions are affected: the submitter, which
    may see them once more (idempotent), and the new reader. date_added stays unique and in commit order.
    """
    o = objects.c
    named = sa.select(object_recipients.c.object_seq).where(object_recipients.c.code == code)
    rows = conn.execute(sa.select(o.seq, o.collection).where(o.tlp == int(Tlp.RED), o.seq.in_(named))
                        .order_by(o.date_added_us, o.seq)).all()
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK_KEY})
    by_collection: dict[str, list[int]] = {}
    for r in rows:
        by_collection.setdefault(r.collection, []).append(r.seq)
    for collection, seqs in by_collection.items():
        last = conn.execute(sa.select(sa.func.max(o.date_added_us)).where(o.collection == collection)).scalar()
        start = max(time.time_ns() // 1000, (last or 0) + 1)
        # random gaps, as hub.ingest.store_batch draws them (gaps must not count hidden versions)
        offsets = sorted(random_offsets(max(DATE_WINDOW_US, 20 * len(seqs)), len(seqs)))
        for offset, seq in zip(offsets, seqs, strict=True):
            conn.execute(objects.update().where(o.seq == seq).values(date_added_us=start + offset))
    return len(rows)
