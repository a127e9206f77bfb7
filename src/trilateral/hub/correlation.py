"""Reading correlations and sighting counts, each filtered by the policy on every object involved."""

from __future__ import annotations

import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub.policy import visible_clause
from trilateral.hub.schema import correlations, object_recipients, objects
from trilateral.hub.types import Correlation, from_micros


def list_correlations(conn: sa.Connection, principal: Principal, limit: int = 10_000
                      ) -> tuple[list[Correlation], list[str]]:
    """Correlations whose two objects the principal may both read (either hidden: not listed), and
    the ids of the AMBER+STRICT or RED objects among them (the value shown is their content)."""
    a, b = objects.alias("a"), objects.alias("b")
    rows = conn.execute(
        sa.select(correlations.c.kind, correlations.c.value, correlations.c.created_us,
                  a.c.stix_id.label("a_id"), b.c.stix_id.label("b_id"),
                  a.c.submitter_member.label("a_member"), b.c.submitter_member.label("b_member"),
                  a.c.collection.label("a_coll"), b.c.collection.label("b_coll"),
                  a.c.tlp.label("a_tlp"), b.c.tlp.label("b_tlp"))
        .select_from(correlations.join(a, a.c.seq == correlations.c.seq_a).join(b, b.c.seq == correlations.c.seq_b))
        .where(visible_clause(principal, a, object_recipients), visible_clause(principal, b, object_recipients))
        .order_by(correlations.c.id).limit(limit))
    out, sensitive = [], set()
    for r in rows:
        out.append(Correlation(kind=r.kind, value=r.value, object_ids=(r.a_id, r.b_id),
                               members=(r.a_member, r.b_member), collections=(r.a_coll, r.b_coll),
                               created=from_micros(r.created_us)))
        sensitive.update(i for i, t in ((r.a_id, r.a_tlp), (r.b_id, r.b_tlp)) if t >= Tlp.AMBER_STRICT)
    return out, sorted(sensitive)


def sighting_counts(conn: sa.Connection, principal: Principal, indicator_id: str) -> dict[str, int]:
    """Per member, the number of distinct sightings of the indicator the principal may read.

    Empty when the principal may read no version of the indicator itself, so counts never confirm
    that a hidden indicator exists.
    """
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
