"""Pure rules of federation: what a received version is, whether it is kept, and cursor steps.

No I/O here. `sync.py` reads the facts (owners, tombstones, the peer's page) and applies the
verdicts; every rule below has its reason in docs/federation.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub.recipients import with_recipients

TOMBSTONE_TYPE = "x-trilateral-tombstone"
PROVENANCE_KEY = "x_trilateral_provenance"
TOMBSTONE_NAMESPACE = uuid.UUID("6b0f3c52-58f4-4f57-8f0c-1b6a3f6e9d21")


@dataclass(frozen=True)
class Provenance:
    """Where a version comes from: the node of its original submitter, and that submitter."""

    origin: str
    submitter: str
    submitter_member: str
    KEYS: ClassVar[tuple[str, str, str]] = ("origin", "submitter", "submitter_member")

    @classmethod
    def from_peer(cls, peer: str, claimed: Any) -> Provenance:
        """The provenance a peer states for one object; a plain TAXII feed states none: it is the peer's."""
        if isinstance(claimed, dict):
            origin, submitter, member = (claimed.get(k) for k in cls.KEYS)
            if all(isinstance(v, str) and v for v in (origin, submitter, member)):
                return cls(str(origin).upper(), str(submitter).upper(), str(member).upper())
        return cls(peer, peer, peer)


class Verdict(StrEnum):
    KEEP = "keep"  # store it (a duplicate is harmless: idempotent on (id, modified))
    ECHO = "echo"  # our own object coming back: skip silently
    DELETED = "deleted"  # a version a tombstone removed: never resurrected
    REFUSED = "refused"  # breaks a rule: counted and reported


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""


def judge(stix_id: str, prov: Provenance, *, peer: str, node: str, owner: str | None,
          tombstoned: bool) -> Decision:
    """Whether a version received from `peer` is kept at `node`.

    - our own objects never come back (`echo`), and a deleted version is not resurrected;
    - a submitter belongs to its origin node (a node speaks only for its own member and clients);
    - a peer speaks for itself, or forwards what it received (origin elsewhere), never as its own;
    - only the owner (the submitter of the first version this node holds) adds versions.
    """
    if prov.origin == node:
        return Decision(Verdict.ECHO)
    if tombstoned:
        return Decision(Verdict.DELETED)
    if prov.submitter_member != prov.origin:
        return Decision(Verdict.REFUSED, f"{stix_id}: submitter {prov.submitter} is stated to belong to "
                                         f"{prov.submitter_member}, not to its origin node {prov.origin}")
    if owner is not None and owner != prov.submitter:
        return Decision(Verdict.REFUSED, f"{stix_id}: a version from {prov.submitter}, but the object is "
                                         f"owned by {owner}; only the owner adds versions")
    return Decision(Verdict.KEEP)


def tombstone(object_id: str, version: str, tlp: Tlp, recipients: frozenset[str], deleted_at: str) -> dict[str, Any]:
    """The STIX object that tells peers one version was deleted at its origin.

    It carries the deleted version's own marking and recipients, so exactly the readers of that
    version learn of its deletion, through the same policy. Its id is fixed by (object, version), so
    a repeated delete makes the same tombstone.
    """
    obj: dict[str, Any] = {
        "type": TOMBSTONE_TYPE, "spec_version": "2.1",
        "id": f"{TOMBSTONE_TYPE}--{uuid.uuid5(TOMBSTONE_NAMESPACE, object_id + '|' + version)}",
        "created": deleted_at, "modified": deleted_at, "object_ref": object_id, "deleted_version": version,
        "object_marking_refs": [TLP2_MARKING_IDS[tlp]],
    }
    return with_recipients(obj, sorted(recipients)) if recipients else obj


@dataclass(frozen=True)
class Cursor:
    """A node's position in one peer collection; never an object timestamp.

    `added_after`: the X-TAXII-Date-Added-Last of the last finished round (the next round asks for
    what was added after it). Within a round the peer's `next` token is followed, and kept with the
    round's last seen X-TAXII-Date-Added-Last, so a crash resumes at the page after the last stored
    one. A round ends when `more` is false: only then does `added_after` move, so objects sharing
    one date_added across a page boundary are never skipped.
    """

    added_after: str | None = None
    next_token: str | None = None
    round_last: str | None = None

    def params(self, limit: int) -> dict[str, str]:
        out = {"limit": str(limit), "match[version]": "all"}
        if self.added_after:
            out["added_after"] = self.added_after
        if self.next_token:
            out["next"] = self.next_token
        return out

    def after_page(self, *, more: bool, next_token: str | None, last: str | None) -> Cursor:
        seen = last or self.round_last
        if more and next_token:
            return replace(self, next_token=next_token, round_last=seen)
        return Cursor(added_after=seen or self.added_after)

    def restart_round(self) -> Cursor:
        """The peer refused our `next` (it expired or the peer was reset): redo the round (idempotent)."""
        return Cursor(added_after=self.added_after)
