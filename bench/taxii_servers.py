"""Start TAXII servers for the benchmarks: medallion (memory backend) and `trilateral serve`, on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class RunningServer:
    name: str
    collection_url: str
    user: str
    password: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, log: Path, auth: Any = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, auth=auth, timeout=2,
                         headers={"Accept": "application/taxii+json;version=2.1"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def medallion(workdir: Path, max_page_size: int = 1000):
    """medallion 3.0 with its memory backend, configured from files written in `workdir`."""
    port = free_port()
    root = f"http://127.0.0.1:{port}/trilateral/"
    collection_id = str(uuid.uuid4())
    data = {
        "/discovery": {"title": "medallion bench", "default": root, "api_roots": [root]},
        "trilateral": {
            "information": {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 100 * 1024 * 1024},
            "status": [],
            "collections": [{"id": collection_id, "title": "bench", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [],
                             "manifest": []}],
        },
    }
    (workdir / "medallion-data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(workdir / "medallion-data.json"), "session_timeout": 3600},
              "users": {"bench": "bench-pass"}, "taxii": {"max_page_size": max_page_size}}
    (workdir / "medallion-config.json").write_text(json.dumps(config))
    log = workdir / "medallion.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "medallion"), "--host", "127.0.0.1", "--port", str(port),
                                    str(workdir / "medallion-config.json")], stdout=out, stderr=out)
    try:
        _wait(f"{root}collections/", process, log, auth=("bench", "bench-pass"))
        yield RunningServer("medallion", f"{root}collections/{collection_id}/", "bench", "bench-pass", process)
    finally:
        _stop(process)


def create_pg_database(base_url: str) -> str:
    from trilateral.hub.database import create_scratch_database

    return create_scratch_database(base_url, "trilateral_bench")


def drop_pg_database(base_url: str, url: str) -> None:
    from trilateral.hub.database import drop_scratch_database

    drop_scratch_database(url)


@contextmanager
def trilateral(workdir: Path, database_url: str | None = None, name: str = "trilateral-sqlite"):
    """`trilateral serve` over a fresh hub (SQLite in `workdir` unless `database_url` is given)."""
    sys.path.insert(0, str(ROOT / "src"))
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub

    home = workdir / "home"
    env = dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_ACCESS_LOG=str(workdir / f"{name}.access.jsonl"),
               TRILATERAL_MAX_BUNDLE_BYTES=str(100 * 1024 * 1024))
    env["TRILATERAL_DATABASE_URL"] = database_url or f"sqlite:///{home / 'hub.sqlite3'}"
    hub = Hub.open(Settings.from_env(env))
    tokens = {p.code: token for p, token in hub.init()}
    hub.close()
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}/api/v1/"
    try:
        _wait(base, process, log, auth=("US", tokens["US"]))
        yield RunningServer(name, f"{base}collections/shared/", "US", tokens["US"], process)
    finally:
        _stop(process)
