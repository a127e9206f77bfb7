"""Properties of the storing path's building blocks: date_added offsets, one-parameter id look-ups,
and the nesting check (each replaced a slower standard call, so each must answer the same)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from trilateral.hub.database import make_engine, text_in
from trilateral.hub.ingest import MAX_DEPTH, _too_deep, random_offsets


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda window: st.tuples(st.just(window), st.integers(0, window))))
def test_random_offsets_are_distinct_and_inside_the_window(case: tuple[int, int]) -> None:
    window, count = case
    offsets = random_offsets(window, count)
    assert len(offsets) == count and len(set(offsets)) == count
    assert all(0 <= o < window for o in offsets)


def test_random_offsets_are_not_a_fixed_sequence() -> None:
    draws = {tuple(random_offsets(100_000, 5)) for _ in range(50)}
    assert len(draws) == 50


def _nested(levels: int, container: str) -> dict:
    obj: dict = {"type": "x"}
    inner = obj
    for _ in range(levels - 1):
        child: dict = {}
        inner["v"] = child if container == "dict" else [child]
        inner = child
    return obj


def test_depth_limit_is_exact_through_dicts_and_lists() -> None:
    assert not _too_deep(_nested(MAX_DEPTH, "dict"))
    assert _too_deep(_nested(MAX_DEPTH + 1, "dict"))
    # a list is a level too: 33 dicts each holding a one-element list = 65 levels
    assert not _too_deep(_nested(MAX_DEPTH // 2, "list"))
    assert _too_deep(_nested(MAX_DEPTH // 2 + 1, "list"))
    assert not _too_deep({"type": "x", "a": ["s", 1, None, {"b": [1, 2]}]})


_ODD_IDS = ["plain--1", 'quote"d--2', "back\\slash--3", "ユニコード--4", "nul\x01ctl--5", "emoji🙂--6"]


def test_text_in_finds_exactly_the_listed_ids_whatever_their_characters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("stix_id", sa.Text, primary_key=True))
    table.metadata.create_all(engine)
    many = [f"indicator--{i:08d}" for i in range(20_000)]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"stix_id": i} for i in [*_ODD_IDS, *many]])
    with engine.connect() as conn:
        def found(values: list[str]) -> set[str]:
            return set(conn.execute(sa.select(table.c.stix_id).where(text_in(conn, table.c.stix_id, values))).scalars())

        assert found(_ODD_IDS) == set(_ODD_IDS)
        assert found([*_ODD_IDS[:2], "absent--0", "PLAIN--1"]) == set(_ODD_IDS[:2])
        assert found(many[::2]) == set(many[::2])  # 10,000 ids in one parameter
        assert found([]) == set()
    engine.dispose()
