"""A serving SQLite hub checkpoints its WAL in the background, not inside write requests."""

from __future__ import annotations

import threading
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


def test_a_steady_writer_does_not_grow_the_wal_without_bound(home):
    """Write transactions one after another (as a sync stores page after page, with the few ms of
    work between them) never let a PASSIVE checkpoint reach the WAL's end; past the threshold the
    checkpointer starts the WAL over, so its file stays near the threshold (without: 40 MB here,
    5 GB in a 500,000-object sync)."""
    settings = Settings.from_env()
    Hub.open(settings).close()
    hub = Hub.open(settings, serving=True)
    wal = Path(str(settings.database_url).removeprefix("sqlite:///") + "-wal")
    try:
        assert hub._checkpointer is not None
        hub._checkpointer.interval = 0.05
        hub._checkpointer.restart_frames = 256  # 1 MB
        stop = threading.Event()

        def reader() -> None:  # a peer paging, a validation worker looking up ids: short reads, always one
            with hub.engine.connect() as rconn:
                while not stop.is_set():
                    rconn.exec_driver_sql("SELECT count(*) FROM principals").all()
                    time.sleep(0.02)  # the read transaction (SQLAlchemy's autobegin) stays open
                    rconn.rollback()
                    time.sleep(0.002)

        readers = threading.Thread(target=reader, daemon=True)
        readers.start()
        writes = 0
        deadline = time.monotonic() + 8
        largest = 0
        with hub.engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (k INTEGER PRIMARY KEY, v BLOB)")
            conn.commit()
            while time.monotonic() < deadline:  # ~40 MB through the WAL, one transaction after another
                conn.exec_driver_sql("INSERT INTO filler (v) VALUES (randomblob(65536))")
                conn.commit()
                time.sleep(0.005)
                writes += 1
                largest = max(largest, wal.stat().st_size if wal.exists() else 0)
                if writes >= 600:
                    break
        stop.set()
        readers.join()
        assert writes * 65536 > 30 * 2**20, "premise: tens of MB went through the WAL"
        # without the restart the WAL holds everything written (~40 MB); with it, a fraction
        assert largest < writes * 65536 / 2, f"WAL grew to {largest / 2**20:.0f} MB"
    finally:
        hub.close()
