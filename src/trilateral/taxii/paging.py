"""Pages that stay correct for clients paging by `added_after` + X-TAXII-Date-Added-Last.

The hub pages on (date_added, seq) and its `next` cursors are exact, but one submitted batch shares
one date_added. A client that pages by `added_after=<X-TAXII-Date-Added-Last>` would skip the rest
of a batch cut by the page boundary. So a page never ends inside a group of equal date_added that
continues on the next page: it is cut back to the end of the previous group, or, when the whole page
is one group, extended to the group's end (up to the hub's page cap). When the hub guarantees a
distinct date_added per stored version (`hub.date_added_unique`), none of this runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HUB_MAX_PAGE = 10_000

Fetch = Callable[[int, str | None], Any]  # (limit, cursor) -> QueryPage


def _trailing_group(records: list) -> int:
    last = records[-1].date_added
    k = 0
    for record in reversed(records):
        if record.date_added != last:
            break
        k += 1
    return k


def _group_size_from(fetch: Fetch, records: list, cursor: str | None, chunk: int) -> int | None:
    """How many records share the page's single date_added, counting on past the page (None if > cap)."""
    date = records[-1].date_added
    total = len(records)
    while cursor and total <= HUB_MAX_PAGE:
        following = fetch(chunk, cursor)
        same = 0
        for record in following.records:
            if record.date_added != date:
                return total + same
            same += 1
        total += same
        if not following.more:
            return total
        cursor = following.next_cursor
    return total if total <= HUB_MAX_PAGE else None


def added_after_safe_page(fetch: Fetch, limit: int, cursor: str | None, unique_dates: bool = False) -> Any:
    """One page for (limit, cursor) whose last date_added does not continue on the next page."""
    page = fetch(limit, cursor)
    if unique_dates or not page.more or not page.records:
        return page
    peek = fetch(1, page.next_cursor)
    if not peek.records or peek.records[0].date_added != page.records[-1].date_added:
        return page
    k = _trailing_group(page.records)
    if k < len(page.records):
        return fetch(len(page.records) - k, cursor)
    size = _group_size_from(fetch, page.records, page.next_cursor, max(limit, 1000))
    if size is None:  # a single batch larger than the hub's page cap: exact `next` paging still works
        return page
    return fetch(size, cursor)
