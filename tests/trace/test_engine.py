"""The trace over a real chain store (ethereum-etl ingested), findings schema, explain, freeze
requests, STIX export and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance
from tests.trace.etl import T0, Etl, address
from typer.testing import CliRunner

from trilateral.chain import ChainStore
from trilateral.cli import app
from trilateral.trace import FINDINGS_SCHEMA, TraceOptions, Tracer, build_findings, explain
from trilateral.trace.freeze import freeze_requests, update_status, write_freeze_requests
from trilateral.trace.roles import StaticLabels
from trilateral.trace.stix_export import findings_bundle

E = 10**18
THIEF, A, B, HOT, DEP, USER, VICTIM, JPHOT = (address(n) for n in
                                              ["thief", "a", "b", "hot", "dep", "user", "victim", "jphot"])
LABELS = StaticLabels({("ethereum", HOT): [("exchange", "Hangang Exchange", "KR")],
                       ("ethereum", JPHOT): [("exchange", "Caribe Exchange", "SC")]})


@pytest.fixture
def store(home: Path) -> ChainStore:
    e = Etl()
    e.send(1, VICTIM, THIEF, 100 * E)
    e.send(2, USER, A, 100 * E)  # clean value at A first
    e.send(3, THIEF, A, 100 * E)
    e.send(4, A, B, 50 * E)  # haircut: 25 tainted
    e.send(5, B, DEP, 50 * E)
    e.send(6, DEP, HOT, 50 * E)  # DEP is Hangang's deposit address
    e.send(7, A, JPHOT, 150 * E)
    return ChainStore(e.ingest(home))


def trace(store, policy="haircut"):
    return Tracer(store, LABELS).trace("ethereum", [THIEF], TraceOptions(policy=policy, after=T0))


@pytest.mark.parametrize(("policy", "dep", "other"), [("haircut", 25, 75), ("poison", 50, 150), ("fifo", 0, 100)])
def test_each_policy_credits_the_known_amounts(store, policy, dep, other):
    f = build_findings(trace(store, policy))
    jsonschema.validate(f, FINDINGS_SCHEMA)
    got = {o["address"]: int(o["amount_base_units"]) for o in f["offramps"]}
    assert got.get(DEP, 0) == dep * E and got.get(JPHOT, 0) == other * E
    assert HOT not in got  # swept from the deposit address: not counted twice


def test_deposit_address_is_reported_with_its_exchange(store):
    f = build_findings(trace(store))
    dep = next(o for o in f["offramps"] if o["address"] == DEP)
    assert (dep["entity"], dep["jurisdiction"], dep["asset"], dep["amount"]) == ("Hangang Exchange", "KR", "ETH", "25")
    assert dep["hops"] == 3 and 0 < dep["confidence"] < 1


def test_explain_prints_the_path_with_amounts(store):
    paths = explain(trace(store), DEP)
    assert paths and [s["to"] for s in paths[0]["steps"]] == [A, B, DEP]
    assert paths[0]["steps"][-1]["amount"] == "25"


def test_freeze_requests_are_routed_by_jurisdiction(store, tmp_path):
    result = trace(store)
    reqs = freeze_requests(result, build_findings(result), ["US", "KR", "JP"])
    by = {r["exchange"]: r for r in reqs}
    assert by["Hangang Exchange"]["routed_to"] == "KR"
    assert by["Caribe Exchange"]["routed_to"] is None and by["Caribe Exchange"]["routing"] == "no member jurisdiction"
    files = write_freeze_requests(reqs, tmp_path, pdf=True)
    assert (tmp_path / "hangang-exchange.html").read_text().count(DEP) >= 1
    assert (tmp_path / "hangang-exchange.pdf").read_bytes().startswith(b"%PDF")
    update_status(files[0], "Hangang Exchange", "frozen", [("ethereum", "ETH", 25 * E)])
    doc = json.loads(files[0].read_text())
    assert next(r for r in doc["requests"] if r["exchange"] == "Hangang Exchange")["status"] == "frozen"


def test_stix_bundle_is_valid_and_amber(store):
    result = trace(store)
    findings = build_findings(result)
    bundle = findings_bundle(findings, freeze_requests=freeze_requests(result, findings),
                             intermediaries=[{"chain": "ethereum", "address": A}])
    parsed = stix2.parse(bundle, allow_custom=True)
    assert len(parsed.objects) == len(bundle["objects"])
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert {o["pattern"] for o in indicators} == {f"[cryptocurrency-wallet:address = '{THIEF}']",
                                                 f"[cryptocurrency-wallet:address = '{A}']"}
    for ind in indicators:
        assert validate_instance(ind, ValidationOptions()).is_valid
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    assert all(amber in o["object_marking_refs"] for o in bundle["objects"] if o["type"] != "marking-definition")
    kinds = {o["type"] for o in bundle["objects"]}
    assert {"incident", "x-trilateral-trace", "x-trilateral-freeze-request", "relationship"} <= kinds


def test_cli_writes_findings_and_explains(store, tmp_path, monkeypatch):
    monkeypatch.setattr("trilateral.cli.trace_commands._labels", lambda settings: LABELS)
    out = tmp_path / "f.json"
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", THIEF, "--after", "2026-01-01T00:00:00Z",
                                   "--json", str(out), "--explain", DEP, "--freeze-dir", str(tmp_path / "fr")])
    assert res.exit_code == 0, res.output
    jsonschema.validate(json.loads(out.read_text()), FINDINGS_SCHEMA)
    assert "path 1" in res.stdout and (tmp_path / "fr" / "freeze_requests.json").exists()


def test_cli_rejects_a_malformed_seed(store, tmp_path):
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", "0x12", "--json", str(tmp_path / "x")])
    assert res.exit_code != 0 and "neither a transaction hash" in str(res.exception)


def test_cli_refuses_a_missing_json_directory_before_tracing(store, tmp_path, monkeypatch):
    # the check used to run after the trace: minutes of work, then the error
    def no_trace(*args, **kwargs):
        raise AssertionError("traced although --json cannot be written")

    monkeypatch.setattr("trilateral.trace.Tracer.trace", no_trace)
    out = tmp_path / "missing" / "findings.json"
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", THIEF, "--json", str(out)])
    assert res.exit_code != 0
    assert f"directory {out.parent} does not exist; create it first" in str(res.exception)
