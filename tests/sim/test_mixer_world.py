"""World B (sim/mixer_world.py): an independent laundering world without logs whose pools are known
only by label; the default mixer heuristics link the thief's withdrawals and no honest one."""

from __future__ import annotations

import json
from pathlib import Path

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.sim.mixer_world import generate_world_b
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.roles import StaticLabels


def test_world_b_has_no_logs_and_default_links_are_the_thiefs(tmp_path: Path) -> None:
    out = generate_world_b(tmp_path / "b", seed=3, honest_users=60, stolen_eth=400, days=12)
    assert not (out / "ethereum" / "logs.csv").exists()
    ingest(tmp_path / "chain", fmt="etl", source=str(out / "ethereum"), chain="ethereum", show_progress=False)
    labels = StaticLabels({(c, a): [(cat, e, j)] for c, a, cat, e, j in json.loads((out / "labels.json").read_text())})
    truth = json.loads((out / "ground_truth.json").read_text())
    mixed_truth = {o["address"]: int(o["amount_base_units"]) for o in truth["offramps"] if o["via_mixer"]}
    assert sum(int(o["amount_base_units"]) for o in truth["offramps"]) <= 400 * 10**18
    f = build_findings(Tracer(ChainStore(tmp_path / "chain"), labels).trace(
        "ethereum", [s["tx_hash"] for s in truth["seeds"]], TraceOptions()))
    assert f["mixer"]["links"] and all(e["heuristic"] in {"address_reuse", "gas_funding", "relayer",
                                                            "multi_denomination"}
                                       for lk in f["mixer"]["links"] for e in lk["evidence"])
    found = {o["address"]: int(o["via_mixer_base_units"]) for o in f["offramps"] if int(o["via_mixer_base_units"])}
    assert found and set(found) <= set(mixed_truth)  # mixed value credited only where the thief cashed out
    assert sum(min(v, mixed_truth[a]) for a, v in found.items()) >= 0.9 * sum(found.values())
