"""Records the hub hands out: results of writes and reads, principals, statuses, audit verdicts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import orjson

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp

_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (fractions beyond microseconds are cut)."""
    text = text.strip()
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is after year 9999 in UTC
        raise ValueError(f"{text!r} is outside the years 1-9999 once converted to UTC") from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch: the exact integer the database orders by."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, tz=UTC).replace(microsecond=micros % 1_000_000)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 with microseconds and Z, the form TAXII 2.1 uses for date_added."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PrincipalInfo:
    code: str
    name: str
    kind: str
    sponsor: str | None
    created: datetime
    revoked: bool
    token_rotated: datetime | None

    def principal(self) -> Principal:
        from trilateral.core.principal import PrincipalKind

        return Principal(self.code, PrincipalKind(self.kind), self.sponsor, self.name)


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of one submit; `failed` names each bad object (id, or None when it has none)."""

    status_id: str
    date_added: datetime
    stored: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str | None, str]] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class StoredObject:
    """One stored version. `modified` is the version string (modified, else created, else date_added)."""

    id: str
    modified: str
    date_added: datetime
    spec_version: str
    tlp: Tlp
    submitted_by: str
    raw_json: str
    collection: str = "shared"
    seq: int = 0
    submitter_member: str = ""
    origin: str | None = None  # the node federation sync received it from (None: stored here)

    @cached_property
    def object(self) -> dict[str, Any]:
        """The STIX object, parsed on first use: TAXII serves `raw_json` as stored and never needs it."""
        return orjson.loads(self.raw_json)


@dataclass(frozen=True)
class ManifestRecord:
    id: str
    date_added: datetime
    version: str
    media_type: str = "application/stix+json;version=2.1"


@dataclass(frozen=True)
class QueryPage:
    records: list[Any]
    more: bool
    next_cursor: str | None

    @property
    def date_added_first(self) -> datetime | None:
        return min((r.date_added for r in self.records), default=None)

    @property
    def date_added_last(self) -> datetime | None:
        return max((r.date_added for r in self.records), default=None)


@dataclass(frozen=True)
class StatusDetail:
    id: str | None
    version: str | None
    message: str = ""


@dataclass(frozen=True)
class StatusRecord:
    """A TAXII-shaped status resource: per-object success, failure or pending."""

    id: str
    status: str  # "complete" | "pending"
    request_timestamp: datetime
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    successes: list[StatusDetail]
    failures: list[StatusDetail]
    pendings: list[StatusDetail]
    submitted_by: str = ""
    collection: str = "shared"


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: tuple[str, ...] = ("application/stix+json;version=2.1",)


@dataclass(frozen=True)
class Correlation:
    """Two objects of different members that share one normalised observable value."""

    kind: str
    value: str
    object_ids: tuple[str, str]
    members: tuple[str, str]
    collections: tuple[str, str]
    created: datetime


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    first_bad: int | None
    reason: str
    entries: int = 0
