"""A real `trilateral serve` subprocess on a loopback port, over the test's hub database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server

from tests.conftest import scratch_postgres

# Small enough that the 413 trap is cheap, big enough for every other bundle in these tests.
MAX_CONTENT_LENGTH = 400_000
CLIENT_OF_KR = "KR-UPBIT"


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer TOKEN` for taxii2-client (it takes any requests auth object)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass
class TaxiiServer:
    base: str
    tokens: dict[str, str]
    access_log: Path
    process: subprocess.Popen
    stderr: Path
    collections: dict[str, str] = field(default_factory=dict)

    @property
    def api_root_url(self) -> str:
        return f"{self.base}/api/v1/"

    def collection_url(self, collection_id: str = "shared") -> str:
        return f"{self.api_root_url}collections/{collection_id}/"

    def server(self, code: str) -> Server:
        return Server(f"{self.base}/taxii2/", user=code, password=self.tokens[code])

    def api_root(self, code: str) -> ApiRoot:
        return ApiRoot(self.api_root_url, user=code, password=self.tokens[code])

    def collection(self, code: str, collection_id: str = "shared", bearer: bool = False) -> Collection:
        if bearer:
            return Collection(self.collection_url(collection_id), auth=BearerAuth(self.tokens[code]))
        return Collection(self.collection_url(collection_id), user=code, password=self.tokens[code])

    def http(self, code: str | None = None) -> httpx.Client:
        """A raw client (only for malformed-request tests), authenticated as `code` if given."""
        auth = (code, self.tokens[code]) if code else None
        return httpx.Client(base_url=self.base, auth=auth, timeout=30, follow_redirects=False)

    def access_entries(self) -> list[dict]:
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _setup_principals(env: dict[str, str]) -> dict[str, str]:
    """US, KR, JP and a client of KR, created in the test's hub; their tokens."""
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub

    hub = Hub.open(Settings.from_env(env))
    tokens = {p.code: token for p, token in hub.init()}
    _, tokens[CLIENT_OF_KR] = hub.add_principal(CLIENT_OF_KR, "Upbit (client of KR)", client_of="KR")
    close = getattr(hub, "close", None)
    if close:
        close()
    return tokens


def wait_until_serving(base: str, process: subprocess.Popen, stderr_path: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trilateral serve exited with {process.returncode}: {stderr_path.read_text()}")
        try:
            if httpx.get(f"{base}/taxii2/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"trilateral serve did not answer within {timeout} s: {stderr_path.read_text()}")


@contextmanager
def hub_database(kind: str, home: Path) -> Iterator[str]:
    """The same two databases as tests/conftest.py's `database_url`, for a server shared by a module."""
    if kind == "sqlite":
        yield f"sqlite:///{home / 'hub.sqlite3'}"
        return
    with scratch_postgres("trilateral_taxii") as url:
        yield url


@contextmanager
def running_server(database_url: str, home: Path, workdir: Path,
                   extra_args: tuple[str, ...] = ()) -> Iterator[TaxiiServer]:
    """`trilateral serve` as a subprocess over `database_url` (SQLite or PostgreSQL)."""
    env = dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_DATABASE_URL=database_url,
               TRILATERAL_MAX_BUNDLE_BYTES=str(MAX_CONTENT_LENGTH),
               TRILATERAL_ACCESS_LOG=str(workdir / "access.jsonl"))
    tokens = _setup_principals(env)
    port = free_port()
    stderr_path = workdir / "serve.stderr"
    with stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "trilateral", "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args],
            env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, stderr_path)
        yield TaxiiServer(base=base, tokens=tokens, access_log=workdir / "access.jsonl", process=process,
                          stderr=stderr_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def taxii_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TaxiiServer]:
    """One server per test module and database (starting one per test would cost seconds each)."""
    workdir = tmp_path_factory.mktemp(f"taxii-{request.param}")
    home = workdir / "home"
    with hub_database(request.param, home) as url, running_server(url, home, workdir) as server:
        yield server
        log = server.stderr.read_text(errors="replace")
    assert "Traceback" not in log, f"the server logged a traceback:\n{log}"
