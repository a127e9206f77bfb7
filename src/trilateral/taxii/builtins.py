"""The five OASIS TLP 2.0 marking-definitions, built into every collection.

The hub does not store them (its policy is built on them; a submitted copy is a no-op), so the TAXII
layer serves them, exactly as OASIS publishes them, as if added at their `created` time
(2022-10-01T00:00:00.000Z). That is before any stored object, so they lead the first page of a
listing in date_added order and a client paging by `added_after` meets them exactly once. They are
public standard objects: every principal may read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from trilateral.core.tlp import tlp2_marking_definitions
from trilateral.taxii.params import Filters, parse_timestamp

BUILTIN_PREFIX = "tlp2:"  # `next` tokens that resume inside the built-ins ("tlp2:<how many already sent>")


@dataclass(frozen=True)
class BuiltinRecord:
    """Quacks like the hub's StoredObject / ManifestRecord."""

    id: str
    modified: str
    date_added: datetime
    spec_version: str
    object: dict[str, Any]
    raw_json: bytes

    @property
    def version(self) -> str:
        return self.modified


def _records() -> list[BuiltinRecord]:
    out = []
    for definition in tlp2_marking_definitions():
        created = definition["created"]
        out.append(BuiltinRecord(definition["id"], created, parse_timestamp(created, "created"), "2.1",
                                 definition, orjson.dumps(definition)))
    return out


BUILTINS = _records()
BUILTIN_BY_ID = {r.id: r for r in BUILTINS}


def matching_builtins(filters: Filters, ids: tuple[str, ...] | None = None) -> list[BuiltinRecord]:
    """The built-in definitions this request's filters select, in listing order."""
    wanted_ids = ids or filters.ids
    out = []
    for record in BUILTINS:
        if wanted_ids is not None and record.id not in wanted_ids:
            continue
        if filters.types is not None and "marking-definition" not in filters.types:
            continue
        if filters.spec_versions is not None and record.spec_version not in filters.spec_versions:
            continue
        if filters.added_after is not None and record.date_added <= filters.added_after:
            continue
        stamps = [v for v in filters.versions if v not in {"first", "last", "all"}]
        if stamps and len(stamps) == len(filters.versions) and not any(
                parse_timestamp(v, "match[version]") == record.date_added for v in stamps):
            continue
        out.append(record)
    return out


class CombinedPage:
    """Built-ins (first page only) followed by the hub's page."""

    def __init__(self, records: list, more: bool, next_cursor: str | None) -> None:
        self.records, self.more, self.next_cursor = records, more, next_cursor


def with_builtins(filters: Filters, ids: tuple[str, ...] | None, fetch_hub: Any) -> Any:
    """A page that starts with the selected built-ins when the listing starts (no `next`).

    `fetch_hub(limit, cursor)` returns the hub's page. A `next` of the form "tlp2:<k>" resumes after
    the first k built-ins (only when `limit` is smaller than their number).
    """
    token = filters.next_token
    if token is not None and not token.startswith(BUILTIN_PREFIX):
        return fetch_hub(filters.limit, token)
    skip = 0
    if token is not None:
        text = token[len(BUILTIN_PREFIX):]
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            from trilateral.taxii.errors import TaxiiError

            raise TaxiiError(400, "next token is malformed; repeat the request without next to start again")
        skip = int(text)
    builtins = matching_builtins(filters, ids)[skip:]
    if not builtins:
        return fetch_hub(filters.limit, None)
    if len(builtins) >= filters.limit:
        head = builtins[:filters.limit]
        more = len(builtins) > filters.limit or bool(fetch_hub(1, None).records)
        return CombinedPage(head, more, f"{BUILTIN_PREFIX}{skip + len(head)}" if more else None)
    page = fetch_hub(filters.limit - len(builtins), None)
    return CombinedPage([*builtins, *page.records], page.more, page.next_cursor)
