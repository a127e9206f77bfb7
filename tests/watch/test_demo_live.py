"""`trilateral demo --live`: the laundering on ganache is alerted live and ends in a freeze request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watch.live import ganache
from trilateral.demo.live import run_live

pytestmark = pytest.mark.ganache


def test_live_demo_alerts_and_times_the_first_freeze_request(tmp_path: Path) -> None:
    with ganache():  # skips without node/ganache, like the other live tests
        pass
    lines: list[str] = []
    figures = run_live(tmp_path / "demo", lines.append, pause=0.0)
    assert figures["alerts"] == figures["expected"] == 5
    assert 0 < figures["first_freeze_seconds"] < 30
    assert any(p.endswith("freeze_requests.json") for p in figures["freeze_requests"])
    assert sum(1 for ln in lines if " ALERT " in ln) == 5 and "first freeze request (Upbit" in lines[-2]
