"""The console in real headless Chromium against a real `trilateral serve`: a member, a client of
another member and a revoked principal sign in; each screen shows exactly what may_read allows (in the
page and in every JSON call the page makes); CSRF-less forms are refused; axe-core finds no serious or
critical violation; new intel appears live; the case graph renders. Screenshots are saved."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.hub.conftest import bundle, indicator
from tests.hub.test_policy import object_st
from tests.taxii.conftest import running_server
from tests.web.browser import CHROMIUM_ARGS, axe_violations, chromium_path, screenshot_dir
from tests.web.conftest import REVOKED, incident_and_attribution, store_drawn_objects, watch_alert, write_case
from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.watch.alerts import stix_bundle

pytestmark = pytest.mark.slow
SCREENS = {"today": "/", "intel": "/intel?since=2000-01-01", "share": "/intel/share", "cases": "/cases",
           "screening": "/screening", "reports": "/reports", "admin": "/admin", "audit": "/admin/audit"}
WHO = ("US", "KR-UPBIT")  # a member, and a client of another member
ALERT_META = ObjectMeta(Tlp.AMBER, "US", "US", frozenset({"KR", "KR-UPBIT"}))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A served hub with objects of every TLP from several submitters, a case, and their readers."""
    workdir = tmp_path_factory.mktemp("console-browser")
    home = workdir / "home"
    url = f"sqlite:///{home / 'hub.sqlite3'}"
    with running_server(url, home, workdir) as server:
        hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": url}))
        tokens = dict(server.tokens)
        tokens[REVOKED] = hub.add_principal(REVOKED, "Gone exchange", client_of="KR")[1]
        tokens["US-BANK"] = hub.add_principal("US-BANK", "US bank", client_of="US")[1]
        tokens["JP-BITFLYER"] = hub.add_principal("JP-BITFLYER", "bitFlyer", client_of="JP")[1]
        expected: dict[str, set[str]] = {c: set() for c in tokens}
        ids = []
        submitters = ("US", "KR", "JP", "KR-UPBIT")
        for n, (who, tlp, to) in enumerate(itertools.product(submitters, [None, *Tlp], [(), ("KR-UPBIT",)])):
            obj = indicator(f"198.51.100.{n}", tlp, recipients=list(to), name=f"console test {n}")
            hub.submit(hub.principal(who), bundle(obj))
            ids.append(obj["id"])
            meta = ObjectMeta(Tlp.AMBER_STRICT if tlp is None else tlp, who, hub.principal(who).member_code,
                              frozenset(to))
            for code in expected:
                if may_read(hub.principal(code), meta):
                    expected[code].add(obj["id"])
        context_objects = incident_and_attribution(Tlp.AMBER)
        hub.submit(hub.principal("US"), bundle(*context_objects))
        hub.submit(hub.principal("US"), stix_bundle(watch_alert("Browser case")))  # AMBER, to KR + KR-UPBIT
        write_case(home, incident=context_objects[0]["id"])
        yield {"base": server.base, "tokens": tokens, "hub": hub, "expected": expected, "ids": set(ids),
               "shots": screenshot_dir(workdir / "screenshots")}
        hub.close()


