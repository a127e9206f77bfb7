"""Engines for SQLite (WAL, foreign keys, BEGIN IMMEDIATE for writes) and PostgreSQL; migrations."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql

from trilateral.core.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)
# Key of the PostgreSQL advisory locks that serialise audit appends and schema migration.
AUDIT_LOCK_KEY = 0x7472696C  # "tril"
MIGRATION_LOCK_KEY = 0x7472696D


def make_engine(url: str, *, wal_autocheckpoint: bool = True) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs.

    `wal_autocheckpoint=False` leaves WAL checkpoints to a WalCheckpointer thread (the server).
    """
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # pysqlite's own transaction handling is switched off so that we choose BEGIN IMMEDIATE
            # for writes: a deferred write transaction in WAL mode fails (not waits) when another
            # writer committed after it read.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            if not wal_autocheckpoint:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            # The default 2 MB page cache makes keyset pages slow down as the store grows past it
            # (page bodies and the version index no longer stay cached); 64 MB cache + mmap keep a
            # 1,000-object page near-constant in time.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA mmap_size=1073741824")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith(("postgresql", "postgres")):
        return sa.create_engine(url, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql+psycopg://...")


class WalCheckpointer:
    """Checkpoints a SQLite hub's WAL from a background thread, once a second.

    Why: by default the writer that pushes the WAL past 1,000 pages copies it into the database
    and fsyncs, inside its own request: every fourth 1,000-object POST took 250-330 ms instead of
    ~100 ms. A PASSIVE checkpoint here never blocks writers or readers (it copies what no reader
    still needs), and sqlite3 releases the GIL while it works.
    """

    def __init__(self, engine: sa.Engine, interval: float = 1.0) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self) -> None:
        with self.engine.connect() as conn:
            _busy, frames, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
            if frames > self.restart_frames:
                # A steady writer (a sync, a bulk POST) never lets a PASSIVE checkpoint reach the end
                # of the WAL, so the WAL never starts over: it grew to 5 GB in a 500,000-object sync,
                # and every page read probes a wal-index that grows with it. TRUNCATE waits for the
                # current writer, copies the few frames PASSIVE left, and starts the WAL afresh.
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()

    restart_frames = 16_384  # 64 MB of 4 KB pages

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.checkpoint()
            except sa.exc.SQLAlchemyError:  # busy or closing: the next round catches up
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.checkpoint()


class PlannerStatistics:
    """On PostgreSQL, ANALYZE the object tables once they have grown to three times their size at the
    last ANALYZE (and by at least MIN_GROWTH rows).

    Why: before any ANALYZE the planner has no distribution for `collection` and guesses that few
    rows match one collection, so it chose a bitmap scan + sort of the whole collection for every
    page (0.5 s a page at 100,000 objects) instead of walking the (collection, date_added, seq)
    index (7 ms), and filtered the whole collection for the duplicate check of every POST.
    Autovacuum fixes that within a minute or so; a TAXII client paging right after a large POST
    should not wait for it. Once the distributions are known, growth alone does not change these
    plans (the planner scales row counts by the table's current size), so ANALYZE is needed only
    rarely: a logarithmic number of times, each sampling up to 30,000 rows a table (~40-100 ms).
    Analysing on every tenth of growth cost ~30 ms per 1,000-object POST at 5,000 objects stored
    (the ANALYZE competes for the same two cores).

    `background=True` (a server): ANALYZE runs in a daemon thread, one at a time, so no POST waits
    for it. Otherwise (the CLI) it runs before `submit` returns.
    """

    MIN_GROWTH = 2000
    FACTOR = 2.0

    def __init__(self, engine: sa.Engine, background: bool = False) -> None:
        self.engine, self.background = engine, background
        self._grown, self._threshold = 0, self.MIN_GROWTH
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._thread: threading.Thread | None = None

    def grew(self, stored: int) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        with self._lock:
            self._grown += stored
            if self._grown < self._threshold:  # most POSTs: no catalogue round trip
                return
        if not self._running.acquire(blocking=False):  # one is running; the growth stays counted
            return
        if self.background:
            self._thread = threading.Thread(target=self._refresh, name="planner-statistics", daemon=True)
            self._thread.start()
        else:
            self._refresh()

    def wait(self) -> None:
        """Let a background ANALYZE finish (closing the hub, tests)."""
        if self._thread is not None:
            self._thread.join()

    def _refresh(self) -> None:
        try:
            with self._lock:
                grown = self._grown
            if grown >= self.FACTOR * self._estimate():
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE objects, object_recipients, observables, status_details")
                with self._lock:
                    self._grown -= grown
            threshold = max(self.MIN_GROWTH, int(self.FACTOR * self._estimate()))
            with self._lock:
                self._threshold = threshold
        except sa.exc.SQLAlchemyError as exc:  # e.g. a role that may not ANALYZE: the objects are stored already
            log.warning("could not refresh PostgreSQL planner statistics (autovacuum will): %s",
                        str(getattr(exc, "orig", exc)).strip().splitlines()[0])
            with self._lock:
                self._grown = 0
        finally:
            self._running.release()

    def _estimate(self) -> float:
        with self.engine.connect() as conn:
            return max(conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'objects'").scalar() or 0, 0)


def bulk_insert(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert `rows` (tuples of `columns`, in that order) in one driver-level operation.

    Why not `conn.execute(table.insert(), dicts)`: SQLAlchemy builds and type-processes a parameter
    set per row (~10 µs each), a third of the time of storing a 1,000-object POST. The hub's tables
    hold plain integers and text, which need no processing, so rows go straight to the driver
    (sqlite3 executemany; PostgreSQL COPY).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # COPY: psycopg's executemany costs ~20 µs a row (1,000 objects: 78 -> 33 ms for all tables).
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        cursor = conn.connection.driver_connection.cursor()  # same connection, same transaction
        try:
            with cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except conn.dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy reports it for INSERT
            raise sa.exc.IntegrityError(statement, None, exc) from exc
        return
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         rows if isinstance(rows, list) else list(rows))


def text_in(conn: sa.Connection, column: sa.ColumnElement, values: list[str]) -> sa.ColumnElement:
    """`column IN values` with one parameter: `= ANY(array)` on PostgreSQL, a JSON array read by
    `json_each` on SQLite. Why: an IN list with hundreds of parameters is compiled by SQLAlchemy
    and planned by the database afresh each time (15 ms per 1,000 ids on PostgreSQL; on SQLite
    SQLAlchemy's expansion alone cost ~25 µs an id when syncing); one parameter keeps one cached
    statement and plan, and the database still probes the column's index for each value."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(sa.Text)))
    listed = sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(None, orjson.dumps(values).decode())))
    return column.in_(listed.scalar_subquery())


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction: committed on success, rolled back entirely on any error."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent; serialised on PostgreSQL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def create_scratch_database(base_url: str, prefix: str) -> str:
    """A new, empty PostgreSQL database beside `base_url`'s (for tests and benchmarks); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    """Drop a database made by `create_scratch_database`, closing any session still on it."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": target.database})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    finally:
        admin.dispose()
