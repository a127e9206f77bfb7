"""Trace accuracy against the simulator's ground truth (DESIGN.md §6).

For each scenario and seed: generate, ingest (ethereum-etl, bitcoin-etl, Midgard), trace from the
theft transactions with each policy, and compare off-ramp amounts matched on (chain, address,
asset): recall = Σ min(found, true) / Σ true, precision = Σ min(found, true) / Σ found, for funds
that did not cross a mixer and for those that did, separately.

    .venv/bin/python bench/trace_accuracy.py --transfers 1000000 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.labels import LabelStore
from trilateral.trace import TraceOptions, Tracer, build_findings

ROOT = Path(__file__).resolve().parents[1]


def sim_labels(out: Path) -> LabelStore:
    """The simulator's TagPack and ActorPack imported into a label store beside the output."""
    store = LabelStore(root=out.parent / f"{out.name}-labels")
    if not store.root.exists():
        store.import_file(out / "actors.yaml")
        store.import_file(out / "labels.yaml")
    return store


def generate(scenario: str, transfers: int, seed: int, out: Path, partition_blocks: int | None = None) -> None:
    extra = ["--partition-blocks", str(partition_blocks)] if partition_blocks else []
    subprocess.run([str(ROOT / ".venv/bin/trilateral"), "sim", "generate", "--scenario", scenario,
                    "--transfers", str(transfers), "--seed", str(seed), *extra, str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load(out: Path, chain_dir: Path) -> None:
    ingest(chain_dir, fmt="etl", source=str(out / "ethereum"), chain="ethereum", show_progress=False)
    if (out / "bitcoin" / "transactions.json").exists():
        ingest(chain_dir, fmt="etl", source=str(out / "bitcoin"), chain="bitcoin", show_progress=False)
    if (out / "thorchain" / "actions.json").exists():
        ingest(chain_dir, fmt="midgard", source=str(out / "thorchain" / "actions.json"), show_progress=False)


def score(findings: dict, truth: dict) -> dict[str, dict[str, float]]:
    """Per (chain, asset) and flag (non_mixer / mixer): value-weighted recall and precision; plus
    `overall` per flag = the mean over assets that have ground truth (units differ between assets)."""
    true = defaultdict(int)
    for o in truth["offramps"]:
        true[(bool(o["via_mixer"]), o["chain"], o["asset"], o["address"])] += int(o["amount_base_units"])
    found = defaultdict(int)
    for o in findings["offramps"]:
        mixed = int(o.get("via_mixer_base_units", "0"))
        found[(True, o["chain"], o["asset"], o["address"])] += mixed
        found[(False, o["chain"], o["asset"], o["address"])] += int(o["amount_base_units"]) - mixed
    groups = {(f, c, a) for f, c, a, _ in true} | {(f, c, a) for (f, c, a, _), v in found.items() if v}
    out: dict = {}
    for flag, chain, asset in sorted(groups):
        t = {k[3]: v for k, v in true.items() if k[:3] == (flag, chain, asset)}
        f = {k[3]: v for k, v in found.items() if k[:3] == (flag, chain, asset) and v}
        hit = sum(min(f.get(a, 0), v) for a, v in t.items())
        out[f"{'mixer' if flag else 'non_mixer'}:{chain}:{asset}"] = {
            "recall": hit / sum(t.values()) if t else float("nan"),
            "precision": hit / sum(f.values()) if f else float("nan"), "true": sum(t.values()),
            "found": sum(f.values())}
    for chain, asset in sorted({(c, a) for _, c, a in groups}):  # every fund, mixer or not
        t = defaultdict(int)
        f = defaultdict(int)
        for (_, c, a, addr), v in true.items():
            if (c, a) == (chain, asset):
                t[addr] += v
        for (_, c, a, addr), v in found.items():
            if (c, a) == (chain, asset):
                f[addr] += v
        hit = sum(min(f.get(x, 0), v) for x, v in t.items())
        out[f"all:{chain}:{asset}"] = {"recall": hit / sum(t.values()) if t else float("nan"),
                                       "precision": hit / sum(f.values()) if sum(f.values()) else float("nan"),
                                       "true": sum(t.values()), "found": sum(f.values())}
    for name in ("non_mixer", "mixer", "all"):
        parts = [v for k, v in out.items() if k.startswith(name + ":") and v["true"]]
        rec = [p["recall"] for p in parts]
        prec = [p["precision"] for p in parts if p["precision"] == p["precision"]]
        out[name] = {"recall": sum(rec) / len(rec) if rec else float("nan"),
                     "precision": sum(prec) / len(prec) if prec else float("nan")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", default="lazarus-bridge-hack,direct-to-exchange,peel-chain-btc")
    ap.add_argument("--transfers", type=int, default=100_000)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--policies", default="haircut,poison,fifo")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    rows = []
    for scenario in args.scenarios.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                out, chain_dir = Path(tmp) / "sim", Path(tmp) / "chain"
                t0 = time.perf_counter()
                generate(scenario, args.transfers, seed, out)
                load(out, chain_dir)
                prep = time.perf_counter() - t0
                truth = json.loads((out / "ground_truth.json").read_text())
                tracer = Tracer(ChainStore(chain_dir), sim_labels(out))
                chain = truth["seeds"][0]["chain"]  # a scenario's thefts are on one chain
                seeds = sorted({s["tx_hash"] for s in truth["seeds"] if s["chain"] == chain})
                for policy in args.policies.split(","):
                    t1 = time.perf_counter()
                    result = tracer.trace(chain, seeds, TraceOptions(policy=policy))
                    secs = time.perf_counter() - t1
                    s = score(build_findings(result), truth)
                    rows.append({"scenario": scenario, "seed": seed, "policy": policy, "seconds": secs, **s})
                    print(f"{scenario:22s} seed {seed} {policy:8s} non-mixer R {s['non_mixer']['recall']:.3f} "
                          f"P {s['non_mixer']['precision']:.3f} | mixer R {s['mixer']['recall']:.3f} "
                          f"P {s['mixer']['precision']:.3f} | all R {s['all']['recall']:.3f} "
                          f"P {s['all']['precision']:.3f} | trace {secs:.2f}s (generate+ingest {prep:.1f}s)",
                          flush=True)
                    for k, v in s.items():
                        if ":" in k:
                            print(f"    {k:28s} R {v['recall']:.3f} P {v['precision']:.3f}")
    print("\nmean over seeds (value-weighted per run, then averaged):")
    groups = defaultdict(list)
    for r in rows:
        groups[(r["scenario"], r["policy"])].append(r)
    for (scenario, policy), rs in groups.items():
        def mean(part, key, rs=rs):
            vals = [r[part][key] for r in rs if r[part][key] == r[part][key]]
            return sum(vals) / len(vals) if vals else float("nan")
        print(f"{scenario:22s} {policy:8s} non-mixer R {mean('non_mixer', 'recall'):.3f} "
              f"P {mean('non_mixer', 'precision'):.3f} | mixer R {mean('mixer', 'recall'):.3f} "
              f"P {mean('mixer', 'precision'):.3f} | all R {mean('all', 'recall'):.3f} P {mean('all', 'precision'):.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