@pytest.fixture(scope="module")
def browser(world) -> Iterator:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def signed_in(browser, world, code: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=world["base"], bypass_csp=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto("/login")
    page.fill("#code", code)
    page.fill("#token", world["tokens"][code])
    page.click("button[type=submit]")
    return context, page


@pytest.mark.parametrize("code", WHO)
def test_each_screen_shows_what_may_read_allows_and_passes_axe(browser, world, code: str) -> None:
    context, page = signed_in(browser, world, code)
    api_ids: set[str] = set()

    def on_response(response) -> None:  # type: ignore[no-untyped-def]
        if "/api/console/" in response.url and "/live" not in response.url and response.ok:
            text = response.text()
            api_ids.update(i for i in world["ids"] if i in text)

    page.on("response", on_response)
    try:
        assert page.url.rstrip("/") == world["base"], page.url
        for name, path in SCREENS.items():
            page.goto(path)
            page.wait_for_load_state("networkidle") if name != "today" else page.wait_for_timeout(1500)
            page.screenshot(path=str(world["shots"] / f"{code}-{name}.png"), full_page=True)
            shown = {i for i in world["ids"] if i in page.content()}
            assert shown <= world["expected"][code], (code, name)
            if name == "intel":
                assert shown == world["expected"][code], code
            if name == "today":  # the watch's alert, AMBER addressed to KR and KR-UPBIT: both read it
                assert ("Browser case" in page.content()) == may_read(world["hub"].principal(code), ALERT_META)
            bad = axe_violations(page)
            assert not bad, (code, name, bad)
        assert api_ids <= world["expected"][code]
        for stix_id in sorted(world["ids"])[:12]:
            res = page.request.get(f"/api/console/object/{stix_id}")
            assert (res.status == 200) == (stix_id in world["expected"][code]), (code, stix_id)
    finally:
        context.close()


def test_case_graph_renders_and_explains_an_address(browser, world) -> None:
    context, page = signed_in(browser, world, "US")
    try:
        page.goto("/cases")
        page.click("table.feed a")
        page.wait_for_selector("#graph[data-rendered]", timeout=20_000)
        assert page.locator("#graph canvas").count() >= 1
        page.click("button[data-explain]")
        page.wait_for_selector("#explain ol li", timeout=10_000)
        assert "Upbit" in page.inner_text("#explain")
        page.wait_for_selector("text=Lazarus Group", timeout=10_000)  # incident and attribution, after the page
        assert "Exchange hot wallet drained" in page.content()
        page.screenshot(path=str(world["shots"] / "US-case.png"), full_page=True)
        assert not axe_violations(page)
    finally:
        context.close()


def test_forms_without_csrf_are_refused_in_the_browser(browser, world) -> None:
    context, page = signed_in(browser, world, "KR")
    try:
        page.goto("/intel/share")
        page.fill("#s-value", "192.0.2.77")
        page.evaluate("document.querySelector('form.stack input[name=csrf]').remove()")
        page.click("form.stack button[type=submit]")
        assert "security token" in page.content()
        page.screenshot(path=str(world["shots"] / "KR-csrf-refused.png"))
        assert not any("192.0.2.77" in r.raw_json for r in world["hub"].query(world["hub"].principal("KR")).records)
    finally:
        context.close()


def test_a_revoked_principal_is_signed_out_and_cannot_sign_in(browser, world) -> None:
    context, page = signed_in(browser, world, REVOKED)
    try:
        assert page.url.rstrip("/") == world["base"]
        page.wait_for_timeout(1500)  # the live stream is open
        world["hub"].revoke(REVOKED)
        page.wait_for_url("**/login", timeout=15_000)  # Today's live stream signs the page out by itself
        page.goto("/intel")
        assert "/login" in page.url
        page.fill("#code", REVOKED)
        page.fill("#token", world["tokens"][REVOKED])
        page.click("button[type=submit]")
        assert "Sign-in failed" in page.content()
        page.screenshot(path=str(world["shots"] / "revoked-login.png"))
        assert page.request.get("/api/console/feed").status == 401
    finally:
        context.close()


def test_new_intel_appears_on_today_without_reload(browser, world) -> None:
    context, page = signed_in(browser, world, "KR")
    try:
        page.goto("/")
        page.wait_for_timeout(1500)  # the live stream is open
        hub = world["hub"]
        fresh = indicator("192.0.2.200", Tlp.GREEN, name="live arrival")
        hidden = indicator("192.0.2.201", Tlp.RED, name="never for KR")
        hub.submit(hub.principal("JP"), bundle(fresh, hidden))
        page.wait_for_selector("text=live arrival", timeout=15_000)
        time.sleep(1)
        assert "never for KR" not in page.content()
        page.screenshot(path=str(world["shots"] / "KR-today-live.png"), full_page=True)
    finally:
        context.close()


def test_new_alerts_appear_on_today_without_reload(browser, world) -> None:
    context, page = signed_in(browser, world, "KR-UPBIT")
    try:
        page.goto("/")
        page.wait_for_timeout(1500)  # the live stream is open
        hub = world["hub"]
        hub.submit(hub.principal("US"), stix_bundle(watch_alert("Arrives live")))  # addressed to KR-UPBIT
        page.wait_for_selector("#live-alerts >> text=Arrives live", timeout=15_000)
        assert "Upbit" in page.inner_text("#live-alerts")
        page.screenshot(path=str(world["shots"] / "KR-UPBIT-today-live-alert.png"), full_page=True)
        assert not axe_violations(page)
    finally:
        context.close()


def _collect(base: str, into: list, response) -> None:  # type: ignore[no-untyped-def]
    """Keep (url, body) of every same-origin answer but the live stream, read as it arrives."""
    if response.url.startswith(base) and response.ok and "/live" not in response.url:
        into.append((response.url, response.text()))


PROPERTY_CODES = ("US", "KR", "JP", "US-BANK", "KR-UPBIT", "JP-BITFLYER")  # tests/hub/test_policy.py's CODES


@pytest.fixture(scope="module")
def contexts(browser, world) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """One signed-in browser tab per principal of the hub's policy tests, kept across examples."""
    opened = {code: signed_in(browser, world, code) for code in PROPERTY_CODES}
    yield {code: page for code, (_, page) in opened.items()}
    for context, _ in opened.values():
        context.close()


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: each example costs seconds
@given(objects=st.lists(object_st, min_size=1, max_size=4))
def test_browser_property_every_screen_and_call_matches_may_read(world, contexts, objects) -> None:
    """On the hub policy tests' random data (tests/hub/test_policy.py's object_st), each principal's
    Intel feed, object pages, Today and every response those pages fetch show exactly the versions
    `may_read` allows: the newest readable version in the feed, every readable version on the page."""
    hub = world["hub"]
    people = {c: hub.principal(c) for c in PROPERTY_CODES}
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # no "+" to escape in the URL
    ids, expected = store_drawn_objects(hub, PROPERTY_CODES, objects)
    submitter_of = {i: objects[n][0] for n, i in enumerate(ids)}
    for code, page in contexts.items():
        want: dict[str, set[str]] = expected[code]
        fetched: list = []
        listener = partial(_collect, world["base"], fetched)
        page.on("response", listener)
        try:
            page.goto(f"/intel?since={since}")
            feed_ids = {i for i in ids if f"/intel/object/{i}" in page.content()}
            assert feed_ids == set(want), code
            feed = page.request.get(f"/api/console/feed?since={since}").json()["items"]
            assert {i["id"]: i["version"] for i in feed if i["id"] in ids} == {i: max(v) for i, v in want.items()}, code
            for stix_id in ids:
                res = page.goto(f"/intel/object/{stix_id}")
                assert (res.status == 200) == (stix_id in want), (code, stix_id)
                if stix_id in want:
                    page.wait_for_load_state("networkidle")
                    shown = {t.split(" — ")[0].strip() for t in page.locator("details summary").all_inner_texts()}
                    assert shown == want[stix_id], (code, stix_id)
                    assert page.request.get(f"/api/console/object/{stix_id}").status == 200
                else:
                    assert "203.0.113." not in page.content()
                    assert page.request.get(f"/api/console/object/{stix_id}/sightings").json() == {}
            page.goto("/")
            page.wait_for_load_state("networkidle")
            today_ids = {i for i in ids if i in page.content()}
            own = {c for c in PROPERTY_CODES if people[c].member_code == people[code].member_code}
            assert today_ids == {i for i in want if submitter_of[i] not in own}, code  # partners' objects
            assert len(fetched) > 2 * len(ids)
            for url, body in fetched:  # every page, fragment and JSON the screens fetched
                assert not {i for i in ids if i in body} - set(want), (code, url)
        finally:
            page.remove_listener("response", listener)
