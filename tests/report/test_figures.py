"""Figures as pure functions over records: edge cases the seeded hub does not reach."""

from __future__ import annotations

from trilateral.core.tlp import Tlp
from trilateral.report.actions import action_figures
from trilateral.report.figures_freeze import freeze_figures
from trilateral.report.figures_incidents import incident_figures
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record

Q3 = Quarter(2026, 3)


def rec(obj: dict, who: str = "US", tlp: Tlp = Tlp.GREEN, added: str = "2026-07-15T00:00:00Z") -> Record:
    return Record.of({"spec_version": "2.1", "created": "2026-07-01T00:00:00.000Z", **obj}, submitted_by=who,
                     date_added=added, tlp=tlp)


def test_best_attribution_wins_and_unreadable_actor_takes_the_description_name() -> None:
    records = [
        rec({"type": "incident", "id": "incident--1", "name": "Traced only"}),
        rec({"type": "x-trilateral-trace", "id": "x-trilateral-trace--1", "incident_ref": "incident--1",
             "theft_time": "2026-08-03T10:00:00Z", "stolen": [{"chain": "bitcoin", "asset": "BTC",
                                                              "amount_base_units": "150000000"}]}),
        rec({"type": "relationship", "id": "relationship--1", "relationship_type": "attributed-to",
             "source_ref": "incident--1", "target_ref": "intrusion-set--a", "confidence": 40,
             "description": "Trilateral attribution: Kimsuky (G0094)"}),
        rec({"type": "relationship", "id": "relationship--2", "relationship_type": "attributed-to",
             "source_ref": "incident--1", "target_ref": "intrusion-set--b", "confidence": 70,
             "description": "Trilateral attribution: APT38 (G0082)"}),
    ]
    figures = incident_figures(records, Q3)
    (row,) = figures.rows
    assert (row.actor, row.confidence) == ("APT38 (G0082)", 70)
    assert row.when.isoformat().startswith("2026-08-03")          # the trace's theft time, not `created`
    assert row.stolen_text == "1.5 BTC" and row.usd is None and row.usd_basis == "none"
    assert "relationship--2" in figures.sources.records and "x-trilateral-trace--1" in figures.sources.records


def test_first_request_is_counted_in_the_quarter_it_was_made() -> None:
    theft = rec({"type": "incident", "id": "incident--9", "name": "Late", "x_trilateral_date": "2026-06-30"})
    early = rec({"type": "x-trilateral-freeze-request", "id": "x-trilateral-freeze-request--1", "exchange": "A",
                 "jurisdiction": "JP", "requested_at": "2026-06-30T12:00:00Z", "status": "frozen",
                 "incident_ref": "incident--9"})
    late = rec({"type": "x-trilateral-freeze-request", "id": "x-trilateral-freeze-request--2", "exchange": "B",
                "jurisdiction": "KR", "requested_at": "2026-07-02T00:00:00Z", "status": "refused",
                "incident_ref": "incident--9"})
    q3 = freeze_figures([theft, early, late], Q3)
    assert q3.total_requests == 1 and q3.first_request_delays == []   # its first request was in Q2
    q2 = freeze_figures([theft, early, late], Q3.previous())
    assert q2.median_hours_to_first_request == 12.0
    assert [j.jurisdiction for j in q2.jurisdictions] == ["JP"] and q2.jurisdictions[0].routed_to == {"no member"}


def test_actions_overdue_only_when_open_past_due_and_later_meetings_left_out() -> None:
    def action(i: int, status: str, due: str, decided: str) -> Record:
        return rec({"type": "x-trilateral-action", "id": f"x-trilateral-action--{i}", "title": f"a{i}", "owner": "US",
                    "status": status, "due": due, "decided_at": decided, "quarter": "2026Q3", "notes": ""})

    figures = action_figures([action(1, "open", "2026-08-01", "2026-07-01"),
                              action(2, "done", "2026-08-01", "2026-04-01"),
                              action(3, "in_progress", "2026-12-01", "2026-07-05"),
                              action(4, "open", "2026-08-01", "2026-10-02")], Q3)
    assert [r["title"] for r in figures.rows] == ["a1", "a3", "a2"]
    assert figures.overdue == 1 and figures.decided_this_quarter == 2


def test_only_dprk_attributed_incidents_count_and_the_rest_are_named() -> None:
    fin7 = rec({"type": "intrusion-set", "id": "intrusion-set--f", "name": "FIN7",
                "external_references": [{"source_name": "mitre-attack", "external_id": "G0046"}]})
    records = [
        fin7,
        rec({"type": "incident", "id": "incident--a", "name": "Card skimming", "x_trilateral_date": "2026-07-04"}),
        rec({"type": "relationship", "id": "relationship--a", "relationship_type": "attributed-to",
             "source_ref": "incident--a", "target_ref": fin7.id, "confidence": 90}),
        rec({"type": "incident", "id": "incident--b", "name": "Not attributed", "x_trilateral_date": "2026-07-05"}),
        rec({"type": "incident", "id": "incident--c", "name": "Register row", "x_trilateral_date": "2026-07-06",
             "x_trilateral_cluster": "TraderTraitor", "x_trilateral_usd_stolen": "1000"}),
    ]
    figures = incident_figures(records, Q3)
    assert [r.name for r in figures.rows] == ["Register row"]
    assert figures.this_quarter.count == 1 and figures.this_quarter.usd_source == 1000
    assert sorted(r.name for r in figures.other_rows) == ["Card skimming", "Not attributed"]


def test_issuer_blacklistings_in_traces_count_once_in_their_quarter() -> None:
    frozen = {"chain": "ethereum", "address": "0xabc", "asset": "USDT", "amount_base_units": "2500000",
              "issuer": "Tether", "tx_hash": "0x1", "block_time": "2026-08-01T00:00:00Z", "source": "AddedBlackList event"}
    earlier = dict(frozen, address="0xdef", block_time="2026-06-01T00:00:00Z")
    traces = [rec({"type": "x-trilateral-trace", "id": f"x-trilateral-trace--{i}", "frozen": [frozen, earlier]})
              for i in (1, 2)]  # two traces of one theft see the same blacklisting
    (row,) = freeze_figures(traces, Q3).issuer_frozen
    assert (row["issuer"], row["asset"], row["addresses"]) == ("Tether", "USDT", 1)
    assert row["frozen"].startswith("2.5") and freeze_figures(traces, Q3).total_requests == 0
    assert [r["addresses"] for r in freeze_figures(traces, Q3.previous()).issuer_frozen] == [1]


def test_older_frozen_rows_take_their_amounts_from_the_frozen_holdings() -> None:
    trace = rec({"type": "x-trilateral-trace", "id": "x-trilateral-trace--3", "created": "2026-08-02T00:00:00.000Z",
                 "holdings": [{"chain": "ethereum", "address": "0xc", "asset": "USDT", "amount_base_units": "7000000",
                               "frozen": True}],
                 "frozen": [{"chain": "ethereum", "address": "0xc", "source": "blacklist event"}]})
    (row,) = freeze_figures([trace], Q3).issuer_frozen
    assert (row["issuer"], row["asset"], row["addresses"]) == ("Tether", "USDT", 1) and row["frozen"].startswith("7")
