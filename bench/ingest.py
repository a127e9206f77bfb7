"""Ingest throughput: ethereum-etl CSV -> chain store, against bare DuckDB read_csv -> Parquet of the same files.

    .venv/bin/python bench/ingest.py --transfers 10000000 [--partitions 10] [--workdir DIR] [--keep]

Both runs are child processes timed on the wall clock; peak RSS comes from wait4() of each child.
The ceiling reads every CSV once and writes it to Parquet with no validation, ids or joins.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CEILING = """
import glob, sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar=false")
con.execute("SET memory_limit='2GB'")
for name in ("blocks", "transactions", "token_transfers", "tokens"):
    files = sorted(glob.glob(f"{src}/{name}/**/*.csv", recursive=True)) or [f"{src}/{name}.csv"]
    con.execute(f"COPY (SELECT * FROM read_csv({files!r})) TO '{out}/{name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
"""


def _hwm(pid: int) -> int:
    """VmHWM (peak RSS of the process's own address space) in bytes, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one child process.

    Peak RSS is polled from /proc/<pid>/status VmHWM: wait4()'s ru_maxrss would also count the
    parent's resident size at fork (Linux carries it over), which is what this process's own size is.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed with status {proc.returncode}")
    return wall, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=10)
    ap.add_argument("--addresses", type=int, default=2_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/trilateral-bench-ingest"))
    ap.add_argument("--keep", action="store_true", help="keep the generated CSVs for the next run")
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "RESULTS-chain.md")
    args = ap.parse_args()

    src = args.workdir / f"etl-{args.transfers}-{args.partitions}"
    if not (src / "transactions").exists() and not (src / "transactions.csv").exists():
        t0 = time.perf_counter()  # in a child, so this process stays small
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                        "from tests.chain.synthetic_etl import generate_etl; "
                        "print(generate_etl(Path(sys.argv[2]), int(sys.argv[3]), addresses=int(sys.argv[4]), "
                        "partitions=int(sys.argv[5])))", str(REPO), str(src), str(args.transfers),
                        str(args.addresses), str(args.partitions)], check=True)
        print(f"generated in {time.perf_counter() - t0:.1f} s")
    csv_bytes = sum(p.stat().st_size for p in src.rglob("*.csv"))

    ceiling_out = args.workdir / "ceiling"
    shutil.rmtree(ceiling_out, ignore_errors=True)
    ceiling_out.mkdir(parents=True)
    ceil_s, ceil_rss = run_child([sys.executable, "-c", CEILING, str(src), str(ceiling_out)])

    home = args.workdir / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "TRILATERAL_HOME": str(home)}
    ours_s, ours_rss = run_child([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", "ethereum",
                                  "--format", "etl", str(src)], env)
    sys.path.insert(0, str(REPO / "src"))
    from trilateral.chain import ChainStore

    stats = ChainStore(home / "chain").stats()["chains"]["ethereum"]
    transfers = stats["transfers"]
    ours_rate, ceil_rate = transfers / ours_s, transfers / ceil_s
    lines = [
        "## Chain ingest (bench/ingest.py)",
        "",
        f"Command: `.venv/bin/python bench/ingest.py --transfers {args.transfers} --partitions {args.partitions}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        f"(shared with other jobs), Python {platform.python_version()}",
        f"Input: ethereum-etl export, {args.partitions} block-range partitions, {csv_bytes / 2**30:.2f} GiB CSV; "
        f"{stats['transactions']:,} transactions, {transfers:,} transfers stored, {stats['addresses']:,} addresses",
        "",
        "| run | seconds | transfers/s | peak RSS |",
        "|---|---:|---:|---:|",
        f"| trilateral chain ingest | {ours_s:.1f} | {ours_rate:,.0f} | {ours_rss / 2**30:.2f} GiB |",
        f"| bare DuckDB read_csv -> Parquet (ceiling) | {ceil_s:.1f} | {ceil_rate:,.0f} | {ceil_rss / 2**30:.2f} GiB |",
        "",
        f"Ratio ingest/ceiling time: **{ours_s / ceil_s:.2f}x** (goal <= 2x); peak RSS goal < 4 GiB.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.results.write_text(text + ("\n" + _labels_section(args.results) if args.results.exists() else ""))
    shutil.rmtree(ceiling_out, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(src, ignore_errors=True)


def _labels_section(path: Path) -> str:
    """Keep the label look-up section bench/labels.py wrote."""
    text = path.read_text()
    start = text.find("## Label look-up")
    return text[start:] if start >= 0 else ""


if __name__ == "__main__":
    main()
