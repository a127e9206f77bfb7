"""Validating a page a peer served, apart from storing it, so it can run in worker processes.

Why a process pool: a peer is another government's node, so every object it sends is validated
exactly as a POST would be (`hub.ingest.prepare`, ~55 µs a plain indicator), and that validation is
pure Python under the GIL. Run inline it is half of what a sync costs; in worker processes it
overlaps with storing the previous page (one writer) and with the peer serving the next one, which
is what lifts a backlog sync past 10,000 objects/s on two cores (bench/federation.py).

The workers only read: `known` (versions already stored, whose re-validation is skipped) comes from
their own connection and is an optimisation only, since the writer decides duplicates again inside
its transaction. A page the pool cannot take (too small to pay the hand-over, no workers configured,
or the pool broke) is validated inline with the same function.
"""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from trilateral.core.tlp import MARKING_ID_TO_TLP
from trilateral.federation import directory
from trilateral.federation.core import TOMBSTONE_TYPE
from trilateral.hub import ingest
from trilateral.hub.database import make_engine

log = logging.getLogger("trilateral.federation")
POOL_MIN_OBJECTS = 500  # smaller pages are validated inline: handing them over costs more than it saves


def worker_count() -> int:
    """`TRILATERAL_SYNC_WORKERS` (0: validate inline), by default one per core but one, at most 4."""
    text = os.environ.get("TRILATERAL_SYNC_WORKERS")
    if text is not None and text.strip().isdigit():
        return int(text)
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass
class ValidatedPage:
    """A page's objects, each validated (`Prepared`), refused (`Failure`) or None (a built-in TLP
    definition: every hub has it); `kept` holds the bodies the writer needs beyond the columns:
    tombstones and directory entries, by position."""

    results: list[ingest.Prepared | ingest.Failure | None]
    kept: dict[int, dict[str, Any]]
    fresh: bool  # no id of the page was stored in the collection when it was validated


def validate(items: list[Any], known: set[tuple[str, int, str]]) -> ValidatedPage:
    results: list[ingest.Prepared | ingest.Failure | None] = []
    kept: dict[int, dict[str, Any]] = {}
    for i, obj in enumerate(items):
        if obj.get("id") in MARKING_ID_TO_TLP:
            results.append(None)
            continue
        prepared = ingest.prepare(i, obj, known)
        results.append(prepared)
        if isinstance(prepared, ingest.Prepared) and (
                prepared.stix_type == TOMBSTONE_TYPE
                or (prepared.stix_type == "identity" and directory.CODE_KEY in obj)):
            kept[i] = obj
    return ValidatedPage(results, kept, fresh=not known)


def objects_of(raw: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a TAXII envelope the client already checked (non-objects dropped)."""
    body = orjson.loads(raw)
    return [o for o in body.get("objects") or [] if isinstance(o, dict)]


@functools.cache
def _engine(url: str) -> sa.Engine:
    return make_engine(url)


def validate_raw(raw: bytes, database_url: str, collection: str) -> ValidatedPage:
    """In a worker: parse the envelope, look up what is stored, validate."""
    items = objects_of(raw)
    return validate(items, ingest.known_versions(_engine(database_url), collection, items))


def _start_worker() -> None:
    """In each worker as it starts: exit when the syncing process dies (a worker of a `sync` killed
    with -9 would otherwise wait for pages forever). The validators are imported on the first object
    that needs them (seconds of CPU: not for a round of copies this node already holds)."""
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch_parent, name="watch-parent", daemon=True).start()


class ValidationPool:
    """The process's worker pool, started on the first page big enough to need it, kept for later
    rounds (`serve --sync-interval` syncs every few seconds; starting workers costs seconds)."""

    _lock = threading.Lock()
    _pool: ProcessPoolExecutor | None = None

    @classmethod
    def running(cls) -> bool:
        return cls._pool is not None

    @classmethod
    def submit(cls, raw: bytes, database_url: str, collection: str) -> Future[ValidatedPage] | None:
        """A future of the page's validation, or None: validate it inline."""
        workers = worker_count()
        if workers <= 0:
            return None
        with cls._lock:
            if cls._pool is None:
                # spawn, not fork: the server syncs from a thread, and forking a threaded process is unsafe
                cls._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_start_worker)
            try:
                return cls._pool.submit(validate_raw, raw, database_url, collection)
            except (BrokenProcessPool, RuntimeError):
                log.warning("sync validation workers stopped; validating inline until the next round")
                cls._reset_locked()
                return None

    @classmethod
    def broken(cls) -> None:
        with cls._lock:
            cls._reset_locked()

    @classmethod
    def _reset_locked(cls) -> None:
        if cls._pool is not None:
            cls._pool.shutdown(wait=False, cancel_futures=True)
            cls._pool = None

    @classmethod
    def shutdown(cls) -> None:
        with cls._lock:
            if cls._pool is not None:
                cls._pool.shutdown(wait=True, cancel_futures=True)
                cls._pool = None


atexit.register(ValidationPool.shutdown)
