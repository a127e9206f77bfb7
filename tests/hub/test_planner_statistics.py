"""On PostgreSQL a bulk submission refreshes the planner's row estimates, so the next page walks the
paging index instead of sorting the whole collection."""

from __future__ import annotations

import uuid

from trilateral.core.settings import Settings
from trilateral.hub import Hub

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def _indicators(start: int, count: int) -> dict:
    objs = []
    for n in range(start, start + count):
        stamp = f"2026-03-{1 + n % 28:02d}T00:00:{n % 60:02d}.000Z"
        objs.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
                     "created": stamp, "modified": stamp, "pattern_type": "stix", "valid_from": stamp,
                     "pattern": f"[ipv4-addr:value = '10.1.{n // 256 % 256}.{n % 256}']",
                     "object_marking_refs": [GREEN]})
    return {"objects": objs}


def test_bulk_submission_refreshes_postgres_row_estimates(postgres_database, home):
    hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": postgres_database}))
    try:
        us = hub.init()[0][0]
        hub.submit(us, _indicators(0, 3000))
        with hub.engine.connect() as conn:
            estimate = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'objects'").scalar()
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN SELECT seq FROM objects WHERE collection = 'shared' "
                "ORDER BY date_added_us, seq LIMIT 1001"))
        assert estimate >= 3000
        assert "ix_objects_page" in plan and "Sort" not in plan, plan
    finally:
        hub.close()


def test_a_refused_analyze_does_not_fail_a_stored_submission(postgres_database, home, monkeypatch, caplog):
    import sqlalchemy as sa

    original = sa.Connection.exec_driver_sql

    def refuse_analyze(self, statement, *args, **kwargs):
        if statement.startswith("ANALYZE"):
            raise sa.exc.ProgrammingError(statement, {}, Exception("permission denied to analyze"))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "exec_driver_sql", refuse_analyze)
    hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": postgres_database}))
    try:
        us = hub.init()[0][0]
        result = hub.submit(us, _indicators(5000, 2500))
        assert len(result.stored) == 2500 and not result.failed
        assert hub.count_visible(us) >= 2500
        assert "could not refresh PostgreSQL planner statistics" in caplog.text
    finally:
        hub.close()


def test_a_server_refreshes_statistics_off_the_request_thread(postgres_database, home, monkeypatch):
    import threading

    import sqlalchemy as sa

    original = sa.Connection.exec_driver_sql
    analyzed_on: list[str] = []

    def record(self, statement, *args, **kwargs):
        if statement.startswith("ANALYZE"):
            analyzed_on.append(threading.current_thread().name)
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "exec_driver_sql", record)
    settings = Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": postgres_database})
    Hub.open(settings).init()
    hub = Hub.open(settings, serving=True)
    try:
        us = hub.principal("US")
        for start in range(0, 7000, 1000):
            hub.submit(us, _indicators(10_000 + start, 1000))
            hub.statistics.wait()
        with hub.engine.connect() as conn:
            estimate = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'objects'").scalar()
        assert analyzed_on and threading.current_thread().name not in analyzed_on
        assert set(analyzed_on) == {"planner-statistics"}
        assert len(analyzed_on) == 2  # at 2,000 and 6,000 (tripled): not after every POST
        assert estimate >= 6000
    finally:
        hub.close()
