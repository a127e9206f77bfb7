"""Benchmark `trilateral sim generate`: transfers per second and peak memory at 1M and 10M transfers.

Each size runs in its own process (peak RSS is per process). Baseline, measured in the same run: a
plain per-row Python generator writing the same kind of rows with the csv module (the obvious way).
Usage: .venv/bin/python bench/sim.py [--sizes 1000000,10000000] [--scenario lazarus-bridge-hack]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def naive_rate(rows: int = 200_000) -> float:
    """Rows per second of a per-row Python loop writing ethereum-etl-like transactions with csv."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with open(Path(tmp) / "tx.csv", "w", newline="") as f:
            w = csv.writer(f)
            for i in range(rows):
                w.writerow([f"0x{rng.getrandbits(256):064x}", i, f"0x{rng.getrandbits(256):064x}", i // 100, i % 100,
                            f"0x{rng.getrandbits(160):040x}", f"0x{rng.getrandbits(160):040x}",
                            rng.randrange(10**18), 21000, 20 * 10**9, "0x", 1767225600 + i])
        return rows / (time.perf_counter() - start)


def run_one(size: int, scenario: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "trilateral", "sim", "generate", "--scenario", scenario,
                               "--transfers", str(size), "--seed", "1", str(out), "--json"],
                              capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
        summary = json.loads(proc.stdout)
        size_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"requested": size, "written": summary["transfers_written"], "seconds": round(seconds, 1),
            "rate": round(summary["transfers_written"] / seconds), "peak_rss_mib_so_far": round(peak_mib),
            "output_mib": round(size_bytes / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--scenario", default="lazarus-bridge-hack")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared with other jobs)")
    baseline = naive_rate()
    print(f"baseline (per-row Python + csv, transactions only): {baseline:,.0f} rows/s")
    for size in (int(s) for s in args.sizes.split(",")):
        r = run_one(size, args.scenario)
        print(f"{size:>11,} requested  {r['written']:>11,} written  {r['seconds']:>7.1f} s  "
              f"{r['rate']:>9,} transfers/s  ({r['rate'] / baseline:.1f}x baseline)  "
              f"peak RSS (max so far) {r['peak_rss_mib_so_far']} MiB  output {r['output_mib']} MiB  "
              f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
