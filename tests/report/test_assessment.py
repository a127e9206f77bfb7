"""The assessment's pure parts on hand-built records: incident dedup, the flow split that never exceeds
100 %, freezes per issuer, decisions, and the ICD 203 words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.report import compute_figures
from trilateral.report.assessment import LIKELIHOOD, likelihood
from trilateral.report.dedup import deduplicate, name_words
from trilateral.report.quarter import Quarter
from trilateral.report.records import Record

Q = Quarter(2025, 1)
ETH = 10**18
AMBER, CLEAR = [TLP2_MARKING_IDS[Tlp.AMBER]], [TLP2_MARKING_IDS[Tlp.CLEAR]]


def obj(stix_type: str, n: int, **props) -> dict:
    return {"type": stix_type, "spec_version": "2.1", "id": f"{stix_type}--00000000-0000-4000-8000-{n:012d}",
            "created": "2025-03-30T00:00:00.000Z", "modified": "2025-03-30T00:00:00.000Z", **props}


def register(n: int, name: str, day: str, usd: str = "1000", cluster: str = "TraderTraitor (Jade Sleet)") -> dict:
    return obj("incident", n, name=name, x_trilateral_date=day, x_trilateral_usd_stolen=usd,
               x_trilateral_cluster=cluster, object_marking_refs=CLEAR)


def trace(n: int, incident_ref: str, theft: str, stolen: int, **props) -> dict:
    return obj("x-trilateral-trace", n, incident_ref=incident_ref, theft_time=theft, policy="haircut",
               stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(stolen)}],
               object_marking_refs=AMBER, **props)


def records(*objects: dict) -> list[Record]:
    return [Record.of(o, submitted_by="US") for o in objects]


def test_register_row_member_incident_and_trace_incident_are_one_theft():
    row = register(1, "Bybit", "2025-02-21", usd="1500000000")
    member = obj("incident", 2, name="Bybit cold wallet hack", first_seen="2025-02-21T14:00:00.000Z",
                 object_marking_refs=AMBER)
    traced = obj("incident", 3, name="Theft traced by Trilateral", object_marking_refs=AMBER,
                 x_trilateral_stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(5 * ETH)}])
    victim = obj("identity", 4, name="Bybit: Cold Wallet 1", identity_class="organization")
    targets = obj("relationship", 5, relationship_type="targets", source_ref=traced["id"], target_ref=victim["id"])
    t = trace(6, traced["id"], "2025-02-21T13:00:00Z", 5 * ETH)
    other_same_day = register(7, "Unknown Feb 2025", "2025-02-21")
    dedup = deduplicate(records(row, member, traced, victim, targets, t, other_same_day))
    incidents = {r.id: r for r in dedup.records if r.type == "incident"}
    assert set(incidents) == {row["id"], other_same_day["id"]}          # two register rows stay two
    assert dedup.alias_of == {member["id"]: row["id"], traced["id"]: row["id"]}
    kept = incidents[row["id"]]
    assert kept.tlp is Tlp.AMBER                                        # it now shows AMBER content
    assert kept.object["x_trilateral_stolen"][0]["amount_base_units"] == str(5 * ETH)
    assert next(r for r in dedup.records if r.type == "x-trilateral-trace").object["incident_ref"] == row["id"]
    fig = compute_figures(dedup.records, Q)
    (bybit,) = [r for r in fig["incidents"].rows if "Bybit" in r.name]
    assert sorted(bybit.linked) == ["Bybit cold wallet hack", "Theft traced by Trilateral"]
    assert fig["incidents"].this_quarter.count == 2 and not fig["incidents"].other_rows


def test_different_thefts_are_not_merged():
    a = register(1, "Phemex", "2025-01-23")
    b = obj("incident", 2, name="Bybit hack", first_seen="2025-01-23T10:00:00.000Z")   # same day, other name
    c = obj("incident", 3, name="Phemex hot wallet drain", first_seen="2025-03-01T00:00:00.000Z")  # other date
    dedup = deduplicate(records(a, b, c))
    assert not dedup.alias_of
    assert name_words("Theft traced by Trilateral 2025-02-21") == frozenset()


def test_flow_split_never_exceeds_the_stolen_value_and_kinds_overlap():
    inc = register(1, "Bridge hack", "2025-02-01")
    t = trace(2, inc["id"], "2025-02-01T00:00:00Z", 100 * ETH,
              flows={"dex_swap": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(80 * ETH)}],
                     "bridge": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(70 * ETH)}]},
              offramps=[{"chain": "ethereum", "address": "0xa", "category": "exchange", "asset": "ETH",
                         "amount_base_units": str(60 * ETH)}],
              holdings=[{"chain": "ethereum", "address": "0xb", "asset": "ETH", "amount_base_units": str(50 * ETH)}])
    fig = compute_figures(records(inc, t), Q)
    sankey = fig["flows"].sankey()
    assert sankey["scaled"]                                      # 60 + 50 > 100 under haircut: split, not overlap
    assert sum(sankey["destinations"].values()) == pytest.approx(100.0)
    assert sankey["kinds"] == {"dex_swap": 80.0, "bridge": 70.0}  # overlapping kinds are bars, each <= 100 %
    (route,) = fig["assessment"].routes
    assert [s["share"] for s in route["assets"][0]["steps"]] == ["80.0 %", "70.0 %"]


def test_freezes_per_issuer_and_decisions():
    inc = register(1, "Token theft", "2025-01-10")
    usdt = {"chain": "ethereum", "asset": "USDT"}
    t = trace(2, inc["id"], "2025-01-10T00:00:00Z", 100 * ETH,
              holdings=[{**usdt, "address": "0xc", "amount_base_units": "7000000", "frozen": True}],
              frozen=[{**usdt, "address": "0xc", "amount_base_units": "7000000", "issuer": "Tether",
                       "tx_hash": "0x01", "block_time": "2025-01-12T00:00:00Z", "source": "blacklist event"}])
    req = obj("x-trilateral-freeze-request", 3, kind="issuer", exchange="Tether", jurisdiction="US", routed_to="US",
              requested_at="2025-01-11T00:00:00Z", status="requested", incident_ref=inc["id"],
              deposit_addresses=[{**usdt, "address": "0xd", "amount_base_units": "5000000",
                                  "first_seen": "2025-01-10T00:00:00Z"}], object_marking_refs=AMBER)
    action = obj("x-trilateral-action", 4, title="Brief exchanges", owner="JP", due="2025-02-01",
                 decided_at="2025-01-05", status="open", quarter="2025Q1", notes="")
    fig = compute_figures(records(inc, t, req, action), Q)
    ass = fig["assessment"]
    (tether,) = ass.freeze_issuers
    assert (tether["issuer"], tether["requested"], tether["frozen"]) == ("Tether", "5 USDT", "7 USDT")
    assert any("Brief exchanges" in d and "JP" in d for d in ass.decisions)
    assert any("unanswered" in d and "Tether" in d and "US to escalate" in d for d in ass.decisions)
    assert 3 <= len(ass.judgements) <= 5
    assert all(j.confidence in ("high", "moderate", "low") for j in ass.judgements)


@pytest.mark.parametrize(("p", "word"), [(0.01, "almost no chance"), (0.1, "very unlikely"), (0.3, "unlikely"),
                                         (0.5, "roughly even chance"), (0.6, "likely"), (0.9, "very likely"),
                                         (0.97, "almost certain"), (1.0, "almost certain")])
def test_icd203_words(p, word):
    assert likelihood(p) == word
    low, high = next((lo, hi) for w, lo, hi in LIKELIHOOD if w == word)
    assert low <= p < high


def test_base_rate_uses_the_rule_of_succession():
    rows = [register(i, f"Theft {i}", f"{2023 + (i // 4)}-{3 * (i % 4) + 1:02d}-15",
                     usd="200000000" if i % 2 else "1000") for i in range(8)]
    fig = compute_figures(records(*rows), Quarter(2024, 4))
    rate = fig["assessment"].base_rate
    k, n = rate["with_large"], rate["quarters"]
    assert n == 8 and k == 4 and Decimal(str(rate["p"])) == Decimal(5) / Decimal(10)
    assert rate["word"] == "roughly even chance"
