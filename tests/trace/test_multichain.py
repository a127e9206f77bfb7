"""One `trilateral trace` follows stolen USDT from Ethereum over a bridge to BSC, over another to Tron,
into exchange deposit addresses there; checked against the simulator's ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trilateral.chain.bridges import find_bridge_links
from trilateral.chain.ingest import ingest
from trilateral.core.settings import Settings
from trilateral.labels import LabelStore
from trilateral.sim import generate


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trilateral", *args], capture_output=True, text=True,
                          env={**os.environ, "TRILATERAL_HOME": str(home)}, timeout=300)


def test_trace_from_ethereum_through_bsc_to_usdt_on_tron(home: Path, tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    generate("lazarus-bridge-tron", 6_000, 3, sim)
    truth = json.loads((sim / "ground_truth.json").read_text())
    chain_dir = Settings.from_env().chain_dir
    for chain, fmt in (("ethereum", "etl"), ("bsc", "etl"), ("tron", "tron-node")):
        report = ingest(chain_dir, fmt=fmt, chain=chain, source=str(sim / chain), show_progress=False)
        assert report.bad_row_count == 0, report.bad_rows
    labels = LabelStore()
    labels.import_file(sim / "actors.yaml")
    labels.import_file(sim / "labels.yaml")
    _, links = find_bridge_links(chain_dir, labels)
    # every true bridge link is found; matched links are nearly all true (decoys sit at the thief's amounts)
    true_links = {(x["in_tx"], x["out_tx"]) for x in truth["bridge_links"]}
    thief_links = {(x["in_tx"], x["out_tx"]) for x in truth["bridge_links"] if x["thief"]}
    got = {(x["in_tx"], x["out_tx"]) for x in links}
    assert thief_links <= got
    assert len(got & true_links) / len(got) >= 0.95
    assert {x["confidence"] for x in links} and all(0 < x["confidence"] <= 1 for x in links)

    seeds = ",".join(s["tx_hash"] for s in truth["seeds"])
    out = tmp_path / "findings.json"
    assert _cli(["init"], home).returncode == 0
    run = _cli(["trace", "--chain", "ethereum", "--from", seeds, "--policy", "haircut", "--json", str(out),
                "--freeze-dir", str(tmp_path / "freeze")], home)
    assert run.returncode == 0, run.stderr
    findings = json.loads(out.read_text())
    found = {(o["chain"], o["address"], o["asset"]): int(o["amount_base_units"]) for o in findings["offramps"]}
    expected = {(o["chain"], o["address"], o["asset"]): int(o["amount_base_units"]) for o in truth["offramps"]}
    assert {c for c, _, _ in expected} == {"tron"} and all(a.startswith("T") for _, a, _ in expected)
    hit = sum(min(found.get(k, 0), v) for k, v in expected.items())
    recall, precision = hit / sum(expected.values()), hit / max(sum(found.values()), 1)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)
    jurisdictions = {o["jurisdiction"] for o in findings["offramps"]}
    assert jurisdictions <= {o["jurisdiction"] for o in truth["offramps"]}
    # freeze requests weigh Tron USDT against the USDT stolen on Ethereum; Tether is asked for what is held
    plan = json.loads((tmp_path / "freeze" / "freeze_requests.json").read_text())
    shares = {r["exchange"]: r["share_of_stolen"] for r in plan["requests"]}
    assert plan["below_minimum"] == [] and shares.get("Tether", 0) > 0.01
    assert 0.9 < sum(v for k, v in shares.items() if k != "Tether") <= 1.0
