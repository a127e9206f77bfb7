"""Migrations 0005-0008: the console's read indexes exist as hub/schema.py declares them, and the reads they
are for use them (an id look-up without its collection, a type read in date order, a sighting count)."""

from __future__ import annotations

import sqlalchemy as sa

from trilateral.hub import Hub
from trilateral.hub.schema import objects

CONSOLE_INDEXES = {"ix_objects_type": ["stix_type", "date_added_us", "seq"], "ix_objects_ref": ["ref_id"]}
VERSION_KEY = ["stix_id", "collection", "modified_us", "submitter_code"]  # also the id look-up's index (0008)


def test_migrated_indexes_match_the_schema(hub: Hub) -> None:
    found = {i["name"]: i["column_names"] for i in sa.inspect(hub.engine).get_indexes("objects")}
    declared = {i.name: [c.name for c in i.columns] for i in objects.indexes}
    for name, columns in CONSOLE_INDEXES.items():
        assert found.get(name) == columns == declared[name], name
    assert "ix_objects_stix_id" not in found
    unique = {tuple(u["column_names"]) for u in sa.inspect(hub.engine).get_unique_constraints("objects")}
    assert tuple(VERSION_KEY) in unique, unique


def test_sqlite_plans_use_the_console_indexes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from trilateral.core.settings import Settings

    home = tmp_path / "h"
    hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home),
                                      "TRILATERAL_DATABASE_URL": f"sqlite:///{home / 'hub.sqlite3'}"}))
    try:
        with hub.engine.connect() as conn:
            def plan(sql: str) -> str:
                return " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

            by_id = plan("SELECT seq FROM objects WHERE stix_id = 'indicator--x'")
            assert "(stix_id=?)" in by_id and "SCAN" not in by_id, by_id
            assert "ix_objects_type" in plan(
                "SELECT seq FROM objects WHERE stix_type = 'x-trilateral-action' AND date_added_us > 5 "
                "ORDER BY date_added_us, seq LIMIT 10")
            assert "ix_objects_ref" in plan("SELECT count(*) FROM objects WHERE ref_id = 'indicator--x' "
                                            "AND stix_type = 'sighting'")
    finally:
        hub.close()


def test_newest_reads_latest_first_within_the_policy(hub: Hub) -> None:
    from tests.hub.conftest import bundle, indicator
    from trilateral.core.tlp import Tlp

    hub.init()
    hub.add_principal("KR-UPBIT", "Upbit", client_of="KR")
    objs = [indicator(f"192.0.2.{n}", Tlp.RED if n % 3 == 0 else Tlp.GREEN, recipients=["US"] if n % 3 == 0 else None)
            for n in range(12)]
    for o in objs:
        hub.submit(hub.principal("JP"), bundle(o))
    page = hub.newest(hub.principal("KR-UPBIT"), limit=5)
    readable = [o["id"] for n, o in enumerate(objs) if n % 3]  # the RED ones are for US only
    assert [r.id for r in page.records] == readable[::-1][:5] and page.more and page.next_cursor is None
    assert [r.id for r in hub.newest(hub.principal("US"), limit=20).records] == [o["id"] for o in objs][::-1]
