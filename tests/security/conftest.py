"""A real `trilateral serve` per test module and database, with the principals the attacks need.

Principals: members US, KR, JP; clients KR-UPBIT (of KR) and JP-SAKURA (of JP).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.hub.conftest import indicator as hub_indicator
from tests.taxii.conftest import TaxiiServer, hub_database, running_server
from trilateral.core.tlp import Tlp

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "/api/v1/collections/shared/"


def indicator(tlp: Tlp | None = Tlp.GREEN, *, value: str = "198.51.100.7", **extra: Any) -> dict[str, Any]:
    """tests/hub's indicator with the marking first (these tests vary it more than the value)."""
    return hub_indicator(value, tlp, **extra)


@dataclass
class Hub:
    """The server and direct database access (for audit entries and principals)."""

    server: TaxiiServer
    url: str
    home: Path

    def client(self, code: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.base, auth=(code, self.server.tokens[code]), timeout=60,
                            headers={"Accept": TAXII})

    def post(self, code: str, *objects: dict[str, Any], collection: str = "shared") -> dict[str, Any]:
        with self.client(code) as c:
            r = c.post(f"/api/v1/collections/{collection}/objects/", json={"objects": list(objects)},
                       headers={"Content-Type": TAXII})
        assert r.status_code == 202, r.text
        return r.json()

    def get(self, code: str, path: str, **params: Any) -> httpx.Response:
        with self.client(code) as c:
            return c.get(path, params=params)

    def objects(self, code: str, *ids: str, **params: Any) -> list[dict[str, Any]]:
        """Every object `code` reads in the shared collection (optionally only `ids`), all pages."""
        if ids:
            params["match[id]"] = ",".join(ids)
        out: list[dict[str, Any]] = []
        while True:
            r = self.get(code, COLLECTION + "objects/", **params)
            assert r.status_code == 200, r.text
            body = r.json()
            out += body.get("objects", [])
            if not body.get("more"):
                return out
            params["next"] = body["next"]

    def by_id(self, code: str, stix_id: str, **params: Any) -> httpx.Response:
        return self.get(code, f"{COLLECTION}objects/{stix_id}/", **params)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, TRILATERAL_HOME=str(self.home), TRILATERAL_DATABASE_URL=self.url)
        return subprocess.run([sys.executable, "-m", "trilateral", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    def db(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def add(self, code: str, client_of: str | None = None) -> str:
        from trilateral.core.settings import Settings
        from trilateral.hub import Hub as RealHub

        env = dict(os.environ, TRILATERAL_HOME=str(self.home), TRILATERAL_DATABASE_URL=self.url)
        hub = RealHub.open(Settings.from_env(env))
        try:
            _, token = hub.add_principal(code, code.title(), client_of=client_of)
        finally:
            hub.close()
        self.server.tokens[code] = token
        return token


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    workdir = tmp_path_factory.mktemp(f"security-{request.param}")
    home = workdir / "home"
    with hub_database(request.param, home) as url, running_server(url, home, workdir) as server:
        h = Hub(server, url, home)
        h.add("JP-SAKURA", client_of="JP")
        yield h
        log = server.stderr.read_text(errors="replace")
    assert "Traceback" not in log, f"the server logged a traceback:\n{log}"
