"""Reading the hub as the audience: one principal, or for `group` the intersection of every member's view.

Everything the report shows comes through here, so the hub's one policy function decides what an
audience sees; nothing is filtered or widened in the report itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.recipients import recipients_of
from trilateral.report.records import Record
from trilateral.report.stix import principal_of, query_all

GROUP = "group"


@dataclass
class Audience:
    """Who the report is for: `code` (a member or client) or 'group' (all members together)."""

    code: str
    principals: list[Principal]
    description: str
    member_of: dict[str, str] = field(default_factory=dict)   # principal code -> member code

    @property
    def is_group(self) -> bool:
        return self.code == GROUP


def resolve_audience(hub: Any, code: str) -> Audience:
    infos = [i for i in hub.list_principals() if not getattr(i, "revoked", False)]
    member_of = {i.code: (i.sponsor or i.code) for i in infos}
    if code.strip().lower() == GROUP:
        members = [i.principal() for i in infos if i.kind == "member"]
        if not members:
            raise InputError("the hub has no members yet: run `trilateral init` first")
        names = ", ".join(sorted(p.code for p in members))
        return Audience(GROUP, members, f"the group's member agencies together ({names})", member_of)
    principal = principal_of(hub, code)
    if principal.is_member:
        desc = f"{principal.code} ({principal.name or 'member agency'})"
    else:
        desc = f"{principal.code} ({principal.name or 'client'}, a client of {principal.sponsor})"
    return Audience(principal.code, [principal], desc, member_of)


def collect_records(hub: Any, audience: Audience, progress: Any = None) -> list[Record]:
    """Last versions the audience may read (every collection it can read).

    For a group the hub is queried as its first member, and each version is kept only when the hub's
    own policy function (`trilateral.hub.policy.may_read`) lets every other member read it too: one
    pass over the data instead of one per member, with the same rule the hub applies to queries.
    """
    first, others = audience.principals[0], audience.principals[1:]
    out: dict[str, Record] = {}
    verdicts: dict[tuple, bool] = {}   # may_read depends only on the meta, so one call per distinct meta
    for stored in query_all(hub, first, collection=None):
        if progress is not None:
            progress()
        member = audience.member_of.get(stored.submitted_by, stored.submitted_by)
        if others:
            recipients = recipients_of(stored.object) if stored.tlp in (Tlp.AMBER, Tlp.RED) else frozenset()
            key = (stored.tlp, stored.submitted_by, member, recipients)
            ok = verdicts.get(key)
            if ok is None:
                meta = ObjectMeta(tlp=stored.tlp, submitter_code=stored.submitted_by, submitter_member=member,
                                  recipients=recipients)
                ok = verdicts[key] = all(may_read(p, meta) for p in others)
            if not ok:
                continue
        old = out.get(stored.id)  # the same object can sit in several collections: keep the newest
        if old is None or str(stored.object.get("modified", "")) > str(old.object.get("modified", "")):
            out[stored.id] = Record(stored.object, stored.tlp, stored.submitted_by, stored.date_added, member)
    return list(out.values())


def collect_correlations(hub: Any, audience: Audience) -> list[dict[str, Any]]:
    """Cross-member correlations the audience may see (for a group: those every member sees)."""
    keyed: dict[tuple, dict[str, Any]] | None = None
    for principal in audience.principals:
        seen = {}
        for corr in hub.correlations(principal):
            key = (corr.kind, corr.value, tuple(corr.object_ids))
            seen[key] = {"kind": corr.kind, "value": corr.value, "object_ids": list(corr.object_ids),
                         "members": list(corr.members), "created": corr.created}
        keyed = seen if keyed is None else {k: v for k, v in keyed.items() if k in seen}
    return sorted((keyed or {}).values(), key=lambda c: (c["created"], c["value"]))
