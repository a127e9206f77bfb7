"""Expensive work (reports, screening, case graphs) is limited per principal: 429 with Retry-After,
audited once a minute per principal and kind; others' requests go on while a report is generated."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import sign_in, write_case
from trilateral.core.errors import ConfigurationError
from trilateral.core.settings import DEFAULT_WORK_LIMITS, Settings
from trilateral.web.limits import BUSY_RETRY_SECONDS, TooMuchWork, WorkLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(limits: dict[str, tuple[int, int]]) -> tuple[WorkLimiter, Clock, list[tuple[str, dict]]]:
    clock, audited = Clock(), []
    return WorkLimiter(limits, audit=lambda code, detail: audited.append((code, detail)), clock=clock), clock, audited


def test_a_principal_may_run_only_so_many_at_once_and_a_finished_one_frees_its_slot() -> None:
    lim, _, _ = _limiter({"report": (1, 0)})
    lim.acquire("KR", "report")
    with pytest.raises(TooMuchWork, match=r"1 already running for KR \(at most 1 at a time") as refused:
        lim.acquire("KR", "report")
    assert refused.value.headers == {"Retry-After": str(BUSY_RETRY_SECONDS)}
    lim.acquire("JP", "report")  # per principal
    lim.release("KR", "report")
    lim.acquire("KR", "report")


def test_a_principal_may_start_only_so_many_a_minute_and_is_told_when_to_come_back() -> None:
    lim, clock, _ = _limiter({"screen": (0, 3)})
    for at in (1000.0, 1010.0, 1020.0):
        clock.now = at
        with lim.slot("US", "screen"):
            pass
    clock.now = 1025.0
    with pytest.raises(TooMuchWork, match=r"3 started by US in the last minute \(at most 3 a minute") as refused:
        lim.acquire("US", "screen")
    assert refused.value.retry_after == 35  # the start at 1000 leaves the window at 1060
    clock.now = 1060.0
    lim.acquire("US", "screen")
    with pytest.raises(TooMuchWork):
        lim.acquire("US", "screen")


def test_a_refusal_is_not_counted_as_a_start_and_zero_turns_a_bound_off() -> None:
    lim, clock, _ = _limiter({"graph": (1, 2), "report": (0, 0)})
    with lim.slot("KR", "graph"), pytest.raises(TooMuchWork):
        lim.acquire("KR", "graph")  # refused while one runs...
    lim.acquire("KR", "graph")  # ...so this is the second start of the minute, not the third
    for _ in range(50):
        lim.acquire("KR", "report")


def test_refusals_are_audited_once_a_minute_per_principal_and_kind_with_the_count() -> None:
    lim, clock, audited = _limiter({"report": (1, 0), "screen": (1, 0)})
    lim.acquire("KR", "report")
    lim.acquire("KR", "screen")
    for _ in range(5):
        with pytest.raises(TooMuchWork):
            lim.acquire("KR", "report", "/reports")
    with pytest.raises(TooMuchWork):
        lim.acquire("KR", "screen", "/api/v1/screen")
    assert audited == [("KR", {"work": "report", "reason": "running", "limit": 1, "path": "/reports", "refused": 1}),
                       ("KR", {"work": "screen", "reason": "running", "limit": 1, "path": "/api/v1/screen",
                               "refused": 1})]
    clock.now += 60
    with pytest.raises(TooMuchWork):
        lim.acquire("KR", "report", "/reports")
    assert audited[-1] == ("KR", {"work": "report", "reason": "running", "limit": 1, "path": "/reports",
                                  "refused": 5})  # the four held back and this one


def test_a_failed_audit_write_does_not_let_the_request_through() -> None:
    def broken(code: str, detail: dict) -> None:
        raise OSError("disk full")

    lim = WorkLimiter({"report": (1, 0)}, audit=broken)
    lim.acquire("KR", "report")
    with pytest.raises(TooMuchWork):
        lim.acquire("KR", "report")


def test_limits_come_from_the_environment_and_a_bad_value_is_named() -> None:
    env = {"TRILATERAL_HOME": "/tmp/x", "TRILATERAL_LIMIT_REPORT_CONCURRENT": "2",
           "TRILATERAL_LIMIT_SCREEN_PER_MINUTE": "0"}
    limits = Settings.from_env(env).work_limits
    assert limits["report"] == (2, DEFAULT_WORK_LIMITS["report"][1])
    assert limits["screen"] == (DEFAULT_WORK_LIMITS["screen"][0], 0)
    assert limits["graph"] == DEFAULT_WORK_LIMITS["graph"]
    with pytest.raises(ConfigurationError, match="TRILATERAL_LIMIT_GRAPH_CONCURRENT='-1' is not a whole number"):
        Settings.from_env({**env, "TRILATERAL_LIMIT_GRAPH_CONCURRENT": "-1"})


# --- over HTTP ------------------------------------------------------------------------------------------------

@pytest.fixture
def fast_reports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Report generation replaced by a quick stand-in (the limiter, not the report, is under test)."""
    made: list[str] = []
    monkeypatch.setattr("trilateral.web.services.reports.generate",
                        lambda hub, principal, quarter, pdf=False: made.append(principal.code))
    return made


def _refusals(hub: Any, code: str) -> list[dict]:
    return [e.detail for e in hub.audit_entries(hub.principal(code)).entries if e.action == "request.refused"]


