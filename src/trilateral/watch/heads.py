"""New-head notifications over WebSocket (`eth_subscribe` `newHeads`), so the watch reads a block as
soon as the node has it instead of at the next poll. Polling stays underneath: while the socket is
down (refused, dropped, or the node offers no subscriptions) the watch polls at `--poll` and the
subscription reconnects with backoff."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable

RETRY_SECONDS = (0.5, 1, 2, 5, 10, 30)


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class HeadSubscription:
    """A daemon thread that sets `wake` on every new head the node announces."""

    def __init__(self, url: str, wake: threading.Event, say: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.wake = wake
        self.say = say or _stderr
        self.heads = 0  # announcements received (tests and status)
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heads {url}", daemon=True)

    def start(self) -> HeadSubscription:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        failures = 0
        while not self._stop.is_set():
            try:
                with connect(self.url, open_timeout=5, close_timeout=1) as ws:
                    ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
                    answer = json.loads(ws.recv(timeout=10))
                    if "error" in answer:
                        self.say(f"watch: {self.url} offers no newHeads subscription "
                                 f"({answer['error'].get('message')}); polling")
                        return
                    self.connected.set()
                    failures = 0
                    self.wake.set()  # catch up on anything mined while we were not subscribed
                    while not self._stop.is_set():
                        try:
                            message = ws.recv(timeout=1)
                        except TimeoutError:
                            continue
                        if json.loads(message).get("method") == "eth_subscription":
                            self.heads += 1
                            self.wake.set()
            except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
                if self.connected.is_set() or failures == 0:
                    self.say(f"watch: WebSocket {self.url} unavailable ({exc.__class__.__name__}: {exc}); "
                             "polling until it is back")
                self.connected.clear()
                self._stop.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
