"""Label look-up speed: 1,000,000 addresses against the label store, beside a plain dict in the same run.

    .venv/bin/python bench/labels.py [--queries 1000000] [--labels 200000]

Loads the real GraphSense tags and OFAC SDN rows from ../shared/data when present, plus synthetic
TagPack tags up to --labels; a tenth of the queries are labelled addresses, the rest unknown.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from trilateral.core.settings import Settings  # noqa: E402
from trilateral.labels import LabelStore  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1_000_000)
    ap.add_argument("--labels", type=int, default=200_000)
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "RESULTS-chain.md")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = LabelStore(Settings(home=home, database_url="sqlite://"))
        sources = []
        legacy = SHARED / "ofac_sdn" / "legacy_sdn_csv_2024-05-03_dprk_cyber_crypto_rows.csv"
        if legacy.exists():
            store.import_file(legacy)
            sources.append("OFAC SDN.CSV rows")
        tags_csv = SHARED / "graphsense_tagpacks" / "tags.csv"
        real = []
        if tags_csv.exists():
            real = [{k: r[k] for k in ("address", "currency", "label", "category", "source") if r[k]}
                    for r in csv.DictReader(tags_csv.open())]
            sources.append(f"{len(real):,} GraphSense tags")
        synthetic = [{"address": f"0x{rng.getrandbits(160):040x}", "currency": "ETH", "label": f"service {i % 500}",
                      "category": "exchange", "source": "synthetic"} for i in range(max(args.labels - len(real), 0))]
        pack = home / "pack.yaml"
        pack.write_text(yaml.dump({"title": "bench", "creator": "bench", "tags": real + synthetic},
                                  Dumper=yaml.CSafeDumper))
        store.import_file(pack)
        sources.append(f"{len(synthetic):,} synthetic tags")
        labelled = [t["address"] for t in real + synthetic if t.get("currency") == "ETH"]
        queries = [rng.choice(labelled) if i % 10 == 0 else f"0x{rng.getrandbits(160):040x}"
                   for i in range(args.queries)]
        t0 = time.perf_counter()
        store.lookup("ethereum", queries[:1000])  # builds the in-memory index once
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits = store.lookup("ethereum", queries)
        ours = time.perf_counter() - t0
        table = store.table().to_pylist()
        index: dict[tuple[str, str], list] = {}
        for row in table:
            index.setdefault((row["chain"], row["address"]), []).append(row)
        t0 = time.perf_counter()
        base = [index.get(("ethereum", q.lower()), []) for q in queries]
        dict_s = time.perf_counter() - t0
        assert sum(1 for h in hits if h) == sum(1 for b in base if b)
    lines = ["## Label look-up (bench/labels.py)", "",
             f"Command: `.venv/bin/python bench/labels.py --queries {args.queries} --labels {args.labels}`",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared)",
             f"Label store: {len(table):,} labels ({'; '.join(sources)}); {args.queries:,} queries, 10% labelled",
             "", "| run | seconds | look-ups/s |", "|---|---:|---:|",
             f"| LabelStore.lookup (vectorised, index built once in {build:.2f} s) | {ours:.3f} | {args.queries / ours:,.0f} |",
             f"| plain Python dict, lower() + get per address (baseline) | {dict_s:.3f} | {args.queries / dict_s:,.0f} |",
             "", f"Ratio lookup/dict time: {ours / dict_s:.2f}x; goal: 1,000,000 look-ups < 1 s.", ""]
    text = "\n".join(lines)
    print(text)
    previous = args.results.read_text() if args.results.exists() else ""
    cut = previous.find("## Label look-up")
    args.results.write_text((previous[:cut] if cut >= 0 else previous) + ("\n" if previous and cut < 0 else "") + text)


if __name__ == "__main__":
    main()
