"""`added_after_safe_page` on hand-built pages: for a hub whose batches share one date_added."""

from __future__ import annotations

from dataclasses import dataclass

from trilateral.taxii.paging import added_after_safe_page


@dataclass
class Rec:
    n: int
    date_added: int


@dataclass
class Page:
    records: list
    more: bool
    next_cursor: str | None


def store(groups: list[int]) -> list[Rec]:
    """Records numbered in order; group g's records share date_added g."""
    dates = [g for g, size in enumerate(groups) for _ in range(size)]
    return [Rec(i, d) for i, d in enumerate(dates)]


def fetcher(records: list[Rec]):
    def fetch(limit: int, cursor: str | None) -> Page:
        start = int(cursor) if cursor else 0
        chunk = records[start:start + limit]
        more = start + limit < len(records)
        return Page(chunk, more, str(start + len(chunk)) if more else None)
    return fetch


def page_by_added_after(records: list[Rec], limit: int) -> list[int]:
    """What a client paging by added_after = last page's max date_added receives."""
    seen: list[int] = []
    after = None
    while True:
        visible = [r for r in records if after is None or r.date_added > after]
        page = added_after_safe_page(fetcher(visible), limit, None)
        if not page.records:
            return seen
        seen += [r.n for r in page.records]
        after = max(r.date_added for r in page.records)


def test_pages_never_end_inside_a_continuing_group() -> None:
    for groups in ([3, 7, 2], [12], [1, 1, 1, 25, 4], [5, 5, 5]):
        records = store(groups)
        assert page_by_added_after(records, 5) == list(range(len(records))), groups


def test_next_paging_still_gives_every_record_once() -> None:
    records = store([3, 7, 2, 9])
    fetch, seen, cursor = fetcher(records), [], None
    while True:
        page = added_after_safe_page(fetch, 4, cursor)
        seen += [r.n for r in page.records]
        if not page.more:
            break
        cursor = page.next_cursor
    assert seen == list(range(len(records)))


def test_unique_dates_skip_the_look_ahead() -> None:
    calls = []
    records = store([1] * 10)

    def counting(limit: int, cursor: str | None) -> Page:
        calls.append(limit)
        return fetcher(records)(limit, cursor)

    added_after_safe_page(counting, 4, None, unique_dates=True)
    assert calls == [4]
