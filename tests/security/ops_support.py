"""Helpers for the operations tests (issue 14 points 13-16): a real `trilateral serve` per hub, direct
database access for the tamper scenarios, and the `trilateral` command as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.taxii.conftest import MAX_CONTENT_LENGTH, TaxiiServer, _setup_principals, free_port, hub_database

START_TIMEOUT = 240  # seconds: CI machines shared by many jobs start Python slowly

DATABASES = ["sqlite", "postgres"]


@dataclass
class OpsHub:
    """A served hub: its server, its environment (home, database) and an engine for tampering."""

    server: TaxiiServer
    env: dict[str, str]
    home: Path
    url: str

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


@contextmanager
def served_hub(kind: str, workdir: Path) -> Iterator[OpsHub]:
    """A fresh hub on `kind` (sqlite | postgres) with US, KR, JP and a client of KR, served by a real
    `trilateral serve`."""
    home = workdir / "home"
    with hub_database(kind, home) as url:
        env = dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_DATABASE_URL=url,
                   TRILATERAL_MAX_BUNDLE_BYTES=str(MAX_CONTENT_LENGTH), TRILATERAL_ACCESS_LOG="off")
        tokens = _setup_principals(env)
        with serve_process(env, workdir) as (base, process, stderr):
            server = TaxiiServer(base=base, tokens=tokens, access_log=workdir / "none", process=process,
                                 stderr=stderr)
            yield OpsHub(server, env, home, url)
        log = stderr.read_text(errors="replace")
    assert "Traceback" not in log, f"the server logged a traceback:\n{log}"
