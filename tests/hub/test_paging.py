"""Keyset paging over one date_added, filters, and cursors bound to principal and query."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from trilateral.core.tlp import Tlp
from trilateral.hub import Hub, InvalidCursor

from .conftest import bundle, indicator


def test_every_stored_version_has_its_own_date_added_in_commit_order(hub: Hub, people) -> None:
    first = hub.submit(people["US"], bundle(*[indicator() for _ in range(30)]))
    hub.submit(people["KR"], bundle(*[indicator() for _ in range(5)]))
    records = hub.query(people["US"]).records
    dates = [r.date_added for r in records]
    assert len(set(dates)) == 35 and dates == sorted(dates) and dates[0] == first.date_added
    assert hub.date_added_unique


def test_more_than_limit_objects_with_one_date_added_page_exactly_once(hub: Hub, people) -> None:
    objs = [indicator(f"198.51.100.{i}") for i in range(25)]
    hub.submit(people["US"], bundle(*objs))
    with hub.engine.begin() as conn:  # e.g. rows loaded in bulk by another tool: one shared date_added
        conn.execute(sa.text("UPDATE objects SET date_added_us = 1767225600000000"))
    seen, cursor, pages = [], None, 0
    while True:
        page = hub.query(people["KR"], limit=7, cursor=cursor)
        pages += 1
        seen += [r.id for r in page.records]
        assert len({r.date_added for r in page.records}) <= 1
        if not page.more:
            break
        cursor = page.next_cursor
    assert pages == 4 and sorted(seen) == sorted(o["id"] for o in objs) and len(seen) == 25


def test_hidden_objects_do_not_count_towards_pages(hub: Hub, people) -> None:
    hub.submit(people["US"], bundle(*[indicator(tlp=Tlp.RED) for _ in range(5)], indicator()))
    page = hub.query(people["KR"], limit=1)
    assert len(page.records) == 1 and not page.more and page.next_cursor is None


def test_cursor_replayed_by_another_principal_is_refused(hub: Hub, people) -> None:
    hub.submit(people["US"], bundle(indicator(), indicator()))
    page = hub.query(people["US"], limit=1)
    with pytest.raises(InvalidCursor):
        hub.query(people["KR-UPBIT"], limit=1, cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        hub.query(people["US"], limit=1, cursor=page.next_cursor, types=["malware"])
    token = page.next_cursor
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    with pytest.raises(InvalidCursor):
        hub.query(people["US"], limit=1, cursor=tampered)


def test_added_after_types_and_spec_versions_filter(hub: Hub, people) -> None:
    first = hub.submit(people["US"], bundle(indicator()))
    second = hub.submit(people["US"], bundle(indicator()))
    after = hub.query(people["US"], added_after=first.date_added).records
    assert [r.id for r in after] == [second.stored[0][0]]
    assert hub.query(people["US"], types=["malware"]).records == []
    assert len(hub.query(people["US"], types=["indicator"], spec_versions=["2.1"]).records) == 2
    assert hub.query(people["US"], spec_versions=["2.0"]).records == []


def test_last_is_the_latest_version_the_caller_may_read(hub: Hub, people) -> None:
    v1 = indicator(tlp=Tlp.GREEN)
    v2 = dict(v1, modified="2026-03-09T00:00:00.000Z", object_marking_refs=[
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"])  # RED
    hub.submit(people["US"], bundle(v1, v2))
    assert [r.modified for r in hub.query(people["KR"]).records] == [v1["modified"]]
    assert [r.modified for r in hub.query(people["US"]).records] == [v2["modified"]]
