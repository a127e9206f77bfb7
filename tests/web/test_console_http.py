"""The console over HTTP (in-process app, real hub): sign-in, sessions, CSRF, every screen renders,
and what each principal sees is what the hub's policy allows."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.hub.conftest import bundle, indicator
from tests.web.conftest import REVOKED, login_csrf, page_csrf, sign_in, write_case
from trilateral.core.tlp import Tlp

SCREENS = ["/", "/intel", "/intel/share", "/cases", "/screening", "/reports", "/admin"]


def test_pages_need_a_session(app_client: TestClient) -> None:
    for path in SCREENS:
        res = app_client.get(path, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/login")
    assert app_client.get("/api/console/feed").status_code == 401


def test_sign_in_sets_a_strict_httponly_cookie_and_every_screen_renders(app_client, console_hub) -> None:
    _, tokens = console_hub
    res = app_client.post("/login", data={"code": "US", "token": tokens["US"], "csrf": login_csrf(app_client)},
                          follow_redirects=False)
    assert res.status_code == 303
    cookie = [h for k, h in res.headers.multi_items() if k == "set-cookie" and h.startswith("trl_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # plain HTTP here
    for path in SCREENS:
        page = app_client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert "United States" in page.text


def test_wrong_token_and_revoked_principal_cannot_sign_in(app_client, console_hub) -> None:
    hub, tokens = console_hub
    bad = app_client.post("/login", data={"code": "US", "token": tokens["KR"], "csrf": login_csrf(app_client)})
    assert bad.status_code == 401 and "Sign-in failed" in bad.text
    hub.revoke(REVOKED)
    gone = app_client.post("/login", data={"code": REVOKED, "token": tokens[REVOKED],
                                           "csrf": login_csrf(app_client)})
    assert gone.status_code == 401


def test_a_session_ends_when_its_principal_is_revoked_or_its_token_rotated(app_client, console_hub) -> None:
    hub, tokens = console_hub
    sign_in(app_client, REVOKED, tokens[REVOKED])
    assert app_client.get("/intel").status_code == 200
    hub.revoke(REVOKED)
    assert app_client.get("/intel", follow_redirects=False).status_code == 303
    assert app_client.get("/api/console/feed").status_code == 401
    sign_in(app_client, "JP", tokens["JP"])
    import time

    time.sleep(1.1)  # sessions record their issue time in whole seconds
    hub.rotate_token("JP")
    assert app_client.get("/api/console/feed").status_code == 401


def test_forms_reject_a_missing_or_wrong_csrf_token(app_client, console_hub) -> None:
    hub, tokens = console_hub
    no_login = app_client.post("/login", data={"code": "US", "token": tokens["US"]})
    assert no_login.status_code == 403
    csrf = sign_in(app_client, "US", tokens["US"])
    posts = {"/intel/share": {"kind": "ipv4", "value": "192.0.2.1", "tlp": "green"},
             "/screening": {"addresses": "0x" + "a" * 40},
             "/reports": {"quarter": "2026Q1"},
             "/admin/rotate": {"code": "US-BANK"},
             "/admin/revoke": {"code": "US-BANK"},
             "/admin/add-client": {"code": "US-NEW", "name": "New"},
             "/logout": {}}
    before = len(hub.query(hub.principal("US")).records)
    for path, data in posts.items():
        for token in (None, "forged" + csrf[6:]):
            body = dict(data, **({"csrf": token} if token else {}))
            assert app_client.post(path, data=body).status_code == 403, path
    assert app_client.post("/api/console/screen", json={"addresses": ["x"]}).status_code == 403
    assert len(hub.query(hub.principal("US")).records) == before
    assert not [p for p in hub.list_principals() if p.code == "US-NEW" or p.revoked]
    assert app_client.get("/intel").status_code == 200  # still signed in: the forged logout did nothing


def test_sign_out_ends_the_session(app_client, console_hub) -> None:
    _, tokens = console_hub
    csrf = sign_in(app_client, "KR", tokens["KR"])
    stolen = app_client.cookies.get("trl_session")
    assert app_client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    app_client.cookies.set("trl_session", stolen)  # a copy of the cookie no longer works either
    assert app_client.get("/api/console/feed").status_code == 401


def test_share_by_form_stores_a_marked_indicator_for_its_recipients(app_client, console_hub) -> None:
    hub, tokens = console_hub
    csrf = sign_in(app_client, "KR", tokens["KR"])
    res = app_client.post("/intel/share", data={"csrf": csrf, "kind": "wallet", "value": "0x" + "e" * 40,
                                                "name": "Lazarus wallet", "tlp": "red", "recipients": "US, jp"})
    assert res.status_code == 200 and "Stored 1" in res.text
    stored = hub.query(hub.principal("US")).records
    assert [r.tlp for r in stored] == [Tlp.RED]
    assert hub.query(hub.principal("JP")).records and not hub.query(hub.principal("KR-UPBIT")).records


def test_share_by_file_applies_the_chosen_marking(app_client, console_hub) -> None:
    import json

    hub, tokens = console_hub
    csrf = sign_in(app_client, "US", tokens["US"])
    doc = json.dumps(bundle(indicator("192.0.2.9", None), indicator("192.0.2.10", Tlp.CLEAR)))
    res = app_client.post("/intel/share", data={"csrf": csrf, "tlp": "amber+strict"},
                          files={"file": ("intel.json", doc, "application/json")})
    assert "Stored 2" in res.text
    assert sorted(r.tlp for r in hub.query(hub.principal("US")).records) == [Tlp.CLEAR, Tlp.AMBER_STRICT]
    assert [r.tlp for r in hub.query(hub.principal("KR-UPBIT")).records] == [Tlp.CLEAR]


def test_cases_are_for_who_may_read_them_and_freeze_answers_are_recorded(app_client, console_hub, home) -> None:
    _, tokens = console_hub
    write_case(home)
    sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    assert app_client.get("/api/console/cases").json() == []  # AMBER+STRICT: members only
    csrf = sign_in(app_client, "JP", tokens["JP"])
    cases = app_client.get("/api/console/cases").json()
    assert [c["unanswered_freeze_requests"] for c in cases] == [1]
    case_id = cases[0]["id"]
    page = app_client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Upbit" in page.text
    graph = app_client.get(f"/api/console/cases/{case_id}/graph").json()
    assert {n["role"] for n in graph["nodes"]} >= {"seed", "offramp", "holding"}
    why = app_client.get(f"/api/console/cases/{case_id}/explain", params={"address": "0x" + "c" * 40}).json()
    assert why["label"] == "Upbit" and why["paths"][0]["hops"] == 2
    res = app_client.post(f"/cases/{case_id}/freeze", data={"csrf": csrf, "exchange": "Upbit", "status": "frozen",
                                                            "frozen": "ethereum ETH 1500000000000000000"})
    assert res.status_code == 200 and "Answer recorded" in res.text
    assert app_client.get("/api/console/cases").json()[0]["unanswered_freeze_requests"] == 0
    sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    assert app_client.get(f"/cases/{case_id}").status_code == 404
    assert app_client.get(f"/api/console/cases/{case_id}/graph").status_code == 404


def test_administration_is_for_members_and_only_over_their_own_clients(app_client, console_hub) -> None:
    hub, tokens = console_hub
    sign_in(app_client, "US-BANK", tokens["US-BANK"])
    assert app_client.get("/admin").status_code == 403
    csrf = sign_in(app_client, "US", tokens["US"])
    assert app_client.post("/admin/revoke", data={"csrf": csrf, "code": "KR-UPBIT"}).status_code == 403
    rotated = app_client.post("/admin/rotate", data={"csrf": csrf, "code": "US-BANK"})
    token = re.search(r'<code class="token">([^<]+)</code>', rotated.text).group(1)
    assert hub.authenticate(token, "US-BANK").code == "US-BANK"
    verdict = app_client.post("/admin/verify", data={"csrf": csrf})
    assert "Intact" in verdict.text
    assert page_csrf(app_client) == csrf


def test_screening_counts_hub_intel_only_as_far_as_the_principal_may_read(app_client, console_hub) -> None:
    hub, tokens = console_hub
    seen, hidden = "0x" + "1" * 40, "0x" + "2" * 40
    for address, tlp in ((seen, Tlp.GREEN), (hidden, Tlp.RED)):
        hub.submit(hub.principal("US"), bundle(indicator(address, tlp, name=f"wallet {address[:6]}",
                                                         pattern=f"[cryptocurrency-wallet:address = '{address}']")))
    csrf = sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    res = app_client.post("/screening", data={"csrf": csrf, "addresses": f"{seen}\n{hidden}", "hops": "0"})
    assert res.status_code == 200, res.text[-500:]
    rows = re.findall(r"<tr class=\"(hit)?\"><td><code>(0x[0-9a-f]+)</code>", res.text)
    assert {address: bool(hit) for hit, address in rows} == {seen: True, hidden: False}
    data = app_client.post("/api/console/screen", json={"addresses": [seen, hidden], "hops": 0},
                           headers={"X-CSRF-Token": csrf}).json()
    assert [bool(r["hits"]) for r in data] == [True, False]


def test_reports_are_generated_for_the_principal_and_served_only_to_it(app_client, console_hub) -> None:
    from datetime import UTC, datetime

    from trilateral.web.services.reports import current_quarter

    _, tokens = console_hub
    quarter = current_quarter(datetime.now(UTC).date())
    csrf = sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    listing = app_client.post("/reports", data={"csrf": csrf, "quarter": quarter})
    assert listing.status_code == 200 and f"/reports/{quarter}/report.html" in listing.text
    report = app_client.get(f"/reports/{quarter}/report.html")
    assert report.status_code == 200 and "KR-UPBIT" in report.text
    assert app_client.get(f"/reports/{quarter}/../../US/{quarter}/report.html").status_code == 404
    sign_in(app_client, "US", tokens["US"])
    assert app_client.get(f"/reports/{quarter}/report.html").status_code == 404  # US has generated none


def test_odd_numbers_in_console_query_params_are_ignored_not_a_500(app_client, console_hub, home) -> None:
    # "²".isdigit() is true but int() refuses it, as it refuses 5000 digits: both were a 500
    _, tokens = console_hub
    write_case(home)
    sign_in(app_client, "JP", tokens["JP"])
    case_id = app_client.get("/api/console/cases").json()[0]["id"]
    for odd in ("\u00b2", "9" * 5000):
        assert app_client.get("/api/console/audit", params={"before": odd}).status_code == 200
        assert app_client.get("/admin/audit", params={"before": odd}).status_code == 200
        graph = app_client.get(f"/api/console/cases/{case_id}/graph", params={"budget": odd})
        assert graph.status_code == 200 and graph.json()["nodes"]


def test_a_malformed_screening_request_is_named_not_a_500(app_client, console_hub) -> None:
    _, tokens = console_hub
    csrf = sign_in(app_client, "US-BANK", tokens["US-BANK"])
    head = {"X-CSRF-Token": csrf}
    cases = [(b"null", "body must be a JSON object"), (b"[]", "body must be a JSON object"),
             (b"{", "body is not JSON"), (b'{"addresses": [1, 2]}', "addresses must be a list of strings"),
             (b'{"addresses": "0xab"}', "addresses must be a list of strings"),
             (b'{"addresses": ["0xab"], "chain": ["x"]}', "chain must be a string"),
             (b'{"addresses": ["0xab"], "hops": [1]}', "hops must be an integer"),
             (b'{"addresses": ["0xab"], "hops": 1.5}', "hops must be an integer"),
             (b'{"addresses": ["0xab"], "hops": 99}', "hops must be between 0 and 10")]
    for body, reason in cases:
        res = app_client.post("/api/console/screen", content=body, headers=head)
        assert res.status_code == 400 and reason in res.json()["error"], (body, res.text)
    ok = app_client.post("/api/console/screen", json={"addresses": ["0x" + "ab" * 20], "hops": "1"}, headers=head)
    assert ok.status_code == 200
