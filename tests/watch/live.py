"""Shared pieces of the live tests: a ganache node, the scripted laundering, labels, a webhook receiver."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from trilateral.demo.live_chain import (  # noqa: F401 (re-exported for the tests and benches)
    ETH,
    NAMES,
    DevNode,
    World,
    free_port,
    launder,
    setup_world,
    start_ganache,
    write_labels,
)

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def ganache(accounts: int = 12) -> Iterator[DevNode]:
    """start_ganache, skipping the test when node or ganache is absent."""
    from trilateral.demo.live_chain import ganache_path

    if ganache_path() is None:
        pytest.skip("node or node_modules/.bin/ganache is absent (npm install ganache@7.9.2)")
    with start_ganache(accounts) as node:
        yield node


def verify_snippet() -> Any:
    """The verification function exactly as docs/watch.md prints it."""
    text = (REPO / "docs" / "watch.md").read_text()
    code = re.search(r"<!-- verify-snippet -->\s*```python\n(.*?)```", text, re.S).group(1)
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/watch.md", "exec"), scope)
    return scope["verify_webhook"]


class Receiver:
    """A local webhook endpoint: verifies each POST with the documented snippet, records accepted ones."""

    def __init__(self, secrets: dict[str, str] | None = None, delay: float = 0.0) -> None:
        self.secrets = secrets or {}
        self.verify = verify_snippet()
        self.seen: dict[str, set[str]] = {}  # per endpoint: each receiver keeps its own keys
        self.accepted: list[dict] = []
        self.duplicates = 0
        self.rejected = 0
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                secret = receiver.secrets.get(self.path.strip("/"), "")
                with receiver.lock:
                    verdict = receiver.verify(secret, body, self.headers.get("Trilateral-Signature", ""),
                                              receiver.seen.setdefault(self.path, set()), self.headers.get("Idempotency-Key", ""))
                    if verdict == "accept":
                        receiver.accepted.append({"path": self.path, "at": time.time(), **json.loads(body)})
                    elif verdict == "duplicate":
                        receiver.duplicates += 1
                    else:
                        receiver.rejected += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(401 if verdict == "reject" else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
