"""Ingest speed per chain against DuckDB's bare read -> Parquet of the same files, in the same run.

    .venv/bin/python bench/chains_ingest.py [--transfers 1000000] [--tron-transfers 300000] [--chains bsc,tron]
        [--repeat 2]

EVM chains: one ethereum-etl export (tests/chain/synthetic_etl.py) ingested as each chain of the family;
the ceiling is DuckDB read_csv -> Parquet of the same CSVs (as bench/ingest.py). Tron: a java-tron
full-node dump (`getblockbylimitnext` pages + `gettransactioninfobyblocknum` lists; half TRX
transfers, half USDT TRC-20 transfers with their Transfer logs); the ceiling is DuckDB read_json ->
Parquet of the same JSON files. Every run is a child process timed on the wall clock, ceiling and
ingest back to back per chain, so the ratio holds under a shared machine's load.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from bench.ingest import CEILING as CSV_CEILING  # noqa: E402  (the same ceiling as bench/ingest.py)
from bench.ingest import replace_section, run_child  # noqa: E402

JSON_CEILING = """
import glob, sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar=false")
con.execute("SET memory_limit='2GB'")
blocks = sorted(glob.glob(f"{src}/blocks-????????.json"))
infos = sorted(glob.glob(f"{src}/blocks-*-info.json"))
con.execute(f"COPY (SELECT * FROM read_json({blocks!r}, maximum_object_size=67108864)) "
            f"TO '{out}/blocks.parquet' (FORMAT parquet, COMPRESSION zstd)")
con.execute(f"COPY (SELECT * FROM read_json({infos!r}, maximum_object_size=67108864)) "
            f"TO '{out}/infos.parquet' (FORMAT parquet, COMPRESSION zstd)")
