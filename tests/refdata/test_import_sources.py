"""`refdata import` of every reference source: the kind is detected, bad input names file and line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.conftest import shared_data
from trilateral.cli import app
from trilateral.core.settings import Settings
from trilateral.refdata.actor_store import load_actors
from trilateral.refdata.catalog import load_catalog


def _import(path, *extra) -> tuple[int, str, str]:
    out = CliRunner().invoke(app, ["refdata", "import", str(path), *extra])
    return out.exit_code, out.stdout, out.output + str(out.exception or "")


def test_groups_techniques_csv_is_imported_as_the_full_catalogue(home):
    code, stdout, _ = _import(shared_data("mitre_attack_dprk", "all_groups_uses.csv"), "--json")
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["kind"] == "attack-csv" and summary["groups"] == 172
    assert set(summary["dprk_groups"]) >= {"G0032", "G0082", "G1052"}
    assert summary["actors"]["total"] == 172
    assert load_catalog(Settings.from_env()).group("APT28").techniques


def test_dprk_uses_csv_keeps_groups_and_skips_campaign_rows(home):
    code, stdout, _ = _import(shared_data("mitre_attack_dprk", "dprk_uses.csv"), "--json")
    assert code == 0, stdout
    catalog = load_catalog(Settings.from_env())
    assert {g.attack_id for g in catalog.groups} == {"G0032", "G0067", "G0082", "G0094", "G0138", "G1036",
                                                      "G1049", "G1052"}
    assert all(g.dprk for g in catalog.groups)


def test_galaxy_and_register_in_any_order_give_the_same_actors(home, tmp_path, monkeypatch):
    sources = [shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"),
               shared_data("misp_galaxy_dprk", "threat-actor_dprk_subset.json"),
               shared_data("dprk_incidents", "incidents.csv")]
    for source in sources:
        assert _import(source)[0] == 0
    first = load_actors(Settings.from_env())
    monkeypatch.setenv("TRILATERAL_HOME", str(tmp_path / "other"))
    for source in reversed(sources):
        assert _import(source)[0] == 0
    again = load_actors(Settings.from_env())
    assert [a.id for a in first] == [a.id for a in again]
    tt = again.resolve("UNC4899")
    assert tt.name == "TraderTraitor" and again.umbrella(tt).name == "Lazarus Group"


def test_unknown_csv_and_bad_register_row_fail_with_one_clear_line(home, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    code, _, message = _import(odd)
    assert code != 0 and "unknown CSV" in message
    bad = tmp_path / "incidents.csv"
    bad.write_text("date,incident,amount_stolen_usd,cluster\n2025-02-21,Bybit,1460000000,TraderTraitor\n"
                   "2025-13,Other,12.5,APT38\n")
    code, _, message = _import(bad)
    assert code != 0 and f"{bad}:3" in message
    assert not (Settings.from_env().refdata_dir / "incident_register.json").exists()
    galaxy = tmp_path / "galaxy.json"
    galaxy.write_text(json.dumps({"values": [{"uuid": "x", "meta": {}}]}))
    code, _, message = _import(galaxy)
    assert code != 0 and "values[0]" in message
