"""A case's linked incident and attribution: hub objects shown only to principals `may_read` allows."""

from __future__ import annotations

import json

from tests.hub.conftest import bundle
from tests.web.conftest import incident_and_attribution, sign_in, watch_alert, write_case
from trilateral.core.tlp import Tlp
from trilateral.watch.alerts import stix_bundle
from trilateral.web.services.cases import load_case


def test_members_see_the_incident_and_attribution_a_client_does_not(app_client, console_hub, home) -> None:
    hub, tokens = console_hub
    objs = incident_and_attribution(Tlp.AMBER_STRICT)
    hub.submit(hub.principal("US"), bundle(*objs))
    case = load_case(write_case(home, incident=objs[0]["id"], tlp="amber", owner="US") / "findings.json")
    sign_in(app_client, "JP", tokens["JP"])
    ctx = app_client.get(f"/api/console/cases/{case.id}/context").json()
    assert ctx["incident"]["name"] == "Exchange hot wallet drained"
    assert [(a["actor"], a["confidence"]) for a in ctx["attributions"]] == [("Lazarus Group", 82)]
    html = app_client.get(f"/cases/{case.id}/context").text
    assert "Lazarus Group" in html and "82/100" in html and objs[0]["id"] in html
    assert f'hx-get="/cases/{case.id}/context"' in app_client.get(f"/cases/{case.id}").text
    sign_in(app_client, "US-BANK", tokens["US-BANK"])  # reads the AMBER case, not the AMBER+STRICT incident
    assert app_client.get(f"/cases/{case.id}").status_code == 200
    ctx = app_client.get(f"/api/console/cases/{case.id}/context").json()
    assert ctx == {"incident_id": objs[0]["id"], "incident": None, "readable": False, "attributions": [],
                   "complete": True, "alerts": []}
    html = app_client.get(f"/cases/{case.id}/context").text
    assert "not one you may read" in html and "Lazarus" not in html and "drained" not in html
    sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])  # may not read the case at all
    assert app_client.get(f"/api/console/cases/{case.id}/context").status_code == 404


def test_the_demo_case_links_the_incident_written_beside_its_findings(app_client, console_hub, home) -> None:
    hub, tokens = console_hub
    objs = incident_and_attribution(Tlp.AMBER)
    hub.submit(hub.principal("US"), bundle(*objs))
    out = home / "out"
    out.mkdir(parents=True)
    case_dir = write_case(home)
    (out / "findings.json").write_text((case_dir / "findings.json").read_text())
    (out / "incident.json").write_text(json.dumps(bundle(objs[0])))
    case = load_case(out / "findings.json")
    sign_in(app_client, "KR", tokens["KR"])
    ctx = app_client.get(f"/api/console/cases/{case.id}/context").json()
    assert ctx["incident_id"] == objs[0]["id"] and ctx["attributions"][0]["actor"] == "Lazarus Group"


def test_a_case_without_incident_says_so(app_client, console_hub, home) -> None:
    _, tokens = console_hub
    case = load_case(write_case(home) / "findings.json")
    sign_in(app_client, "US", tokens["US"])
    assert "No incident is linked" in app_client.get(f"/cases/{case.id}/context").text


def test_the_watchs_alerts_on_a_case_of_that_name_are_listed_for_their_readers(app_client, console_hub, home) -> None:
    hub, tokens = console_hub
    hub.submit(hub.principal("US"), stix_bundle(watch_alert("lazarus-2026")))  # AMBER to KR and KR-UPBIT
    hub.submit(hub.principal("US"), stix_bundle(watch_alert("another case")))
    case = load_case(write_case(home, tlp="amber", owner="US") / "findings.json")
    for code, count in (("JP", 1), ("US-BANK", 1)):  # members read AMBER; US-BANK is the submitter's client
        sign_in(app_client, code, tokens[code])
        alerts = app_client.get(f"/api/console/cases/{case.id}/context").json()["alerts"]
        assert [a["case"] for a in alerts] == ["lazarus-2026"] * count, code
    html = app_client.get(f"/cases/{case.id}/context").text
    assert "exchange_deposit" in html and "Upbit" in html
