"""Today: the chain watch's alerts (its real STIX form through the hub), what partners shared since
yesterday in every collection, and the live stream's batches, each cut to what `may_read` allows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.hub.conftest import bundle, indicator
from tests.web.conftest import sign_in, watch_alert
from trilateral.core.tlp import Tlp
from trilateral.watch.alerts import retraction_body, stix_bundle
from trilateral.web.services.recent import live_batch

READERS = ("US", "KR", "JP", "US-BANK", "KR-UPBIT", "JP-BITFLYER")


def test_alerts_reach_today_and_json_for_exactly_their_readers(app_client, console_hub) -> None:
    hub, tokens = console_hub
    body = watch_alert()
    assert not hub.submit(hub.principal("US"), stix_bundle(body)).failed  # AMBER, addressed to KR + KR-UPBIT
    # AMBER: every member, the submitting member's clients and the addressed client
    readers = {"US", "KR", "JP", "US-BANK", "KR-UPBIT"}
    for code in READERS:
        sign_in(app_client, code, tokens[code])
        items = app_client.get("/api/console/alerts").json()["items"]
        page = app_client.get("/").text
        assert (len(items) == 1) == (code in readers), code
        assert ("Upbit" in page and "Bybit" in page) == (code in readers), code
        if items:
            assert items[0]["kind"] == "exchange_deposit" and items[0]["amount_base_units"] == str(3 * 10**18)
            assert items[0]["status"] == "raised"
    # a reorg retracts it: Today shows the newest version, retracted
    retracted = retraction_body(body, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    assert not hub.submit(hub.principal("US"), stix_bundle(retracted)).failed
    sign_in(app_client, "KR-UPBIT", tokens["KR-UPBIT"])
    assert [a["status"] for a in app_client.get("/api/console/alerts").json()["items"]] == ["retracted"]
    assert "retracted" in app_client.get("/").text


def test_partners_since_yesterday_come_from_every_collection_and_skip_the_own_agency(app_client, console_hub) -> None:
    hub, tokens = console_hub
    in_member = indicator("203.0.113.9", Tlp.GREEN, name="jp member collection")
    in_shared = indicator("203.0.113.10", Tlp.GREEN, name="kr-upbit shared")
    secret = indicator("203.0.113.11", Tlp.RED, name="jp red to us", recipients=["US"])
    hub.submit(hub.principal("JP"), bundle(in_member), collection="member-JP")
    hub.submit(hub.principal("KR-UPBIT"), bundle(in_shared))
    hub.submit(hub.principal("JP"), bundle(secret))
    sign_in(app_client, "KR", tokens["KR"])
    page = app_client.get("/").text
    assert "jp member collection" in page  # not only the shared collection
    assert "kr-upbit shared" not in page  # KR's own client is not a partner
    assert "jp red to us" not in page
    sign_in(app_client, "US", tokens["US"])
    page = app_client.get("/").text
    assert "jp member collection" in page and "kr-upbit shared" in page and "jp red to us" in page


def test_live_batches_carry_new_alerts_and_intel_of_every_collection(console_hub) -> None:
    hub, _ = console_hub
    start = datetime.now(UTC) - timedelta(seconds=1)
    since = {c.id: start for c in hub.collections(hub.principal("KR-UPBIT"))}
    hub.submit(hub.principal("US"), stix_bundle(watch_alert("Live case")))
    hub.submit(hub.principal("JP"), bundle(indicator("203.0.113.20", Tlp.GREEN, name="jp live")), collection="member-JP")
    hub.submit(hub.principal("JP"), bundle(indicator("203.0.113.21", Tlp.AMBER, name="jp amber")))
    events = live_batch(hub, hub.principal("KR-UPBIT"), since)
    kinds = {(k, d.get("case") or d["name"]) for k, d, _ in events}
    assert ("alert", "Live case") in kinds and ("intel", "jp live") in kinds
    assert not any(d["name"] == "jp amber" for _, d, _ in events)  # AMBER of another member's agency
    assert all(k != "intel" or d["type"] != "x-trilateral-watch-alert" for k, d, _ in events)
    assert live_batch(hub, hub.principal("KR-UPBIT"), since) == []  # nothing is sent twice


def test_today_shows_the_newest_partner_objects_of_a_busy_day(app_client, console_hub) -> None:
    hub, tokens = console_hub
    burst = [indicator(f"198.51.100.{n % 250}", Tlp.GREEN, name=f"burst {n}") for n in range(230)]
    hub.submit(hub.principal("JP"), bundle(*burst))
    hub.submit(hub.principal("JP"), bundle(indicator("198.51.100.251", Tlp.GREEN, name="newest of all")))
    added = hub.manifest(hub.principal("KR"), added_after=datetime.now(UTC) - timedelta(days=1)).records
    newest = {r.id for r in sorted(added, key=lambda r: r.date_added, reverse=True)[:50]}
    sign_in(app_client, "KR", tokens["KR"])
    page = app_client.get("/").text
    shown = set(re.findall(r"/intel/object/(indicator--[0-9a-f-]+)", page))
    assert shown == newest and "newest of all" in page  # the day's newest 50, not its oldest
    assert "More in Intel" in page
