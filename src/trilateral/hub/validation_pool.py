"""Validate a large submission on every core: worker processes take slices, the caller takes one.

Why processes: per-object validation is pure Python (the GIL serialises threads), and a TAXII POST
or a file import is one request the client waits on, so its objects are the only parallelism there
is. Slices go to a `ProcessPoolExecutor` whose workers are spawned (not forked: the server has
threads and open database connections) and load the validation libraries once, when the pool
starts. Results come back in order, so positions, verdicts and messages are exactly those of a
sequential run (tests/hub/test_validation_pool.py compares both).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# Below this many objects the pickling round trip costs more than the second core saves.
PARALLEL_MIN_OBJECTS = 400
# Starting the pool costs seconds (spawn + library loading): `trilateral serve` starts it up front;
# elsewhere (a CLI import) only a submission this large starts it.
START_POOL_OBJECTS = 20_000
_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def workers_wanted() -> int:
    """Worker processes to use: TRILATERAL_VALIDATION_WORKERS, default one per core beyond the first."""
    value = os.environ.get("TRILATERAL_VALIDATION_WORKERS")
    if value is not None and value.strip():
        return max(0, int(value))
    return max(0, (os.cpu_count() or 1) - 1)


def _worker_start() -> None:
    from trilateral.hub.stixcheck import warm

    warm()


def _prepare_slice(start: int, items: list[Any], known: set | None) -> list[Any]:
    from trilateral.hub.ingest import prepare

    return [prepare(start + i, obj, known) for i, obj in enumerate(items)]


def start_pool() -> ProcessPoolExecutor | None:
    """The shared pool (started on first use: spawning and warming workers takes seconds)."""
    global _pool, _pool_size
    n = workers_wanted()
    if n == 0:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_start)
            for f in [_pool.submit(int, 0) for _ in range(n)]:
                f.result()  # every worker started and warm before the first real slice
            _pool_size = n
        return _pool


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def prepare_all(items: Sequence[Any], known: set | None,
                progress: Callable[[int, int], None] | None = None) -> list[Any]:
    """`[prepare(i, obj, known) for i, obj in enumerate(items)]`, sliced across the pool when large."""
    from trilateral.hub.ingest import prepare

    pool = None
    if len(items) >= START_POOL_OBJECTS or (_pool is not None and len(items) >= PARALLEL_MIN_OBJECTS):
        pool = start_pool()
    if pool is None:
        out = []
        for i, obj in enumerate(items):
            out.append(prepare(i, obj, known))
            if progress is not None and (i + 1) % 1000 == 0:
                progress(i + 1, len(items))
        return out
    parts = _pool_size + 1  # the caller works too
    # Slices of at most 2,000 keep the progress bar moving and the workers evenly loaded.
    size = min(2000, -(-len(items) // parts))
    slices = [(s, list(items[s:s + size])) for s in range(0, len(items), size)]
    futures = {k: pool.submit(_prepare_slice, start, chunk, _relevant(known, chunk))
               for k, (start, chunk) in enumerate(slices) if k % parts != 0}
    results: dict[int, list[Any]] = {}
    done = 0
    for k, (start, chunk) in enumerate(slices):
        if k not in futures:
            results[k] = _prepare_slice(start, chunk, known)
            done += len(chunk)
            if progress is not None:
                progress(done, len(items))
    for k, future in futures.items():
        results[k] = future.result()
        done += len(slices[k][1])
        if progress is not None:
            progress(done, len(items))
    return [p for k in range(len(slices)) for p in results[k]]


def _relevant(known: set | None, chunk: list[Any]) -> set | None:
    """Only the known versions of this slice's ids travel to the worker."""
    if not known:
        return known
    ids = {o.get("id") for o in chunk if isinstance(o, dict)}
    return {k for k in known if k[0] in ids}
