"""Incident and action registers stored in a real hub (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import shared_data
from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub
from trilateral.report.actions import add_action, close_action, list_actions, update_action
from trilateral.report.incidents import import_incidents_csv, read_incidents_csv
from trilateral.report.stix import query_all


def _incidents(hub: Hub, who: Principal) -> dict[str, dict]:
    return {r.id: r.object for r in query_all(hub, who, types=["incident"])}


def test_importing_the_real_register_twice_stores_each_incident_once(hub: Hub, people: dict[str, Principal]) -> None:
    path = shared_data("dprk_incidents", "incidents.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    first = import_incidents_csv(hub, people["US"], path)
    assert len(first.stored) == len(rows) == 285
    again = import_incidents_csv(hub, people["US"], path)
    assert again.as_dict() == {"stored": 0, "updated": 0, "unchanged": 285}
    stored = _incidents(hub, people["KR-UPBIT"])          # CLEAR: every client reads the register
    assert len(stored) == 285
    bybit = next(o for o in stored.values() if o["name"] == "Bybit")
    row = next(r for r in rows if r["incident"] == "Bybit")
    assert bybit["x_trilateral_usd_stolen"] == row["amount_stolen_usd"]
    assert bybit["x_trilateral_date"] == row["date"] and bybit["x_trilateral_cluster"] == row["cluster"]
    assert bybit["external_references"][0]["url"].endswith(row["source_page"])
    unknown = [o for o in stored.values() if "x_trilateral_usd_stolen" not in o]
    assert len(unknown) == sum(1 for r in rows if not r["amount_stolen_usd"])  # "$Unknown" stays unknown
    month_only = [o for o in stored.values() if o.get("x_trilateral_date_precision") == "month"]
    assert {o["x_trilateral_date"] for o in month_only} >= {"2018-06-01"}


def test_a_corrected_row_becomes_a_new_version_and_a_bad_file_stores_nothing(
        hub: Hub, people: dict[str, Principal], tmp_path: Path) -> None:
    src = tmp_path / "incidents.csv"
    header = "date,year,quarter,incident,amount_stolen_usd,amount_as_published,cluster_marker,cluster,suggested_attack_group,source_page\n"
    src.write_text(header + "2026-07-02,2026,2026-Q3,Alpha,1000,$1000,,c1,,a.md\n"
                   "2026-07-03,2026,2026-Q3,Beta,2000,$2000,,c2,,b.md\n", encoding="utf-8")
    import_incidents_csv(hub, people["JP"], src, Tlp.GREEN)
    src.write_text(header + "2026-07-02,2026,2026-Q3,Alpha,1500,$1500,,c1,,a.md\n"
                   "2026-07-03,2026,2026-Q3,Beta,2000,$2000,,c2,,b.md\n", encoding="utf-8")
    result = import_incidents_csv(hub, people["JP"], src, Tlp.GREEN)
    assert (len(result.updated), len(result.unchanged)) == (1, 1)
    alpha = next(o for o in _incidents(hub, people["US"]).values() if o["name"] == "Alpha")
    assert alpha["x_trilateral_usd_stolen"] == "1500" and alpha["modified"] > alpha["created"]
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "2026-07-09,2026,2026-Q3,Gamma,10,$10,,c,,g.md\nlater,2026,2026-Q3,Delta,1,$1,,c,,d.md\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv:3"):
        import_incidents_csv(hub, people["JP"], bad)
    assert not any(o["name"] == "Gamma" for o in _incidents(hub, people["US"]).values())


def test_incident_ids_are_deterministic_from_date_and_name(tmp_path: Path) -> None:
    src = tmp_path / "one.csv"
    src.write_text("date,incident,amount_stolen_usd\n2026-07-02,Alpha,10\n", encoding="utf-8")
    assert read_incidents_csv(src)[0]["id"] == read_incidents_csv(src)[0]["id"]


def test_actions_are_versioned_marked_and_read_through_the_policy(hub: Hub, people: dict[str, Principal]) -> None:
    action = add_action(hub, people["US"], title="Joint advisory", owner="US", due="2026-09-01",
                        decided_at="2026-07-02", tlp=Tlp.AMBER)
    assert action["quarter"] == "2026Q3"
    assert [a["id"] for a in list_actions(hub, people["KR"])] == [action["id"]]
    assert list_actions(hub, people["KR-UPBIT"]) == []          # US AMBER: not for KR's client
    updated = update_action(hub, people["US"], action["id"], status="in_progress", notes="drafted")
    assert updated["modified"] > action["modified"] and updated["created"] == action["created"]
    closed = close_action(hub, people["US"], action["id"])
    (latest,) = list_actions(hub, people["JP"])
    assert latest["status"] == "closed" == closed["status"] and latest["notes"] == "drafted"
    versions = list(query_all(hub, people["US"], ids=[action["id"]], versions="all"))
    assert len(versions) == 3
    assert list_actions(hub, people["US"], status="open") == []
    with pytest.raises(InputError, match="status"):
        update_action(hub, people["US"], action["id"], status="finished")
