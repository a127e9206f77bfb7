"""Freeze letters an exchange or issuer can act on: a minimum value, the authority and incident blocks,
distinct evidence paths with swap steps naming both assets, stablecoin issuers, frozen holdings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.trace.etl import T0, Etl, address
from typer.testing import CliRunner

from trilateral.chain import ChainStore
from trilateral.cli import app
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.authorities import Authority, load_authorities, save_authority
from trilateral.trace.freeze import freeze_plan, write_freeze_requests
from trilateral.trace.roles import StaticLabels

E = 10**18
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
STETH = "0xae7ab96520de3a18e5e111b5eaab095312d7fe84"
VICTIM, THIEF, DEX, DEP, HOT, DUSTDEP, DUSTHOT, STASH, FROZEN = (
    address(n) for n in ["victim", "thief", "dex", "dep", "hot", "dustdep", "dusthot", "stash", "frozen"])
LABELS = StaticLabels({("ethereum", DEX): [("defi_dex", "Uniswap", None)],
                       ("ethereum", HOT): [("exchange", "Hangang Exchange", "KR")],
                       ("ethereum", DUSTHOT): [("exchange", "Tiny Exchange", "JP")],
                       ("ethereum", VICTIM): [("exchange", "Victim Exchange", "SG")],
                       ("ethereum", FROZEN): [("black_list", "USDT_blacklisted", None)]})
US = Authority("US", "Federal Bureau of Investigation", "cyber@fbi.example, +1 202 555 0100", "FBI-CY",
               "18 U.S.C. 981 (civil forfeiture)", 14, ("Tether",))


@pytest.fixture
def traced(home: Path):
    e = Etl()
    e.token(STETH, "stETH")
    e.token(USDT, "USDT", decimals=6)
    first = e.send(1, VICTIM, THIEF, 100 * E)
    e.token_send(first, STETH, VICTIM, THIEF, 50 * E)
    second = e.send(2, VICTIM, THIEF, 10 * E)  # a second theft transaction: a path differing only there
    e.token_send(second, USDT, VICTIM, THIEF, 2_000_000 * 10**6)
    swap = e.send(3, THIEF, DEX, 0)
    e.token_send(swap, STETH, THIEF, DEX, 50 * E)
    e.internal(swap, DEX, THIEF, 49 * E)
    e.send(4, THIEF, DEP, 150 * E)
    e.send(5, DEP, HOT, 150 * E)  # DEP: Hangang's deposit address
    e.send(6, THIEF, DUSTDEP, E // 100)  # 0.01 ETH: followed, but under 0.1 % of the stolen ETH
    e.send(7, DUSTDEP, DUSTHOT, E // 100)
    t = e.send(8, THIEF, STASH, 0)
    e.token_send(t, USDT, THIEF, STASH, 1_500_000 * 10**6)  # USDT left at a wallet: Tether can freeze it
    t = e.send(9, THIEF, FROZEN, 0)
    e.token_send(t, USDT, THIEF, FROZEN, 500_000 * 10**6)  # already blacklisted by Tether
    result = Tracer(ChainStore(e.ingest(home)), LABELS).trace("ethereum", [first, second], TraceOptions(after=T0))
    return result, build_findings(result, incident="Victim Exchange theft 2026")


def plan(traced, **kw):
    result, findings = traced
    return freeze_plan(result, findings, ["US", "KR", "JP"], datetime(2026, 3, 1, tzinfo=UTC),
                       authorities={"US": US, "KR": Authority("KR", "Korean National Police Agency", "kr@police.example",
                                                              "KNPA", "Act on Reporting of Specific Financial "
                                                              "Transaction Information, art. 4", 7)},
                       victim_name="Victim Exchange", **kw)


def test_dust_gets_no_letter(traced, tmp_path):
    requests, below = plan(traced)
    assert "Tiny Exchange" not in {r["exchange"] for r in requests}
    assert [r["exchange"] for r in below] == ["Tiny Exchange"]
    files = write_freeze_requests(requests, tmp_path, below_minimum=below)
    assert not (tmp_path / "tiny-exchange.html").exists()
    doc = json.loads((tmp_path / "freeze_requests.json").read_text())
    assert doc["below_minimum"][0]["exchange"] == "Tiny Exchange" and len(files) == 1 + len(requests)


def test_usd_minimum_applies_when_prices_are_known(traced):
    def price(chain, asset, day, units, decimals):  # ETH at USD 0.01: Hangang got 150 ETH, USD 1.50
        return Decimal(units) / 10**decimals * Decimal("0.01") if asset == "ETH" else None

    requests, below = plan(traced, price=price)
    assert "Hangang Exchange" in {r["exchange"] for r in below}
    requests, below = plan(traced, price=price, min_usd=Decimal(1))
    assert next(r for r in requests if r["exchange"] == "Hangang Exchange")["usd"] == "1.50"


def test_letter_names_authority_incident_and_tells_the_swap(traced, tmp_path):
    requests, _ = plan(traced)
    hangang = next(r for r in requests if r["exchange"] == "Hangang Exchange")
    assert hangang["routed_to"] == "KR" and hangang["reference"].startswith("KNPA-20260301-")
    assert hangang["respond_by"] == "2026-03-08"
    incident = hangang["incident"]
    assert incident["name"] == "Victim Exchange theft 2026" and incident["victim"] == "Victim Exchange"
    assert len(incident["theft_transactions"]) == 2
    assert {(v["asset"], v["amount"]) for v in incident["value"]} >= {("ETH", "110"), ("stETH", "50")}
    write_freeze_requests(requests, tmp_path, pdf=True)
    html = (tmp_path / "hangang-exchange.html").read_text()
    for text in ("Korean National Police Agency", "KNPA-20260301-", "Act on Reporting", "2026-03-08",
                 "Victim Exchange theft 2026", "exchanged 50 stETH of stolen funds for 49 ETH"):
        assert text in html, text
    assert "do not show it receiving" not in html  # every step here is in the data: nothing presumed
    for jargon in ("seeded", "policy:", "taint", "hop"):
        assert jargon not in html.lower(), jargon
    assert (tmp_path / "hangang-exchange.pdf").read_bytes().startswith(b"%PDF")


def test_evidence_paths_are_distinct(traced):
    requests, _ = plan(traced)
    deposit = next(r for r in requests if r["exchange"] == "Hangang Exchange")["deposit_addresses"][0]
    routes = [tuple((s["from"], s["to"], s["asset"]) for s in p["steps"][1:]) for p in deposit["evidence"]]
    assert len(routes) == len(set(routes)) >= 2  # the direct ETH route and the route through the swap


def test_stolen_usdt_at_a_wallet_goes_to_tether_via_the_configured_member(traced):
    requests, _ = plan(traced)
    tether = next(r for r in requests if r["kind"] == "issuer")
    assert (tether["exchange"], tether["routed_to"]) == ("Tether", "US")
    assert tether["reference"].startswith("FBI-CY-") and tether["authority"]["deadline_days"] == 14
    assert [(d["address"], d["amount"]) for d in tether["deposit_addresses"]] == [(STASH, "1500000")]


def test_blacklisted_holdings_are_marked_frozen(traced):
    _, findings = traced
    frozen = {h["address"]: h["frozen"] for h in findings["holdings"] if h["asset"] == "USDT"}
    assert frozen == {STASH: False, FROZEN: True}
    assert findings["frozen"][0]["address"] == FROZEN


def test_member_profile_command_writes_the_profile(home: Path):
    res = CliRunner().invoke(app, ["member", "profile", "JP", "--agency", "National Police Agency",
                                   "--contact", "jp@npa.example", "--reference-prefix", "NPA",
                                   "--legal-basis", "Act on Punishment of Organized Crimes, art. 23",
                                   "--deadline-days", "10", "--issuer", "circle"])
    assert res.exit_code == 0, res.output
    profile = load_authorities(home)["JP"]
    assert (profile.agency, profile.deadline_days, profile.issuers) == ("National Police Agency", 10, ("Circle",))
    save_authority(home, US)
    assert set(load_authorities(home)) == {"JP", "US"}
    bad = CliRunner().invoke(app, ["member", "profile", "JP", "--agency", "x", "--contact", "x",
                                   "--reference-prefix", "x", "--legal-basis", "x", "--deadline-days", "0"])
    assert bad.exit_code != 0