def test_report_generation_is_refused_with_429_beyond_the_per_minute_limit(app_client: TestClient, console_hub,
                                                                           fast_reports: list[str]) -> None:
    hub, tokens = console_hub
    per_minute = hub.settings.work_limits["report"][1]
    csrf = sign_in(app_client, "KR", tokens["KR"])
    for _ in range(per_minute):
        res = app_client.post("/reports", data={"csrf": csrf, "quarter": "2026Q1"}, follow_redirects=False)
        assert res.status_code == 303, res.text
    refused = app_client.post("/reports", data={"csrf": csrf, "quarter": "2026Q1"}, follow_redirects=False)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert f"too many report generations: {per_minute} started by KR in the last minute" in refused.text
    assert fast_reports == ["KR"] * per_minute
    assert app_client.post("/reports", data={"csrf": csrf, "quarter": "2026Q1"}).status_code == 429
    assert _refusals(hub, "KR") == [{"work": "report", "reason": "per_minute", "limit": per_minute,
                                     "path": "/reports", "refused": 1}]  # the second is held for the next entry
    assert hub.audit_verify().ok
    bad = app_client.post("/reports", data={"csrf": csrf, "quarter": "soon"})
    assert bad.status_code == 400 and "is not like 2026Q3" in bad.text  # input errors still say so
    other = TestClient(app_client.app, base_url="http://testserver")
    jp = sign_in(other, "JP", tokens["JP"])
    assert other.post("/reports", data={"csrf": jp, "quarter": "2026Q1"}, follow_redirects=False).status_code == 303


def test_while_a_report_is_generated_other_pages_answer_and_a_second_one_is_refused(
        app_client: TestClient, console_hub, monkeypatch: pytest.MonkeyPatch) -> None:
    # the report ran on the event loop: one generation froze every page and TAXII call of the server
    _, tokens = console_hub
    started, finish = threading.Event(), threading.Event()

    def slow_generate(hub: Any, principal: Any, quarter: str, pdf: bool = False) -> None:
        started.set()
        finish.wait(30)

    monkeypatch.setattr("trilateral.web.services.reports.generate", slow_generate)
    csrf = sign_in(app_client, "KR", tokens["KR"])
    results: dict[str, int] = {}
    first = threading.Thread(target=lambda: results.setdefault("first", app_client.post(
        "/reports", data={"csrf": csrf, "quarter": "2026Q1"}, follow_redirects=False).status_code))
    first.start()
    try:
        assert started.wait(10), "the report never started"
        t0 = time.monotonic()
        assert app_client.get("/intel").status_code == 200
        assert time.monotonic() - t0 < 5
        second = app_client.post("/reports", data={"csrf": csrf, "quarter": "2026Q2"}, follow_redirects=False)
        assert second.status_code == 429 and second.headers["Retry-After"] == str(BUSY_RETRY_SECONDS)
        assert "too many report generations at once: 1 already running for KR" in second.text
    finally:
        finish.set()
        first.join(30)
    assert results == {"first": 303}
    monkeypatch.setattr("trilateral.web.services.reports.generate", lambda *a, **k: None)
    assert app_client.post("/reports", data={"csrf": csrf, "quarter": "2026Q2"},
                           follow_redirects=False).status_code == 303  # the slot was freed


@pytest.fixture
def tight_limits(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """One screen and one graph a minute (set before the hub and app read the settings)."""
    monkeypatch.setenv("TRILATERAL_LIMIT_SCREEN_PER_MINUTE", "1")
    monkeypatch.setenv("TRILATERAL_LIMIT_GRAPH_PER_MINUTE", "1")


def test_screening_shares_one_budget_across_the_console_and_the_api(tight_limits: None, app_client: TestClient,
                                                                    console_hub) -> None:
    hub, tokens = console_hub
    csrf = sign_in(app_client, "US-BANK", tokens["US-BANK"])
    body = {"addresses": ["0x" + "ab" * 20], "hops": 0}
    assert app_client.post("/api/console/screen", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    again = app_client.post("/api/console/screen", json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert again.json()["error"].startswith("too many screenings: 1 started by US-BANK in the last minute")
    form = app_client.post("/screening", data={"csrf": csrf, "addresses": body["addresses"][0], "hops": "0"})
    assert form.status_code == 429 and "too many screenings" in form.text and "Retry-After" in form.headers
    basic = base64.b64encode(f"US-BANK:{tokens['US-BANK']}".encode()).decode()
    api = app_client.post("/api/v1/screen/", json=body, headers={"Authorization": f"Basic {basic}"})
    assert api.status_code == 429 and "Retry-After" in api.headers and "too many screenings" in api.text
    basic = base64.b64encode(f"JP:{tokens['JP']}".encode()).decode()
    assert app_client.post("/api/v1/screen/", json=body, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert [d["work"] for d in _refusals(hub, "US")] == ["screen"]  # US reads its client's entries


def test_case_graph_builds_are_limited_too(tight_limits: None, app_client: TestClient, console_hub, home: Path
                                           ) -> None:
    _, tokens = console_hub
    write_case(home)
    sign_in(app_client, "KR", tokens["KR"])
    case_id = app_client.get("/api/console/cases").json()[0]["id"]
    assert app_client.get(f"/api/console/cases/{case_id}/graph", params={"budget": 10}).status_code == 200
    again = app_client.get(f"/api/console/cases/{case_id}/graph", params={"budget": 11})
    assert again.status_code == 429 and "too many case graph builds" in again.json()["error"]

