"""The sharing rule of DESIGN.md §3, once as a pure function and once as the SQL it compiles to.

`may_read` is the definition. `visible_clause` is the same rule over the precomputed columns of a
stored version (tlp, submitter code, submitter's member, recipients table) so that counts and paging
in SQL never see what the caller may not; a property test checks the two agree on random data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp


@dataclass(frozen=True)
class ObjectMeta:
    """What the rule needs to know about one stored version."""

    tlp: Tlp
    submitter_code: str
    submitter_member: str
    recipients: frozenset[str] = field(default_factory=frozenset)
    shadow: bool = False  # a version of an id its submitter does not own (hub/ownership.py)


def may_read(principal: Principal, meta: ObjectMeta) -> bool:
    """True when `principal` may read a version with `meta` (TLP 2.0 as DESIGN.md §3 fixes it).

    - the submitter always reads its own object, and nobody else reads a shadow (a version of an id
      owned by another principal: only the owner changes what others read);
    - CLEAR and GREEN: every member and client;
    - AMBER: every member; a client if its sponsor submitted the object (or it submitted it), or
      if it is a named recipient;
    - AMBER+STRICT: members only;
    - RED: the submitter and the named recipients (exact codes: naming a member does not include
      its clients, and a client's RED object is not readable by its sponsor unless named).
    """
    if principal.code == meta.submitter_code:
        return True
    if meta.shadow:
        return False
    if meta.tlp <= Tlp.GREEN:
        return True
    if meta.tlp == Tlp.AMBER:
        return principal.is_member or principal.member_code == meta.submitter_member or (
            principal.code in meta.recipients)
    if meta.tlp == Tlp.AMBER_STRICT:
        return principal.is_member
    return principal.code in meta.recipients


def visible_clause(principal: Principal, objects: sa.Table | sa.sql.Alias, recipients: sa.Table) -> sa.ColumnElement:
    """SQL boolean over a row of `objects` equal to `may_read(principal, meta_of_row)`."""
    named = sa.exists().where(recipients.c.object_seq == objects.c.seq, recipients.c.code == principal.code)
    own = objects.c.submitter_code == principal.code
    owned = objects.c.shadow == sa.false()
    if principal.is_member:
        return sa.or_(own, sa.and_(owned, sa.or_(objects.c.tlp <= int(Tlp.AMBER_STRICT),
                                                 sa.and_(objects.c.tlp == int(Tlp.RED), named))))
    return sa.or_(own, sa.and_(owned, sa.or_(
        objects.c.tlp <= int(Tlp.GREEN),
        sa.and_(objects.c.tlp == int(Tlp.AMBER),
                sa.or_(objects.c.submitter_member == principal.member_code, named)),
        sa.and_(objects.c.tlp == int(Tlp.RED), named),
    )))


def readable(principal: Principal, metas: Iterable[ObjectMeta]) -> list[bool]:
    return [may_read(principal, m) for m in metas]


def may_read_for_node(member: Principal, clients: Iterable[Principal], meta: ObjectMeta) -> bool:
    """True when some principal a peer node hosts (its member, or one of its clients) may read `meta`.

    A peer node reads this node on behalf of everyone it hosts (docs/federation.md), and nothing else:
    this is `may_read` over that set, so the one rule above still decides.
    """
    return may_read(member, meta) or any(may_read(c, meta) for c in clients)


def node_visible_clause(member: Principal, objects: sa.Table | sa.sql.Alias, recipients: sa.Table,
                        principals: sa.Table) -> sa.ColumnElement:
    """SQL twin of `may_read_for_node(member, clients known here with sponsor member, meta)`.

    A member already reads every level but RED that any of its clients reads, so the clients add
    only RED versions naming one of them (a client's own objects live on its own node).
    """
    named_client = sa.exists().where(recipients.c.object_seq == objects.c.seq,
                                     recipients.c.code == principals.c.code,
                                     principals.c.sponsor == member.code)
    return sa.or_(visible_clause(member, objects, recipients),
                  sa.and_(objects.c.shadow == sa.false(), objects.c.tlp == int(Tlp.RED), named_client))
