"""Evidence beyond techniques: register-learnt sector, size, year, route and base rate; infrastructure overlap."""

from __future__ import annotations

import math

import pytest

from tests.conftest import shared_data
from trilateral.attribution.actors import AttackGroupRecord, build_actors
from trilateral.attribution.engine import Attributor
from trilateral.attribution.features import incident_features, routes_from_findings
from trilateral.attribution.history import HistoryModel, IncidentFeatures, routes_from_roles, victim_sector
from trilateral.attribution.incident import Observation
from trilateral.attribution.intel import hub_evidence, infrastructure
from trilateral.attribution.profiles import RegisterData
from trilateral.core.errors import InputError
from trilateral.refdata.catalog import AttackCatalog, GroupProfile, TechniqueInfo
from trilateral.refdata.register import RegisterIncident, read_incident_addresses

GROUPS = [GroupProfile("G0032", "", "Lazarus Group", ("Lazarus Group",), True, ("T1566", "T1105", "T1059"), ()),
          GroupProfile("G0082", "", "APT38", ("APT38", "Bluenoroff"), True, ("T1105", "T1070"), ()),
          GroupProfile("G0094", "", "Kimsuky", ("Kimsuky",), True, ("T1566", "T1003"), ()),
          GroupProfile("G0007", "", "APT28", ("APT28",), False, ("T1566", "T1003", "T1070"), ())]
CATALOG = AttackCatalog(GROUPS, {t: TechniqueInfo(t, t) for t in ("T1566", "T1105", "T1059", "T1070", "T1003")})
ACTORS = build_actors([AttackGroupRecord(g.attack_id, g.name, g.aliases, g.dprk) for g in GROUPS],
                      [{"value": "TraderTraitor", "uuid": "u-tt", "meta": {"country": "KP", "synonyms": ["Jade Sleet"]}},
                       {"value": "Lazarus Group", "uuid": "u-laz", "meta": {"country": "KP", "synonyms": ["Bluenoroff"]}}],
                      [("TraderTraitor (Jade Sleet / Slow Pisces / UNC4899)", "G0032"), ("APT38", "G0082")])


def _row(name: str, cluster: str, usd: int, year: int = 2023) -> RegisterIncident:
    return RegisterIncident(f"{year}-01-01", name, usd, cluster)


REGISTER = RegisterData(
    [_row("Alpha Exchange", "TraderTraitor", 200_000_000), _row("Beta Exchange", "TraderTraitor", 50_000_000),
     _row("Gamma Bridge", "TraderTraitor", 120_000_000),
     *[_row(f"Individual {i}", "APT38", 300_000) for i in range(6)]],
    [{"incident": "Gamma Bridge", "chain": c, "address": f"a{c}", "role_as_published": r, "role_class": k}
     for c, r, k in (("ethereum", "Tornado Cash Depo 1", "mixer_depositor"), ("bitcoin", "BTC out", "attacker"))])


def test_register_history_makes_tradertraitor_the_exchange_thief_and_explains_each_weight():
    attributor = Attributor(CATALOG, actors=ACTORS, register=REGISTER)
    assert attributor.scoring.inherited == {"misp--u-tt": "G0032"}
    features = IncidentFeatures(sector="exchange", loss=">=$100M", period="2023", routes=frozenset({"mixer"}),
                                routes_known=True)
    result = attributor.attribute(Observation(techniques={"T1566", "T1105"}), features=features, top=10)
    best = result.candidates[0]
    assert best["name"] == "TraderTraitor" and best["umbrella"]["name"] == "Lazarus Group"
    kinds = {e["kind"]: e for e in best["evidence"]}
    assert {"technique", "sector", "loss", "period", "laundering", "base rate"} <= set(kinds)
    assert kinds["sector"]["weight"] > 0 and "2 of 3" in kinds["sector"]["match"]
    assert math.isclose(sum(e["weight"] for e in best["evidence"]), best["score"], abs_tol=0.01)
    apt28 = next(c for c in result.candidates if c["name"] == "APT28")
    assert all(e["weight"] == 0 for e in apt28["evidence"] if e["kind"] in ("sector", "loss", "laundering"))
    assert not any(e["kind"] == "base rate" for e in apt28["evidence"])  # outside the DPRK register's scope
    kimsuky = next(c for c in result.candidates if c["name"] == "Kimsuky")
    base = next(e for e in kimsuky["evidence"] if e["kind"] == "base rate")
    assert base["weight"] < 0 and "none of the 9" in base["match"]


def test_leaving_an_incident_out_removes_what_it_taught():
    full = HistoryModel.fit(((a, f) for _r, a, f in REGISTER.labelled(ACTORS)), ACTORS)
    without = HistoryModel.fit(((a, f) for _r, a, f in REGISTER.labelled(ACTORS, exclude=("Gamma Bridge",))), ACTORS)
    assert full.p("misp--u-tt", "route", "mixer") > without.p("misp--u-tt", "route", "mixer")
    assert without.totals["misp--u-tt"]["route"] == 0  # nothing known: weight 0, not evidence against
    assert without.weights("misp--u-tt", IncidentFeatures(routes=frozenset({"mixer"})))[1]["weight"] == 0


