"""The outbox's delivery side: webhooks (signed, retried with backoff) and STIX into the hub.

Delivery is at-least-once with a stable idempotency key per alert: a crash between the POST and
the "delivered" mark re-sends the same body under the same key, so receivers that keep the keys
they have seen act exactly once (docs/watch.md)."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import httpx

from trilateral.core.principal import Principal
from trilateral.watch.alerts import stix_bundle
from trilateral.watch.signing import EVENT_HEADER, KEY_HEADER, SIGNATURE_HEADER, sign
from trilateral.watch.store import OutboxRow, WatchStore

MAX_ATTEMPTS = 20
BASE_DELAY = 0.5  # seconds; doubled per failed attempt, at most MAX_DELAY, with jitter
MAX_DELAY = 300.0


class Deliverer:
    """One delivery lane: "webhook" rows or "hub" rows, so a slow one never holds up the other."""

    def __init__(self, store: WatchStore, hub: Any, submitter: Principal, lane: str, timeout: float = 5.0) -> None:
        self.store = store
        self.lane = lane
        self.hub = hub
        self.submitter = submitter
        self.http = httpx.Client(timeout=timeout)
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hooks: dict[int, dict[str, Any]] = {}

    def run_once(self) -> int:
        """Deliver what is due; the number of rows delivered."""
        done = 0
        for row in self.store.due(self.lane):
            try:
                self.deliver(row)
            except Exception as exc:  # any failure: retried later, the reason kept on the row
                delay = min(BASE_DELAY * 2 ** row.attempts, MAX_DELAY) * (1 + random.random() / 4)
                self.store.retry(row, f"{type(exc).__name__}: {exc}", delay, row.attempts + 1 >= MAX_ATTEMPTS)
                continue
            self.store.delivered(row.id)
            done += 1
        return done

    def deliver(self, row: OutboxRow) -> None:
        if row.destination == "hub":
            result = self.hub.submit(self.submitter, stix_bundle(json.loads(row.body)), source="trilateral watch")
            if result.failed:
                raise RuntimeError("; ".join(reason for _, reason in result.failed))
            return
        hook_id = int(row.destination.split(":", 1)[1])
        hook = self._hooks.get(hook_id)
        if hook is None:
            self._hooks = {h["id"]: h for h in self.store.webhooks()}
            hook = self._hooks.get(hook_id)
            if hook is None:
                raise RuntimeError(f"webhook {hook_id} was removed")
        body = row.body.encode()
        event = "alert.retracted" if row.idem_key.endswith(".retracted") else "alert.raised"
        headers = {"Content-Type": "application/json", KEY_HEADER: row.idem_key, EVENT_HEADER: event,
                   SIGNATURE_HEADER: sign(hook["secret"], int(time.time()), body)}
        response = self.http.post(hook["url"], content=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{hook['url']} answered HTTP {response.status_code}")

    def warm(self) -> None:
        """Load the hub's STIX validation once at start (seconds), not on the first alert."""
        from trilateral.hub.stixcheck import full_check
        from trilateral.watch.alerts import stix_bundle as bundle

        sample = {"id": "alert-warm", "event": "alert.raised", "raised_at": "2026-01-01T00:00:00.000Z", "kind": "mixer",
                  "amount": "1", "asset": "ETH", "address": "0x" + "0" * 40, "chain": "ethereum",
                  "block": {"number": 0, "hash": "0x0"}, "tx_hash": "0x0", "amount_base_units": "1",
                  "confidence": 1.0, "case": {"name": "warm-up"}, "recipients": []}
        for obj in bundle(sample)["objects"]:
            full_check(obj)

    # -- background thread -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"watch-outbox-{self.lane}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database went away for a moment: try again shortly
                busy = 0
            if not busy:
                self.wake.wait(0.25)
                self.wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.http.close()
