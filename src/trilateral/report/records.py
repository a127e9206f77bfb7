"""What the report reads: hub records (a STIX object plus the hub's metadata), and time parsing.

Figures are pure functions over lists of `Record`; only `collect.py` talks to the hub.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from trilateral.core.tlp import Tlp, effective_tlp


class Record:
    """One readable STIX object (last version) with who submitted it, when, and its TLP.

    A plain slotted class (not a dataclass): the report builds one per readable object, 100,000+ a quarter.
    """

    __slots__ = ("object", "tlp", "submitted_by", "date_added", "member", "id", "type")

    def __init__(self, object: dict[str, Any], tlp: Tlp, submitted_by: str, date_added: datetime,
                 member: str = "") -> None:
        self.object = object
        self.tlp = tlp
        self.submitted_by = submitted_by
        self.date_added = date_added
        self.member = member  # the member the submitter belongs to (itself for a member, sponsor for a client)
        self.id: str = object["id"]
        self.type: str = object.get("type", "")

    def __repr__(self) -> str:
        return f"Record({self.id}, {self.tlp.label}, by {self.submitted_by})"

    @classmethod
    def of(cls, obj: dict[str, Any], *, submitted_by: str = "", date_added: datetime | str | None = None,
           tlp: Tlp | None = None, member: str = "") -> Record:
        """A record from a bare STIX dict (tests, benchmarks): TLP from its markings when not given."""
        added = parse_time(date_added) if date_added is not None else parse_time(obj.get("modified") or obj.get("created"))
        return cls(obj, tlp if tlp is not None else effective_tlp(obj.get("object_marking_refs")),
                   submitted_by, added or datetime(1970, 1, 1, tzinfo=UTC), member or submitted_by)


@dataclass
class Sources:
    """The records a section's figures rest on, so the section and the document carry their TLP."""

    records: dict[str, Record] = field(default_factory=dict)

    def add(self, record: Record | None) -> None:
        if record is not None:
            self.records[record.id] = record

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    @property
    def tlp(self) -> Tlp | None:
        """Most restrictive TLP among the sources; None when the section rests on nothing."""
        return max((r.tlp for r in self.records.values()), default=None)

    def __len__(self) -> int:
        return len(self.records)


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from an RFC 3339 string, a date, a datetime or unix seconds; None if absent/bad."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class RecordSet(list):
    """A list of records that groups itself by STIX type once, for the several figures that ask."""

    _groups: dict[str, list[Record]] | None = None

    def groups(self) -> dict[str, list[Record]]:
        if self._groups is None:
            grouped: dict[str, list[Record]] = defaultdict(list)
            for record in self:
                grouped[record.type].append(record)
            self._groups = dict(grouped)
        return self._groups


def by_type(records: Iterable[Record]) -> dict[str, list[Record]]:
    if isinstance(records, RecordSet):
        return records.groups()
    return RecordSet(records).groups()


def index(records: Iterable[Record]) -> dict[str, Record]:
    return {r.id: r for r in records}
