"""Unexplained outflows (`--gaps taint|clean|report`), warnings and value conservation, on hand-built
account graphs with known answers (the pure pass, no store)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.trace.test_steps import ETH, HOT, HOT_ROLE, NAMES, THIEF, USDT, USER, A, B, offramp, rows

from trilateral.trace.account import AccountChain, run_account_pass
from trilateral.trace.findings import build_findings
from trilateral.trace.model import TraceResult

VICTIM = 9


def run(spec, policy="haircut", gaps="taint", seeds=None):
    c = AccountChain("ethereum", rows(spec), NAMES, {ETH: "ETH", USDT: "USDT"}, {HOT: HOT_ROLE},
                     {THIEF: 0} if seeds is None else seeds, gaps=gaps)
    result = TraceResult(policy)
    result.gaps = gaps
    result.seeds = [{"chain": "ethereum", "address": NAMES[THIEF]}]
    run_account_pass(c, result)
    return result


# the thief gets 10; A passes on 30 although the data shows it receiving only those 10
GAP = [(1, 1, VICTIM, THIEF, ETH, 10), (2, 2, THIEF, A, ETH, 10), (3, 3, A, B, ETH, 30), (4, 4, B, HOT, ETH, 30)]


@pytest.mark.parametrize("policy", ["haircut", "fifo", "poison"])
def test_gaps_taint_presumes_the_unexplained_value_stolen_at_the_address_share(policy):
    result = run(GAP, policy)
    assert offramp(result, HOT) == 30
    assert result.presumed[("ethereum", "ETH")] == 20
    f = build_findings(result)
    assert [(u["address"], u["amount_base_units"], u["to"]) for u in f["unexplained"]] == [(NAMES[A], "20", NAMES[B])]
    warning = next(w for w in f["warnings"] if w["kind"] == "outflow_exceeds_inflow")
    assert warning["address"] == NAMES[A] and "presumed stolen" in warning["detail"]


@pytest.mark.parametrize("gaps", ["clean", "report"])
def test_gaps_clean_and_report_follow_only_the_known_value_but_warn(gaps):
    result = run(GAP, "haircut", gaps)
    assert offramp(result, HOT) == 10 and not result.presumed
    f = build_findings(result)
    assert any(w["kind"] == "outflow_exceeds_inflow" and w["address"] == NAMES[A] for w in f["warnings"])
    assert bool(f["unexplained"]) == (gaps == "report")  # report lists where the unexplained value went


def test_gap_share_follows_the_known_mix_of_the_address():
    spec = [(1, 1, VICTIM, THIEF, ETH, 10), (2, 2, THIEF, A, ETH, 10), (3, 3, USER, A, ETH, 30),
            (4, 4, A, HOT, ETH, 80)]  # 40 unexplained; A's known inflow is a quarter stolen
    result = run(spec)
    assert result.presumed[("ethereum", "ETH")] == 10
    assert offramp(result, HOT) == 20


def test_tokens_the_address_never_received_are_not_value():
    """Impersonation tokens emit transfers 'from' the thief: never presumed stolen, never warned."""
    spec = [(1, 1, VICTIM, THIEF, ETH, 10), (2, 2, THIEF, A, ETH, 10), (3, 3, A, B, USDT, 10**9)]
    f = build_findings(run(spec))
    assert not f["presumed"] and not f["unexplained"]
    assert not [w for w in f["warnings"] if w["kind"] == "outflow_exceeds_inflow"]


def test_seed_without_inflow_is_warned_and_its_outflows_presumed_stolen():
    spec = [(2, 2, THIEF, A, ETH, 7), (3, 3, A, HOT, ETH, 7)]
    f = build_findings(run(spec))
    kinds = {w["kind"] for w in f["warnings"]}
    assert "seed_without_inflow" in kinds
    assert [o["amount_base_units"] for o in f["offramps"]] == ["7"]
    f = build_findings(run(spec, gaps="clean"))
    assert not f["offramps"] and not f["holdings"]
    why = next(w for w in f["warnings"] if w["kind"] == "nothing_found")
    assert "no stolen value enters the seeds" in why["detail"]


def test_holdings_say_where_the_money_sits_since_when():
    spec = [(1, 1, VICTIM, THIEF, ETH, 10), (5, 2, THIEF, A, ETH, 4)]
    f = build_findings(run(spec))
    held = {(h["address"], h["amount_base_units"], h["since"]) for h in f["holdings"]}
    assert held == {(NAMES[THIEF], "6", "1970-01-01T00:00:01Z"), (NAMES[A], "4", "1970-01-01T00:00:05Z")}


ADDRS = [THIEF, A, B, USER, HOT]
ops = st.lists(st.tuples(st.sampled_from(ADDRS[:4]), st.sampled_from(ADDRS), st.integers(1, 10**20)),
               min_size=1, max_size=30)


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 10**20), ops, st.sampled_from(["haircut", "fifo"]), st.sampled_from(["taint", "clean"]))
def test_value_is_conserved_for_haircut_and_fifo(stolen, transfers, policy, gaps):
    """Stolen (+ presumed) value == value at off-ramps + value held + value the trace lost, per asset."""
    spec = [(1, 1, VICTIM, THIEF, ETH, stolen)] + [(t + 2, t + 2, f, to, ETH, amt)
                                                   for t, (f, to, amt) in enumerate(transfers) if f != to]
    result = run(spec, policy, gaps)
    basis = result.stolen[("ethereum", "ETH")] + result.presumed.get(("ethereum", "ETH"), 0)
    at_offramps = offramp(result, HOT)
    lost = sum(result.flows["unresolved"].values())  # includes the holdings
    assert at_offramps + lost == basis
    assert sum(result.holdings.values()) <= basis
    for row in build_findings(result)["totals"]:
        assert int(row["at_offramps_base_units"]) + int(row["held_base_units"]) <= basis


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**20), ops)
def test_poison_value_figures_never_exceed_what_was_stolen(stolen, transfers):
    spec = [(1, 1, VICTIM, THIEF, ETH, stolen)] + [(t + 2, t + 2, f, to, ETH, amt)
                                                   for t, (f, to, amt) in enumerate(transfers) if f != to]
    result = run(spec, "poison", "clean")
    for row in build_findings(result)["totals"]:
        basis = int(row["stolen_base_units"]) + int(row["presumed_base_units"])
        assert int(row["at_offramps_base_units"]) <= basis and int(row["held_base_units"]) <= basis
