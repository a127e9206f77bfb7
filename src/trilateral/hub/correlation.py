"""Reading correlations and sighting counts, each filtered by the policy on every object involved."""

from __future__ import annotations

import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub.policy import visible_clause
from trilateral.hub.schema import correlations, object_recipients, objects
from trilateral.hub.types import Correlation, from_micros

_CHUNK = 5000


def list_correlations(conn: sa.Connection, principal: Principal, limit: int = 10_000
                      ) -> tuple[list[Correlation], list[str]]:
    """Correlations whose two objects the principal may both read (either hidden: not listed), and
    the ids of the AMBER+STRICT or RED objects among them (the value shown is their content).

    Two steps per chunk (correlation rows by id, then their objects by primary key with the policy)
    rather than one three-way join: on a large store PostgreSQL's planner, with statistics taken
    before the correlations existed, chose sequential scans of `objects` for the join (4 s at 1M).
    """
    out: list[Correlation] = []
    sensitive: set[str] = set()
    after = 0
    while len(out) < limit:
        chunk = conn.execute(sa.select(correlations).where(correlations.c.id > after)
                             .order_by(correlations.c.id).limit(_CHUNK)).all()
        if not chunk:
            break
        after = chunk[-1].id
        seqs = sorted({r.seq_a for r in chunk} | {r.seq_b for r in chunk})
        visible = {}
        for i in range(0, len(seqs), 1000):
            rows = conn.execute(sa.select(objects.c.seq, objects.c.stix_id, objects.c.submitter_member,
                                          objects.c.collection, objects.c.tlp)
                                .where(objects.c.seq.in_(seqs[i:i + 1000]),
                                       visible_clause(principal, objects, object_recipients)))
            visible.update({r.seq: r for r in rows})
        for r in chunk:
            a, b = visible.get(r.seq_a), visible.get(r.seq_b)
            if a is None or b is None:
                continue
            out.append(Correlation(kind=r.kind, value=r.value, object_ids=(a.stix_id, b.stix_id),
                                   members=(a.submitter_member, b.submitter_member),
                                   collections=(a.collection, b.collection), created=from_micros(r.created_us)))
            sensitive.update(o.stix_id for o in (a, b) if o.tlp >= Tlp.AMBER_STRICT)
            if len(out) >= limit:
                break
    return out, sorted(sensitive)


def sighting_counts(conn: sa.Connection, principal: Principal, indicator_id: str) -> dict[str, int]:
    """Per member, the number of distinct sightings of the indicator the principal may read.

    Empty when the principal may read no version of the indicator itself, so counts never confirm
    that a hidden indicator exists.
    """
    indicator_id = indicator_id.lower()
    ind = objects.alias("i")
    visible_indicator = conn.execute(sa.select(ind.c.seq).where(
        ind.c.stix_id == indicator_id, visible_clause(principal, ind, object_recipients)).limit(1)).first()
    if visible_indicator is None:
        return {}
    s = objects.alias("s")
    rows = conn.execute(
        sa.select(s.c.submitter_member, sa.func.count(sa.distinct(s.c.stix_id)))
        .where(s.c.ref_id == indicator_id, s.c.stix_type == "sighting",
               visible_clause(principal, s, object_recipients))
        .group_by(s.c.submitter_member))
    return {member: int(count) for member, count in rows}