def test_umbrella_pools_its_units_history_but_has_no_base_rate():
    history = HistoryModel.fit(((a, f) for _r, a, f in REGISTER.labelled(ACTORS)), ACTORS)
    assert history.totals["G0032"]["sector"] == history.totals["misp--u-tt"]["sector"] + history.totals["G0082"]["sector"]
    assert history.base_rate("G0032") is None and history.base_rate("G0082")["weight"] > 0


def test_without_a_register_incident_features_weigh_nothing():
    attributor = Attributor(CATALOG, actors=ACTORS)
    features = IncidentFeatures(sector="exchange", period="2025", routes=frozenset({"thorchain"}))
    result = attributor.attribute(Observation(techniques={"T1566"}), features=features)
    for c in result.candidates:
        assert {e["kind"] for e in c["evidence"]} <= {"technique", "software"}
    assert any("no incident register imported" in n for n in result.notes)


def test_dprk_probability_is_null_with_a_reason_on_a_dprk_only_catalogue():
    dprk_only = AttackCatalog([g for g in GROUPS if g.dprk], CATALOG.techniques)
    result = Attributor(dprk_only).attribute(Observation(techniques={"T1566"}))
    assert result.dprk_probability is None and "DPRK actors only" in result.dprk_probability_reason
    assert Attributor(CATALOG).attribute(Observation(techniques={"T1566"})).dprk_probability is not None


def test_victim_sector_from_wording_and_entity_names():
    entities = {"bybit": "exchange"}
    assert victim_sector("Bybit", entities) == "exchange"
    assert victim_sector("Ronin Bridge") == "bridge"
    assert victim_sector("Malicious Store-V Repo") == "developer"
    assert victim_sector("Theft from Individual C7") == "individual"
    assert victim_sector("June 12 2025 Theft") is None


def test_routes_from_the_registers_real_address_roles():
    routes = routes_from_roles(read_incident_addresses(shared_data("dprk_incidents", "incident_addresses.csv")))
    assert {"mixer", "cex"} <= routes["Ronin Bridge"]
    assert {"mixer", "bridge"} <= routes["Harmony Horizon Bridge"]  # Tornado withdrawers; BTC CEX withdrawals
    assert "mixer" in routes["Wazirx"]


def test_routes_from_trace_findings_and_incident_fields():
    findings = {"seeds": [{"chain": "ethereum", "address": "0xabc"}], "flows": {"mixer": [{"chain": "ethereum"}]},
                "offramps": [{"chain": "ethereum", "entity": "THORChain Router", "category": "bridge"},
                             {"chain": "bitcoin", "entity": "eXch", "category": "exchange"},
                             {"chain": "ethereum", "entity": "Binance", "category": "exchange"}]}
    assert routes_from_findings(findings) == {"mixer", "thorchain", "instant_exchange", "cex", "bridge"}
    with pytest.raises(InputError, match="offramps"):
        routes_from_findings({"policy": "haircut"})
    objects = [{"type": "incident", "id": "incident--1", "x_trilateral_victim_sector": "Exchange",
                "x_trilateral_usd_stolen": "1460000000", "x_trilateral_date": "2025-02-21",
                "x_trilateral_laundering": ["peel_chain", "nonsense"]}]
    f = incident_features(objects)
    assert (f.sector, f.loss, f.period, f.routes) == ("exchange", ">=$100M", "2025", frozenset({"peel_chain"}))
    with pytest.raises(InputError, match="not a decimal string"):
        incident_features([{**objects[0], "x_trilateral_usd_stolen": 1.5e9}])
    with pytest.raises(InputError, match="not a decimal string"):
        incident_features([{**objects[0], "x_trilateral_usd_stolen": "lots"}])


def test_shared_domain_with_hub_intel_naming_an_alias_is_evidence_for_the_canonical_actor():
    attributor = Attributor(CATALOG, actors=ACTORS, register=REGISTER)
    hub = {"objects": [
        {"type": "indicator", "id": "indicator--1", "pattern": "[domain-name:value = 'Jumpcloud-Update.com']"},
        {"type": "intrusion-set", "id": "intrusion-set--x", "name": "Jade Sleet"},
        {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
         "source_ref": "indicator--1", "target_ref": "intrusion-set--x"}]}
    obs = Observation(patterns={"[domain-name:value = 'jumpcloud-update.com'] OR [ipv4-addr:value = '10.0.0.1']"})
    evidence = hub_evidence(hub, obs, attributor.catalog, attributor.actors)
    assert [(e.group_id, e.kind) for e in evidence] == [("misp--u-tt", "hub-intel")]
    assert "domain-name:jumpcloud-update.com" in evidence[0].value
    assert infrastructure("[ipv4-addr:value = '10.0.0.1']") == {("ipv4-addr", "10.0.0.1")}
