"""Shared fixtures: a fresh TRILATERAL_HOME per test, and hub databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from trilateral.hub import Hub

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED_DATA.is_dir():
    SHARED_DATA = Path(os.environ.get("TRILATERAL_SHARED_DATA", "/work/shared/data"))


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data; skips the calling test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (it ships beside the repo as ../shared/data)")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty TRILATERAL_HOME, with the hub database defaulting to SQLite inside it."""
    h = tmp_path / "home"
    monkeypatch.setenv("TRILATERAL_HOME", str(h))
    monkeypatch.delenv("TRILATERAL_DATABASE_URL", raising=False)
    return h


def postgres_url_or_skip() -> str:
    url = os.environ.get("TRILATERAL_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("TRILATERAL_REQUIRE_POSTGRES") == "1":
            pytest.fail("TRILATERAL_REQUIRE_POSTGRES=1 but TRILATERAL_TEST_DATABASE_URL is unset")
        pytest.skip("set TRILATERAL_TEST_DATABASE_URL to run the PostgreSQL variant")
    return url


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A throwaway PostgreSQL database (dropped afterwards); skips, or fails in CI, when unavailable."""
    from trilateral.hub.database import create_scratch_database, drop_scratch_database

    base_url = postgres_url_or_skip()
    try:
        url = create_scratch_database(base_url, prefix)
    except Exception as exc:  # server down: a clear failure in CI, a skip elsewhere
        if os.environ.get("TRILATERAL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"cannot create a PostgreSQL test database at {base_url}: {exc}")
        pytest.skip(f"PostgreSQL at {base_url} unavailable: {exc}")
    try:
        yield url
    finally:
        drop_scratch_database(url)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A freshly created PostgreSQL database (dropped afterwards); its SQLAlchemy URL."""
    with scratch_postgres("trilateral_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The hub database URL, once for SQLite (in `home`) and once for PostgreSQL; also set in the env."""
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'hub.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    monkeypatch.setenv("TRILATERAL_DATABASE_URL", url)
    return url


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """An opened hub on `database_url` (once for SQLite, once for PostgreSQL)."""
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub

    h = Hub.open(Settings.from_env())
    try:
        yield h
    finally:
        h.close()
