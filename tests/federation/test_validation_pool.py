"""Pages validated in worker processes give exactly the inline answer; a dead worker costs only time."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import orjson
import pytest

from tests.federation.stixgen import indicator
from trilateral.core.settings import Settings
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.federation import sync, validation
from trilateral.federation.client import Page
from trilateral.federation.core import Cursor
from trilateral.federation.prefetch import Fetched
from trilateral.hub import Hub, ingest


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with Hub.open(Settings.from_env({"TRILATERAL_HOME": str(tmp_path)})) as h:
        h.init()
        yield h
    validation.ValidationPool.shutdown()


def _page(objs: list) -> Page:
    raw = orjson.dumps({"more": False, "objects": objs})
    return Page(objs, [], False, None, None, raw)


def _mixed(hub: Hub) -> list:
    good = [indicator(Tlp.GREEN, n=i) for i in range(600)]
    stored = good[:50]
    hub.submit(hub.principal("US"), stored)  # known versions: their re-validation is skipped
    bad = dict(indicator(Tlp.GREEN, n=9), pattern="[ipv4-addr:value = ")  # refused with the validator's reason
    return [*good, bad, {"type": "marking-definition", "id": TLP2_MARKING_IDS[Tlp.GREEN]}, "not an object"]


def test_a_worker_validates_a_page_exactly_as_inline(hub: Hub) -> None:
    objs = _mixed(hub)
    items = [o for o in objs if isinstance(o, dict)]
    inline = validation.validate(items, ingest.known_versions(hub.engine, "shared", items))
    future = validation.ValidationPool.submit(orjson.dumps({"objects": objs}), hub.settings.database_url, "shared")
    assert future is not None
    pooled = future.result(timeout=120)
    assert pooled == inline
    assert not pooled.fresh and pooled.results[-1] is None  # the built-in TLP definition is skipped
    assert isinstance(pooled.results[-2], ingest.Failure) and "pattern" in pooled.results[-2].reason
    assert sum(isinstance(r, ingest.Prepared) for r in pooled.results) == 600


def test_workers_off_means_inline(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRILATERAL_SYNC_WORKERS", "0")
    assert validation.ValidationPool.submit(b'{"objects": []}', hub.settings.database_url, "shared") is None


def test_a_killed_worker_falls_back_to_inline_then_a_new_pool(hub: Hub) -> None:
    objs = _mixed(hub)
    page = _page(objs)
    first = validation.ValidationPool.submit(page.raw, hub.settings.database_url, "shared")
    assert first is not None
    first.result(timeout=120)  # the pool is up
    for pid in list(validation.ValidationPool._pool._processes):  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
    doomed: Future | None = None
    try:
        doomed = validation.ValidationPool.submit(page.raw, hub.settings.database_url, "shared")
    except Exception as exc:  # noqa: BLE001 - submit itself must not raise
        pytest.fail(f"submit raised {exc!r}")
    fetched = Fetched(page, Cursor(), doomed)
    checked = sync._validated(hub, "shared", fetched)  # the broken pool's page: validated inline
    items = [o for o in objs if isinstance(o, dict)]
    assert checked == validation.validate(items, ingest.known_versions(hub.engine, "shared", items))
    again = validation.ValidationPool.submit(page.raw, hub.settings.database_url, "shared")
    assert again is not None and again.result(timeout=120) == checked  # a fresh pool serves later pages
