"""Per-principal limits on expensive work behind the console and the screening API.

Generating a quarterly report (HTML + PDF), screening a batch with exposure, and building a case graph
each cost from a fraction of a second to seconds of CPU; without a limit any signed-in principal could
queue them back to back and starve everyone else (a cheap denial of service). One `WorkLimiter` per
server process allows each principal, per kind of work, at most `concurrent` running at once and
`per_minute` started in any 60 s (`Settings.work_limits`, `TRILATERAL_LIMIT_<KIND>_CONCURRENT` /
`_PER_MINUTE`; 0 turns that bound off). With `--workers N` each worker keeps its own counts.

A refusal is `TooMuchWork` (HTTP 429 with Retry-After) and goes to the hub's audit chain as
`request.refused` under the principal's code, like every other action of it -- at most one entry per
principal and kind a minute, carrying how many were refused since the previous one, so a flood of
refused requests cannot become a flood of audit writes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from trilateral.core.errors import TrilateralError
from trilateral.core.settings import WORK_KINDS

log = logging.getLogger("trilateral.web.limits")
WINDOW_SECONDS = 60
BUSY_RETRY_SECONDS = 5  # refused because one is still running: when to look again
AUDIT_ACTION = "request.refused"


class TooMuchWork(TrilateralError):
    """The principal is at its limit for this kind of work: answer 429 with `headers`."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


Auditor = Callable[[str, dict[str, Any]], None]


class WorkLimiter:
    """Counts running and recently started work per (principal, kind); thread-safe (routes run in the
    event loop and in the thread pool)."""

    def __init__(self, limits: Mapping[str, tuple[int, int]], audit: Auditor | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        unknown = set(limits) - set(WORK_KINDS)
        if unknown:
            raise ValueError(f"unknown kinds of work {sorted(unknown)}; known: {', '.join(WORK_KINDS)}")
        self.limits = dict(limits)
        self._audit = audit
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], int] = {}
        self._started: dict[tuple[str, str], deque[float]] = {}
        self._refused: dict[tuple[str, str], tuple[float, int]] = {}  # last audit entry's time, refused since

    def acquire(self, code: str, kind: str, where: str = "") -> None:
        """Count one more `kind` running for `code`, or raise TooMuchWork (audited) without counting it."""
        concurrent, per_minute = self.limits.get(kind, (0, 0))
        key = (code, kind)
        with self._lock:
            now = self._clock()
            started = self._started.setdefault(key, deque())
            while started and now - started[0] >= WINDOW_SECONDS:
                started.popleft()
            running = self._running.get(key, 0)
            if concurrent and running >= concurrent:
                reason, limit, retry = "running", concurrent, BUSY_RETRY_SECONDS
            elif per_minute and len(started) >= per_minute:
                reason, limit, running = "per_minute", per_minute, len(started)
                retry = max(1, math.ceil(started[0] + WINDOW_SECONDS - now))
            else:
                started.append(now)
                self._running[key] = running + 1
                return
            refused = self._count_refusal(key, now)
        name = WORK_KINDS[kind]
        if reason == "running":
            message = (f"too many {name} at once: {running} already running for {code} (at most {limit} at a "
                       f"time per principal); try again in {retry} s")
        else:
            message = (f"too many {name}: {running} started by {code} in the last minute (at most {limit} "
                       f"a minute per principal); try again in {retry} s")
        if refused and self._audit is not None:
            self._write_audit(code, {"work": kind, "reason": reason, "limit": limit, "path": where or None,
                                     "refused": refused})
        raise TooMuchWork(message, retry)

    def release(self, code: str, kind: str) -> None:
        key = (code, kind)
        with self._lock:
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)

    @contextmanager
    def slot(self, code: str, kind: str, where: str = "") -> Iterator[None]:
        """Hold one `kind` slot of `code` for the block (sync routes, already in the thread pool)."""
        self.acquire(code, kind, where)
        try:
            yield
        finally:
            self.release(code, kind)

    @asynccontextmanager
    async def aslot(self, code: str, kind: str, where: str = "") -> AsyncIterator[None]:
        """`slot` for async routes: a refusal's audit write runs in the thread pool, not the event loop."""
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(self.acquire, code, kind, where)
        try:
            yield
        finally:
            self.release(code, kind)

    def _count_refusal(self, key: tuple[str, str], now: float) -> int:
        """Refusals to put in an audit entry now (this one and those held back), or 0 to hold it back."""
        last, held = self._refused.get(key, (-math.inf, 0))
        if now - last >= WINDOW_SECONDS:
            self._refused[key] = (now, 0)
            return held + 1
        self._refused[key] = (last, held + 1)
        return 0

    def _write_audit(self, code: str, detail: dict[str, Any]) -> None:
        try:
            self._audit(code, detail)  # type: ignore[misc]
        except Exception:  # the refusal stands even when the audit write fails; say so in the log
            log.exception("could not audit a refused %s request of %s", detail.get("work"), code)


def hub_auditor(hub: Any) -> Auditor:
    """Append refusals to `hub`'s audit chain, in the same keyed chain as its other entries."""

    def write(code: str, detail: dict[str, Any]) -> None:
        from trilateral.hub import audit
        from trilateral.hub.database import writing

        with writing(hub.engine) as conn:
            audit.append(conn, code, AUDIT_ACTION, detail)

    return write


_create_lock = threading.Lock()


def limiter(app: Any) -> WorkLimiter:
    """The app's one limiter (console and screening API share it), made from the hub's settings."""
    state = app.state
    with _create_lock:
        if getattr(state, "work_limiter", None) is None:
            hub = state.hub
            state.work_limiter = WorkLimiter(hub.settings.work_limits, audit=hub_auditor(hub))
    return state.work_limiter
