"""A serving SQLite hub checkpoints its WAL in the background, not inside write requests."""

from __future__ import annotations

import time
from pathlib import Path

from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.hub.database import WalCheckpointer


def _pragma(hub: Hub, sql: str) -> tuple:
    with hub.engine.connect() as conn:
        return tuple(conn.exec_driver_sql(sql).one())


def test_serving_hub_leaves_checkpoints_to_the_background_thread(home):
    settings = Settings.from_env()
    Hub.open(settings).close()
    hub = Hub.open(settings, serving=True)
    try:
        assert isinstance(hub._checkpointer, WalCheckpointer)
        assert _pragma(hub, "PRAGMA wal_autocheckpoint") == (0,)  # writers never checkpoint
        hub._checkpointer.interval = 0.05
        us = hub.init()[0][0]
        hub.submit(us, {"type": "identity", "spec_version": "2.1", "identity_class": "organization", "name": "x",
                        "id": "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"})
        # Writes land in the -wal file; only a checkpoint copies them into the database file, and
        # nothing here checkpoints except the background thread.
        db = Path(str(settings.database_url).removeprefix("sqlite:///"))
        before = (db.stat().st_mtime_ns, db.stat().st_size)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (db.stat().st_mtime_ns, db.stat().st_size) == before:
            time.sleep(0.05)
        assert (db.stat().st_mtime_ns, db.stat().st_size) != before
    finally:
        hub.close()
    assert hub._checkpointer is None


def test_command_line_hubs_keep_sqlite_autocheckpoints(home):
    hub = Hub.open(Settings.from_env())
    try:
        assert hub._checkpointer is None
        assert _pragma(hub, "PRAGMA wal_autocheckpoint") == (1000,)
    finally:
        hub.close()