"""


def write_tron_dump(out: Path, transfers: int, addresses: int = 100_000, per_block: int = 50,
                    blocks_per_file: int = 100) -> int:
    """A full-node dump of `transfers` moves in pages of 100 blocks (getblockbylimitnext's limit); returns the
    bytes written."""
    import hashlib
    import random

    import orjson

    from trilateral.core.chains import TETHER_TRON, tron_to_hex

    rnd = random.Random(7)
    pool = ["41" + hashlib.sha256(f"a{i}".encode()).hexdigest()[:40] for i in range(addresses)]
    usdt = "41" + tron_to_hex(TETHER_TRON)[2:]
    topic = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    out.mkdir(parents=True, exist_ok=True)
    n_blocks = -(-transfers // per_block)
    size = 0
    i = 0
    for lo in range(1, n_blocks + 1, blocks_per_file):
        blocks, infos = [], []
        for b in range(lo, min(n_blocks, lo + blocks_per_file - 1) + 1):
            ms = 1_700_000_000_000 + 3000 * b
            txs = []
            for _ in range(per_block):
                if i >= transfers:
                    break
                tid = hashlib.sha256(f"t{i}".encode()).hexdigest()
                frm, to = pool[rnd.randrange(addresses)], pool[rnd.randrange(addresses)]
                if i % 2:
                    value = rnd.randrange(1, 10**12)
                    data = "a9059cbb" + to[2:].rjust(64, "0") + f"{value:064x}"
                    c = {"type": "TriggerSmartContract", "parameter": {"value": {
                        "data": data, "owner_address": frm, "contract_address": usdt},
                        "type_url": "type.googleapis.com/protocol.TriggerSmartContract"}}
                    infos.append({"id": tid, "fee": 345000, "blockNumber": b, "blockTimeStamp": ms,
                                  "contractResult": [""], "contract_address": usdt,
                                  "receipt": {"energy_usage_total": 14650, "net_usage": 345, "result": "SUCCESS"},
                                  "log": [{"address": usdt[2:], "topics": [topic, frm[2:].rjust(64, "0"),
                                                                           to[2:].rjust(64, "0")],
                                           "data": f"{value:064x}"}]})
                else:
                    c = {"type": "TransferContract", "parameter": {"value": {
                        "amount": rnd.randrange(1, 10**10), "owner_address": frm, "to_address": to},
                        "type_url": "type.googleapis.com/protocol.TransferContract"}}
                txs.append({"ret": [{"contractRet": "SUCCESS"}], "signature": ["00" * 65], "txID": tid,
                            "raw_data": {"contract": [c], "ref_block_bytes": "0000", "ref_block_hash": "00" * 8,
                                         "expiration": ms + 60_000, "timestamp": ms},
                            "raw_data_hex": "00"})
                i += 1
            blocks.append({"blockID": f"{b:016x}" + "0" * 48, "block_header": {"raw_data": {
                "number": b, "txTrieRoot": "00" * 32, "witness_address": pool[0], "parentHash": "00" * 32,
                "version": 30, "timestamp": ms}, "witness_signature": "00" * 65}, "transactions": txs})
        for name, doc in ((f"blocks-{lo:08d}.json", {"block": blocks}), (f"blocks-{lo:08d}-info.json", infos)):
            data = orjson.dumps(doc)
            (out / name).write_bytes(data)
            size += len(data)
    return size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", type=int, default=1_000_000, help="EVM export size")
    ap.add_argument("--tron-transfers", type=int, default=300_000)
    ap.add_argument("--chains", default="bsc,polygon,arbitrum,optimism,base,avalanche,tron")
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs of each")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/trilateral-bench-chains"))
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "RESULTS-chains.md")
    args = ap.parse_args()
    chains = [c.strip() for c in args.chains.split(",") if c.strip()]
    shutil.rmtree(args.workdir, ignore_errors=True)
    etl, tron = args.workdir / "etl", args.workdir / "tron"
    if any(c != "tron" for c in chains):
        from tests.chain.synthetic_etl import generate_etl

        generate_etl(etl, args.transfers, addresses=200_000)
    if "tron" in chains:
        tron_bytes = write_tron_dump(tron, args.tron_transfers)
    rows = []
    for chain in chains:
        src, fmt = (tron, "tron-node") if chain == "tron" else (etl, "etl")
        ceil_s = ours_s = float("inf")
        rss = 0
        home = args.workdir / f"home-{chain}"
        for _ in range(args.repeat):  # best of N, ceiling and ingest back to back: load on a shared box
            ceiling_out = args.workdir / "ceiling"
            shutil.rmtree(ceiling_out, ignore_errors=True)
            ceiling_out.mkdir(parents=True)
            ceil_s = min(ceil_s, run_child([sys.executable, "-c", JSON_CEILING if chain == "tron" else CSV_CEILING,
                                            str(src), str(ceiling_out)])[0])
            shutil.rmtree(home, ignore_errors=True)
            env = {**os.environ, "TRILATERAL_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
            wall, peak = run_child([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", chain,
                                    "--format", fmt, str(src)], env)
            ours_s, rss = min(ours_s, wall), max(rss, peak)
        from trilateral.chain import ChainStore

        stored = ChainStore(home / "chain").stats()["chains"][chain]["transfers"]
        rows.append((chain, fmt, stored, ours_s, ceil_s, rss))
        print(f"{chain}: {stored:,} transfers, ingest {ours_s:.1f} s, ceiling {ceil_s:.1f} s, "
              f"ratio {ours_s / ceil_s:.2f}x", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    lines = ["## Ingest per chain (bench/chains_ingest.py)", "",
             f"Command: `.venv/bin/python bench/chains_ingest.py --transfers {args.transfers} "
             f"--tron-transfers {args.tron_transfers} --chains {args.chains} --repeat {args.repeat}` "
             "(best of N for each)",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
             f"(shared), Python {platform.python_version()}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             "EVM: one ethereum-etl export ingested as each chain; ceiling DuckDB read_csv -> Parquet."
             + (f" Tron: node dump, {tron_bytes / 2**20:.0f} MiB JSON; ceiling DuckDB read_json -> Parquet."
                if "tron" in chains else ""),
             "", "| chain | format | transfers | ingest s | ceiling s | ratio | peak RSS |", "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {c} | {f} | {n:,} | {o:.1f} | {k:.1f} | **{o / k:.2f}x** | {r / 2**30:.2f} GiB |"
              for c, f, n, o, k, r in rows]
    lines += ["", "Goal: within 2x of the ceiling, as for Ethereum (bench/ingest.py).", ""]
    text = "\n".join(lines)
    print(text)
    replace_section(args.results, "## Ingest per chain (bench/chains_ingest.py)", text)
    shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
