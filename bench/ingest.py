"""Ingest throughput: ethereum-etl CSV -> chain store, against bare DuckDB read_csv -> Parquet of the same files.

    .venv/bin/python bench/ingest.py --transfers 10000000 [--partitions 10] [--workdir DIR] [--keep]
    .venv/bin/python bench/ingest.py --etherscan [--transfers 200000] [--files 40]

Both runs are child processes timed on the wall clock; peak RSS comes from wait4() of each child.
The ceiling reads every CSV once and writes it to Parquet with no validation, ids or joins.
"""

from __future__ import annotations

import argparse
import json
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
    replace_section(args.results, "## Chain ingest (bench/ingest.py)", text)
    shutil.rmtree(ceiling_out, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(src, ignore_errors=True)


def replace_section(path: Path, heading: str, text: str) -> None:
    """Put `text` in place of the `heading` section of the results file (other sections kept)."""
    old = path.read_text() if path.exists() else ""
    start = old.find(heading)
    if start < 0:
        path.write_text(old.rstrip() + "\n\n\n" + text if old else text)
        return
    end = old.find("\n## ", start + len(heading))
    path.write_text(old[:start] + text + ("\n\n" + old[end + 1:] if end >= 0 else ""))


# ---- explorer format ------------------------------------------------------------------------------
def write_explorer_dataset(root: Path, transfers: int, files: int, seed: int = 7) -> tuple[Path, Path, int]:
    """The same transfers as saved explorer API responses (txlist / tokentx per queried address, 10 %
    of rows also in a second address's file, as when both ends are queried) and as one ethereum-etl
    directory. Returns (explorer dir, etl dir, distinct transfers)."""
    import csv
    import random

    rnd = random.Random(seed)
    queried = [f"0x{rnd.getrandbits(160):040x}" for _ in range(files // 2)]
    token = f"0x{rnd.getrandbits(160):040x}"
    lists: dict[tuple[str, str], list[dict]] = {(q, k): [] for q in queried for k in ("txlist", "tokentx")}
    txs, tts, blocks = [], [], {}
    for n in range(transfers):
        kind = "tokentx" if n % 2 else "txlist"
        owner = queried[n % len(queried)]
        other = rnd.choice(queried) if rnd.random() < 0.1 else f"0x{rnd.getrandbits(160):040x}"
        frm, to = (owner, other) if rnd.random() < 0.5 else (other, owner)
        block = 17_000_000 + n // 20
        ts = 1_680_000_000 + 12 * (n // 20)
        tx_hash = f"0x{rnd.getrandbits(256):064x}"
        value = rnd.randrange(1, 10**24)
        blocks[block] = ts
        row = {"blockNumber": str(block), "timeStamp": str(ts), "hash": tx_hash, "from": frm, "to": to,
               "value": str(value), "transactionIndex": str(n % 20), "blockHash": "", "nonce": "0", "isError": "0",
               "txreceipt_status": "1", "contractAddress": ""}
        if kind == "tokentx":
            row.update({"contractAddress": token, "tokenSymbol": "TKN", "tokenDecimal": "18", "logIndex": "0"})
            tts.append({"token_address": token, "from_address": frm, "to_address": to, "value": value,
                        "transaction_hash": tx_hash, "log_index": 0, "block_number": block})
        txs.append({"hash": tx_hash, "block_number": block, "transaction_index": n % 20, "from_address": frm,
                    "to_address": to if kind == "txlist" else token, "value": value if kind == "txlist" else 0,
                    "receipt_status": 1})
        for who in {frm, to} & set(queried):
            lists[(who, kind)].append(row)
    api, etl = root / "explorer", root / "etl"
    api.mkdir(parents=True)
    etl.mkdir(parents=True)
    for (who, kind), rows in lists.items():
        (api / f"{kind}-{who}.json").write_text(json.dumps({"status": "1", "message": "OK", "result": rows}))
    for name, cols, rows in (
            ("blocks", ["number", "timestamp"], [{"number": b, "timestamp": t} for b, t in sorted(blocks.items())]),
            ("transactions", list(txs[0]), txs), ("token_transfers", list(tts[0]), tts)):
        with open(etl / f"{name}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
    return api, etl, transfers


def explorer_main() -> None:
    """Explorer-format ingest against the etl path on the same transfers (both in child processes)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/trilateral-bench-explorer"))
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "RESULTS-chain.md")
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    api, etl, n = write_explorer_dataset(args.workdir / "data", args.transfers, args.files)
    runs = {}
    for fmt, src in (("etl", etl), ("etherscan", api)):
        home = args.workdir / f"home-{fmt}"
        env = {**os.environ, "TRILATERAL_HOME": str(home)}
        runs[fmt] = run_child([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", "ethereum",
                               "--format", fmt, str(src)], env)
    sys.path.insert(0, str(REPO / "src"))
    from trilateral.chain import ChainStore

    stats = {fmt: ChainStore(args.workdir / f"home-{fmt}" / "chain").stats()["chains"]["ethereum"] for fmt in runs}
    stored = {fmt: s["transfers"] for fmt, s in stats.items()}
    n_files = len(list(api.glob("*.json")))
    rows_in_files = sum(len(json.loads(p.read_text())["result"]) for p in api.glob("*.json"))
    (ours_s, ours_rss), (etl_s, etl_rss) = runs["etherscan"], runs["etl"]
    lines = [
        "## Explorer format ingest (bench/ingest.py --etherscan)",
        "",
        f"Command: `.venv/bin/python bench/ingest.py --etherscan --transfers {args.transfers} --files {args.files}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        f"(shared with other jobs), Python {platform.python_version()}",
        f"Input: {n:,} transfers (half native, half one ERC-20) as {n_files} saved API responses (txlist/tokentx of "
        f"{n_files // 2} queried addresses, {rows_in_files:,} rows: 10 % of transfers are in two addresses' files) "
        "and the same transfers as one flat ethereum-etl directory",
        "",
        "| run | seconds | transfers stored | transfers/s | peak RSS |",
        "|---|---:|---:|---:|---:|",
        f"| chain ingest --format etherscan ({n_files} files, {stats['etherscan']['batches']} batch(es)) | {ours_s:.1f} | "
        f"{stored['etherscan']:,} | {stored['etherscan'] / ours_s:,.0f} | {ours_rss / 2**30:.2f} GiB |",
        f"| chain ingest --format etl (baseline, 1 batch) | {etl_s:.1f} | {stored['etl']:,} | "
        f"{stored['etl'] / etl_s:,.0f} | {etl_rss / 2**30:.2f} GiB |",
        "",
        f"Ratio etherscan/etl time: **{ours_s / etl_s:.2f}x**. Both stores hold the same {stored['etl']:,} transfers "
        "(checked: " + ("equal" if stored["etl"] == stored["etherscan"] == n else "NOT EQUAL") + ").",
        "The explorer path parses and checks every row in Python (json, per-row validation, exact integers) and",
        "writes it as ethereum-etl CSV before the same set-based ingest: under cProfile at 50,000 transfers about",
        "60 % of its time is reading and converting rows (json + explorer.from_api), a fifth the set-based ingest,",
        "under a tenth writing the CSV.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    replace_section(args.results, "## Explorer format ingest", text)
    shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    if "--etherscan" in sys.argv:
        sys.argv.remove("--etherscan")
        explorer_main()
    else:
        main()
