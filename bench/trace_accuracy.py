"""Trace accuracy against the simulator's ground truth (DESIGN.md §6).

For each scenario and seed: generate, ingest (ethereum-etl, bitcoin-etl, Midgard), trace from the
theft transactions with each policy, and compare off-ramp amounts matched on (chain, address,
asset): recall = Σ min(found, true) / Σ true, precision = Σ min(found, true) / Σ found, for funds
that did not cross a mixer and for those that did, separately.

    .venv/bin/python bench/trace_accuracy.py --transfers 1000000 --seeds 1,2,3

Degraded data (`--degrade 0.2`): a share of each stolen asset's Ethereum path rows (the ground
truth's hop, fan-out, consolidation and exchange-deposit transactions) is removed before ingest,
and the run reports the recall lost and how much of the removed value the trace's warnings name
(a removed row is named when a warning names its sender or its recipient). `--degrade-blocks`
removes the whole blocks of those rows, so the store's coverage knows what is missing; without
it the rows vanish from blocks the store believes complete (corrupt data, which no warning sees).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.labels import LabelStore
from trilateral.sim.mixer_world import generate_world_b
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.mixers import parse_heuristics
from trilateral.trace.roles import StaticLabels

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


WORLD_B = "world-b"  # the independent laundering world (trilateral.sim.mixer_world), not the simulator
HEURISTIC_SETS = "all;address_reuse;gas_funding;timing;multi_denomination;anonymity_set"  # beside the default


def world_b_labels(out: Path) -> StaticLabels:
    rows = json.loads((out / "labels.json").read_text())
    return StaticLabels({(c, a): [(cat, e, j)] for c, a, cat, e, j in rows})


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


PATH_KINDS = ("hop", "fan_out", "consolidation", "exchange_deposit")


def degrade(src: Path, dst: Path, truth: dict, share: float, seed: int, whole_blocks: bool) -> list[dict]:
    """Copy the Ethereum CSV directory without a share of each asset's path transactions (and, with
    `whole_blocks`, without their blocks); return the ground-truth steps removed."""
    rng = random.Random(seed)
    steps = [s for s in truth["steps"] if s["chain"] == "ethereum" and s["kind"] in PATH_KINDS]
    by_asset: dict[str, list[dict]] = defaultdict(list)
    for st in steps:
        by_asset[st["asset"]].append(st)
    chosen = {st["tx_hash"] for group in by_asset.values()
              for st in rng.sample(group, max(1, round(share * len(group))))}
    txs = {r["hash"]: int(r["block_number"]) for r in csv.DictReader((src / "transactions.csv").open())}
    blocks = {txs[h] for h in chosen if h in txs} if whole_blocks else set()
    dst.mkdir(parents=True)
    for path in src.iterdir():
        with path.open(newline="") as fh, (dst / path.name).open("w", newline="") as out:
            reader = csv.DictReader(fh)
            writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], quoting=csv.QUOTE_MINIMAL)
            writer.writeheader()
            tx_key = next((k for k in ("hash", "transaction_hash") if k in (reader.fieldnames or [])), None)
            block_key = "number" if path.name == "blocks.csv" else "block_number"
            for row in reader:
                if path.name != "tokens.csv" and (
                        (path.name != "blocks.csv" and tx_key and row[tx_key] in chosen) or
                        (block_key in row and row[block_key] and int(row[block_key]) in blocks)):
                    continue
                writer.writerow(row)
    gone = chosen | {h for h, b in txs.items() if b in blocks}
    return [st for st in steps if st["tx_hash"] in gone]


def named_share(removed: list[dict], findings: dict, holdings_too: bool = False) -> dict[str, float]:
    """Per asset: the share of the removed path value whose sender or recipient a warning (or, with
    `holdings_too`, a holding: value stranded where the removed row would have moved it) names."""
    named = {w["address"] for w in findings["warnings"] if w["address"]}
    if holdings_too:
        named |= {h["address"] for h in findings["holdings"]}
    total: dict[str, int] = defaultdict(int)
    hit: dict[str, int] = defaultdict(int)
    for st in removed:
        total[st["asset"]] += int(st["amount_base_units"])
        if st["from"] in named or st["to"] in named:
            hit[st["asset"]] += int(st["amount_base_units"])
    return {a: hit[a] / v for a, v in total.items() if v}


def degraded_runs(args, scenario: str, seed: int, out: Path, truth: dict, full: dict) -> list[dict]:
    rows = []
    for whole in (False, True):
        tag = "blocks" if whole else "rows"
        work = out.parent / f"degraded-{tag}"
        removed = degrade(out / "ethereum", work / "ethereum", truth, args.degrade, seed, whole)
        for extra in ("bitcoin", "thorchain"):
            if (out / extra).exists():
                shutil.copytree(out / extra, work / extra)
        load(work, out.parent / f"chain-{tag}")
        tracer = Tracer(ChainStore(out.parent / f"chain-{tag}"), sim_labels(out))
        chain = truth["seeds"][0]["chain"]
        seeds = sorted({s["tx_hash"] for s in truth["seeds"] if s["chain"] == chain})
        for policy in args.policies.split(","):
            findings = build_findings(tracer.trace(chain, seeds, TraceOptions(policy=policy)))
            s = score(findings, truth)
            names = named_share(removed, findings)
            mean_named = sum(names.values()) / len(names) if names else float("nan")
            held = named_share(removed, findings, holdings_too=True)
            mean_held = sum(held.values()) / len(held) if held else float("nan")
            kinds = sorted({w["kind"] for w in findings["warnings"]})
            print(f"{scenario:22s} seed {seed} {policy:8s} degraded ({tag}, {len(removed)} path rows removed): "
                  f"non-mixer R {s['non_mixer']['recall']:.3f} (full {full[policy]['non_mixer']['recall']:.3f}) "
                  f"P {s['non_mixer']['precision']:.3f} | removed value named by warnings {mean_named:.3f} "
                  f"({', '.join(f'{a} {v:.2f}' for a, v in sorted(names.items()))}), by warnings or holdings "
                  f"{mean_held:.3f} | warnings: {', '.join(kinds)}",
                  flush=True)
            rows.append({"scenario": scenario, "seed": seed, "policy": policy, "degraded": tag,
                         "removed": len(removed), "named": mean_named, "named_by_asset": names,
                         "named_or_held": mean_held, **s})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", default="lazarus-bridge-hack,direct-to-exchange,peel-chain-btc")
    ap.add_argument("--transfers", type=int, default=100_000)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--policies", default="haircut,poison,fifo")
    ap.add_argument("--json", default=None)
    ap.add_argument("--degrade", type=float, default=0.0, help="share of each path's rows removed (0: no run)")
    ap.add_argument("--heuristic-sets", default=HEURISTIC_SETS,
                    help="';'-separated mixer heuristic sets scored with the first policy (per-heuristic figures)")
    args = ap.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    rows = []
    degraded: list[dict] = []
    for scenario in args.scenarios.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                out, chain_dir = Path(tmp) / "sim", Path(tmp) / "chain"
                t0 = time.perf_counter()
                if scenario == WORLD_B:
                    generate_world_b(out, seed=seed)
                    ingest(chain_dir, fmt="etl", source=str(out / "ethereum"), chain="ethereum", show_progress=False)
                else:
                    generate(scenario, args.transfers, seed, out)
                    load(out, chain_dir)
                prep = time.perf_counter() - t0
                truth = json.loads((out / "ground_truth.json").read_text())
                tracer = Tracer(ChainStore(chain_dir), world_b_labels(out) if scenario == WORLD_B else sim_labels(out))
                chain = truth["seeds"][0]["chain"]  # a scenario's thefts are on one chain
                seeds = sorted({s["tx_hash"] for s in truth["seeds"] if s["chain"] == chain})
                full = {}
                for policy in args.policies.split(","):
                    t1 = time.perf_counter()
                    result = tracer.trace(chain, seeds, TraceOptions(policy=policy))
                    secs = time.perf_counter() - t1
                    findings = build_findings(result)
                    s = score(findings, truth)
                    full[policy] = s
                    kinds = sorted({w["kind"] for w in findings["warnings"]})
                    rows.append({"scenario": scenario, "seed": seed, "policy": policy, "seconds": secs, **s})
                    print(f"{scenario:22s} seed {seed} {policy:8s} non-mixer R {s['non_mixer']['recall']:.3f} "
                          f"P {s['non_mixer']['precision']:.3f} | mixer R {s['mixer']['recall']:.3f} "
                          f"P {s['mixer']['precision']:.3f} | all R {s['all']['recall']:.3f} "
                          f"P {s['all']['precision']:.3f} | trace {secs:.2f}s (generate+ingest {prep:.1f}s) | "
                          f"{len(findings['warnings'])} warnings {', '.join(kinds)}",
                          flush=True)
                    for k, v in s.items():
                        if ":" in k:
                            print(f"    {k:28s} R {v['recall']:.3f} P {v['precision']:.3f}")
                policy = args.policies.split(",")[0]
                for hs in [h for h in args.heuristic_sets.split(";") if h and h != "default"]:
                    s = score(build_findings(tracer.trace(chain, seeds, TraceOptions(
                        policy=policy, mixer_heuristics=parse_heuristics(hs)))), truth)
                    rows.append({"scenario": scenario, "seed": seed, "policy": policy, "heuristics": hs, **s})
                    print(f"{scenario:22s} seed {seed} {policy:8s} heuristics {hs}: mixer R {s['mixer']['recall']:.3f} "
                          f"P {s['mixer']['precision']:.3f} | non-mixer R {s['non_mixer']['recall']:.3f} "
                          f"P {s['non_mixer']['precision']:.3f}", flush=True)
                if args.degrade > 0 and chain == "ethereum":
                    degraded += degraded_runs(args, scenario, seed, out, truth, full)
    print("\nmean over seeds (value-weighted per run, then averaged):")
    groups = defaultdict(list)
    for r in rows:
        groups[(r["scenario"], r["policy"], r.get("heuristics", "default"))].append(r)
    for (scenario, policy, hs), rs in groups.items():
        def mean(part, key, rs=rs):
            vals = [r[part][key] for r in rs if r[part][key] == r[part][key]]
            return sum(vals) / len(vals) if vals else float("nan")
        print(f"{scenario:22s} {policy:8s} [{hs}] non-mixer R {mean('non_mixer', 'recall'):.3f} "
              f"P {mean('non_mixer', 'precision'):.3f} | mixer R {mean('mixer', 'recall'):.3f} "
              f"P {mean('mixer', 'precision'):.3f} | all R {mean('all', 'recall'):.3f} P {mean('all', 'precision'):.3f}")
    if degraded:
        print(f"\ndegraded data (share {args.degrade} of each asset's path rows removed), mean over seeds:")
        dgroups = defaultdict(list)
        for r in degraded:
            dgroups[(r["scenario"], r["policy"], r["degraded"])].append(r)
        for (scenario, policy, tag), rs in dgroups.items():
            full_r = [r["non_mixer"]["recall"] for r in rows
                      if (r["scenario"], r["policy"], r.get("heuristics", "default")) == (scenario, policy, "default")]
            named = [r["named"] for r in rs if r["named"] == r["named"]]
            held = [r["named_or_held"] for r in rs if r["named_or_held"] == r["named_or_held"]]
            print(f"{scenario:22s} {policy:8s} {tag:6s} non-mixer R {sum(r['non_mixer']['recall'] for r in rs) / len(rs):.3f}"
                  f" (full {sum(full_r) / len(full_r):.3f}) | removed value named by warnings "
                  f"{sum(named) / len(named) if named else float('nan'):.3f}, by warnings or holdings "
                  f"{sum(held) / len(held) if held else float('nan'):.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows + degraded, indent=2))


if __name__ == "__main__":
    main()
