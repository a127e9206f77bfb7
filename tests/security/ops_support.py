"""Helpers for the operations tests (issue 14 points 13-16): a real `trilateral serve` per hub, direct
database access for the tamper scenarios, and the `trilateral` command as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.taxii.conftest import MAX_CONTENT_LENGTH, TaxiiServer, _setup_principals, free_port, hub_database
from trilateral.hub.database import drop_scratch_database

START_TIMEOUT = 240  # seconds: CI machines shared by many jobs start Python slowly

DATABASES = ["sqlite", "postgres"]


@dataclass
class HubFiles:
    """A hub at rest: its environment (home, database), its principals' tokens, an engine for tampering."""

    env: dict[str, str]
    home: Path
    url: str
    tokens: dict[str, str]

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`trilateral ARGS` in this hub's environment."""
        return subprocess.run([sys.executable, "-m", "trilateral", *args], env=env or self.env,
                              capture_output=True, text=True, timeout=120)

    def sql(self, statement: str, **params: object) -> list[sa.Row]:
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return result.all() if result.returns_rows else []
        finally:
            engine.dispose()


@dataclass
class OpsHub(HubFiles):
    """A served hub: the above and its running server."""

    server: TaxiiServer

    def http(self, code: str) -> httpx.Client:
        return self.server.http(code)


def wait_until_serving(base: str, process: subprocess.Popen, stderr: Path, verify: bool | str = True) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trilateral serve exited with {process.returncode}: {stderr.read_text()}")
        try:
            if httpx.get(f"{base}/taxii2/", timeout=5, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"trilateral serve did not answer within {START_TIMEOUT} s: {stderr.read_text()}")


@contextmanager
def serve_process(env: dict[str, str], workdir: Path, *args: str, host: str = "127.0.0.1",
                  scheme: str = "http", verify: bool | str = True) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`trilateral serve ARGS` on a free port; (base URL, process, stderr file) once it answers."""
    port = free_port()
    stderr = workdir / f"serve-{port}.stderr"
    with stderr.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--host", host, "--port", str(port),
                                    *args], env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, stderr, verify)
        yield base, process, stderr
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hub_env(home: Path, url: str) -> dict[str, str]:
    """The environment `trilateral` commands and the server run with for the hub at (home, url)."""
    return dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_DATABASE_URL=url,
                TRILATERAL_MAX_BUNDLE_BYTES=str(MAX_CONTENT_LENGTH), TRILATERAL_ACCESS_LOG="off")


@contextmanager
def serving(home: Path, url: str, tokens: dict[str, str], workdir: Path) -> Iterator[OpsHub]:
    """A real `trilateral serve` over an existing hub; on exit the server is stopped and its log must
    hold no traceback."""
    env = hub_env(home, url)
    with serve_process(env, workdir) as (base, process, stderr):
        server = TaxiiServer(base=base, tokens=tokens, access_log=workdir / "none", process=process, stderr=stderr)
        yield OpsHub(env, home, url, tokens, server)
    log = stderr.read_text(errors="replace")
    assert "Traceback" not in log, f"the server logged a traceback:\n{log}"


@contextmanager
def served_hub(kind: str, workdir: Path) -> Iterator[OpsHub]:
    """A fresh hub on `kind` (sqlite | postgres) with US, KR, JP and a client of KR, served by a real
    `trilateral serve`."""
    home = workdir / "home"
    with hub_database(kind, home) as url:
        tokens = _setup_principals(hub_env(home, url))
        with serving(home, url, tokens, workdir) as hub:
            yield hub


@contextmanager
def copied_hub(source_home: Path, source_url: str, home: Path) -> Iterator[str]:
    """A copy of a hub nothing is connected to (its home directory and its database, SQLite or
    PostgreSQL), removed afterwards; the copy's database URL.

    Why: a test that tampers with a hub gets its own copy of one a real server wrote, instead of
    starting a server per test (seconds each)."""
    shutil.copytree(source_home, home)
    if sa.engine.make_url(source_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{home / 'hub.sqlite3'}"
        return
    source = sa.engine.make_url(source_url)
    name = f"trilateral_copy_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for attempt in range(50):  # a stopped server's sessions can linger for a moment
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": source.database})
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
                    break
                except sa.exc.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
    finally:
        admin.dispose()
    url = source.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        drop_scratch_database(url)
