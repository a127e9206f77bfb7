"""Trace speed on lazarus-bridge-hack, against the same haircut written plainly on networkx and as a
DuckDB SQL iteration, in the same run, checking that all three agree on the findings.

    .venv/bin/python bench/trace_speed.py --transfers 1000000,10000000

Comparable problem for the three: the Ethereum side (swaps carried across assets, exchange hot
wallets and deposit addresses as off-ramps, mixers and bridges as sinks). Trilateral runs with
mixer links switched off for the comparison, and once more in full (all chains) for its own time.
networkx: exact integer haircut over every transfer of the window in time order (no pruning).
DuckDB: hop-wise fixpoint of whole-window haircut fractions (SQL UPDATE rounds, DOUBLE fractions).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import duckdb
import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trace_accuracy import generate, load, sim_labels  # noqa: E402
from trilateral.chain import ChainStore  # noqa: E402
from trilateral.core.amount import join_amount  # noqa: E402
from trilateral.trace import TraceOptions, Tracer, build_findings  # noqa: E402
from trilateral.trace.roles import infer_deposit_addresses, role_from_labels  # noqa: E402
from trilateral.trace.taint import HaircutLedger, Taint, fresh_taint  # noqa: E402


def window_rows(store: ChainStore, since: int):
    files = store.files("ethereum", "transfers")
    con = duckdb.connect()
    t = con.sql(f"SELECT timestamp, block_number, tx_index, log_index, tx_hash, from_id, to_id, asset_id, amount_hi, "
                f"amount_lo FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {since} "
                "ORDER BY block_number, tx_index, CASE WHEN log_index = -1 THEN 0 WHEN log_index < -1 THEN 1 ELSE 2 END, "
                "abs(log_index)").to_arrow_table()
    con.close()
    return t


def roles_for(store: ChainStore, labels, ids: list[int]) -> dict[int, str]:
    texts = store.addresses("ethereum", ids)
    out = {}
    for i, ls in zip(ids, labels.lookup("ethereum", texts), strict=True):
        r = role_from_labels(ls)
        if r is not None:
            out[i] = r
    return out


def networkx_haircut(store, labels, seeds_tx: set[str]) -> tuple[dict, float]:
    """Plain: every transfer of the window into a networkx MultiDiGraph, then one exact haircut pass
    over its edges in time order."""
    t0 = time.perf_counter()
    first = min(int(r["timestamp"]) for r in _seed_rows(store, seeds_tx))
    table = window_rows(store, first)
    g = nx.MultiDiGraph()
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    for k in range(table.num_rows):
        g.add_edge(cols["from_id"][k], cols["to_id"][k], key=k, ts=cols["timestamp"][k], tx=cols["tx_hash"][k],
                   asset=cols["asset_id"][k], amount=join_amount(cols["amount_hi"][k], cols["amount_lo"][k]))
    roles = roles_for(store, labels, sorted(g.nodes))
    outflows, first_in = defaultdict(list), {}
    for u, v, d in g.edges(data=True):
        if d["amount"] > 0:
            outflows[u].append((d["ts"], v, d["amount"]))
            first_in[v] = min(first_in.get(v, d["ts"]), d["ts"])
    seed_senders = {u for u, v, d in g.edges(data=True) if d["tx"] in seeds_tx}
    roles.update(infer_deposit_addresses(outflows, first_in, roles, seed_senders, {}))
    books: dict = defaultdict(HaircutLedger)
    credits: dict = defaultdict(int)
    edges = sorted(g.edges(keys=True, data=True), key=lambda e: e[2])  # key = row order = time order
    by_tx = defaultdict(list)
    for e in edges:
        by_tx[e[3]["tx"]].append(e)
    for tx in dict.fromkeys(e[3]["tx"] for e in edges):
        group = by_tx[tx]
        dex = [e for e in group if getattr(roles.get(e[0]), "kind", None) == "dex"
               or getattr(roles.get(e[1]), "kind", None) == "dex"]
        if dex:
            ins = [e for e in group if getattr(roles.get(e[1]), "kind", None) == "dex"
                   and getattr(roles.get(e[0]), "kind", None) != "dex"]
            outs = [e for e in group if getattr(roles.get(e[0]), "kind", None) == "dex"
                    and getattr(roles.get(e[1]), "kind", None) != "dex"]
            per_asset = defaultdict(lambda: [0, 0])
            for u, _, _, d in ins:
                t = fresh_taint(d["amount"]) if tx in seeds_tx else (
                    books[(u, d["asset"])].send(d["amount"]) if u not in roles else Taint())
                per_asset[d["asset"]][0] += t.amount
                per_asset[d["asset"]][1] += d["amount"]
            fracs = [Fraction(t, a or 1) for t, a in per_asset.values()]
            frac = sum(fracs, Fraction(0)) / len(fracs) if fracs else Fraction(0)
            for _, v, _, d in outs:
                share = d["amount"] * frac.numerator // frac.denominator
                _deliver(books, credits, roles, v, d["asset"], d["amount"], share)
            rest = [e for e in group if e not in ins and e not in outs and e not in dex]
        else:
            rest = group
        for u, v, _, d in rest:
            if tx in seeds_tx:
                taint = d["amount"]
                if u not in roles:
                    books[(u, d["asset"])].send(d["amount"])
            elif u in roles:
                taint = 0
            else:
                taint = books[(u, d["asset"])].send(d["amount"]).amount
            _deliver(books, credits, roles, v, d["asset"], d["amount"], taint)
    return {k: v for k, v in credits.items() if v}, time.perf_counter() - t0


def _deliver(books, credits, roles, v, asset, amount, taint):
    role = roles.get(v)
    if role is None:
        books[(v, asset)].receive(amount, fresh_taint(taint) if taint else Taint())
    elif role.kind in ("exchange", "deposit") and taint:
        credits[(v, asset)] += taint


def _seed_rows(store, seeds_tx):
    files = store.files("ethereum", "transfers")
    con = duckdb.connect()
    rows = con.execute(f"SELECT timestamp FROM read_parquet({json.dumps(files)}) WHERE tx_hash IN "
                       f"({','.join(repr(s) for s in seeds_tx)})").fetchall()
    con.close()
    return [{"timestamp": r[0]} for r in rows]


def duckdb_haircut(store, labels, seeds_tx: set[str], roles_hint: dict[int, object]) -> tuple[dict, float]:
    """Hop-wise fixpoint in SQL: taint(a, asset) = seed value + Σ inflow x fraction(sender), where
    fraction(sender) = taint / all inflow of the sender over the window; DEX transactions add
    virtual edges from the swap's sender to its recipients carrying the input asset's fraction."""
    t0 = time.perf_counter()
    files = store.files("ethereum", "transfers")
    con = duckdb.connect()
    first = min(int(r["timestamp"]) for r in _seed_rows(store, seeds_tx))
    con.sql(f"CREATE TABLE t AS SELECT timestamp ts, tx_hash tx, from_id src, to_id dst, asset_id asset, "
            "CAST(amount_hi AS DOUBLE) * 18446744073709551616.0 + CAST(amount_lo AS DOUBLE) AS amount "
            f"FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {first}")
    kinds = [(i, r.kind) for i, r in roles_hint.items()]
    con.sql("CREATE TABLE roles(id BIGINT, kind VARCHAR)")
    if kinds:
        con.executemany("INSERT INTO roles VALUES (?, ?)", kinds)
    con.sql(f"CREATE TABLE seeds AS SELECT dst AS id, asset, sum(amount) AS v FROM t WHERE tx IN "
            f"({','.join(repr(s) for s in seeds_tx)}) GROUP BY ALL")
    # edges: plain transfers from unlabelled senders, plus swap edges sender -> recipient through a DEX
    con.sql("""CREATE TABLE e AS
        SELECT src, asset AS src_asset, dst, asset AS dst_asset, amount AS in_amount, amount AS out_amount
        FROM t WHERE src NOT IN (SELECT id FROM roles)
          AND dst NOT IN (SELECT id FROM roles WHERE kind = 'dex')
        UNION ALL
        SELECT i.src, i.asset, o.dst, o.asset, i.amount, o.amount
        FROM t i JOIN t o ON i.tx = o.tx
        WHERE i.dst IN (SELECT id FROM roles WHERE kind = 'dex') AND i.src NOT IN (SELECT id FROM roles)
          AND o.src IN (SELECT id FROM roles WHERE kind = 'dex') AND o.dst NOT IN (SELECT id FROM roles WHERE kind = 'dex')""")
    con.sql("CREATE TABLE inflow AS SELECT dst AS id, asset, sum(amount) AS b FROM t GROUP BY ALL")
    con.sql("CREATE TABLE outflow AS SELECT src AS id, asset, sum(amount) AS o FROM t GROUP BY ALL")
    con.sql("CREATE TABLE taint AS SELECT id, asset, v AS tv FROM seeds")
    for _ in range(200):
        before = con.execute("SELECT coalesce(sum(tv), 0) FROM taint").fetchall()[0][0]
        con.sql("""CREATE OR REPLACE TABLE frac AS
            SELECT x.id, x.asset, least(1.0, x.tv / greatest(coalesce(i.b, 0), coalesce(o.o, 0), x.tv)) AS f
            FROM taint x LEFT JOIN inflow i USING (id, asset) LEFT JOIN outflow o USING (id, asset)
            WHERE x.id NOT IN (SELECT id FROM roles)""")
        con.sql("""CREATE OR REPLACE TABLE taint AS
            SELECT id, asset, sum(tv) AS tv FROM (
              SELECT id, asset, v AS tv FROM seeds
              UNION ALL
              SELECT e.dst AS id, e.dst_asset AS asset, e.out_amount * f.f AS tv
              FROM e JOIN frac f ON e.src = f.id AND e.src_asset = f.asset) GROUP BY ALL""")
        after = con.execute("SELECT coalesce(sum(tv), 0) FROM taint").fetchall()[0][0]
        if abs(after - before) <= 1e-9 * max(after, 1.0):
            break
    credits = con.execute("SELECT id, asset, tv FROM taint WHERE id IN (SELECT id FROM roles WHERE kind IN "
                          "('exchange', 'deposit')) AND tv > 0").fetchall()
    con.close()
    return {(i, a): v for i, a, v in credits}, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfers", default="1000000,10000000")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="/tmp/trace_speed")
    ap.add_argument("--skip-baselines-above", type=int, default=10_000_000)
    ap.add_argument("--networkx-max", type=int, default=10_000_000, help="largest size networkx is run at")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed Trilateral traces per size up to 10M (the median is reported; 1 above)")
    ap.add_argument("--partition-transfers", type=int, default=5_000_000,
                    help="sizes above this are generated in ethereum-etl partitions of about this many transfers")
    ap.add_argument("--drop-sources", action="store_true",
                    help="delete the simulator's chain files once ingested (100M: ~55 GB of CSV)")
    ap.add_argument("--dust", type=float, default=1e-5, help="dust_fraction of the comparison trace")
    args = ap.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()}"
          f" cores, python {platform.python_version()}")
    for n in [int(x) for x in args.transfers.split(",")]:
        work = Path(args.work) / f"n{n}"
        out, chain_dir = work / "sim", work / "chain"
        if not (chain_dir / "ethereum" / "_manifest.json").exists():
            t = time.perf_counter()
            # ~830 transfers a block: partitions keep ingest memory and DuckDB spill bounded at 100M
            parts = 6_000 * args.partition_transfers // 5_000_000 if n > args.partition_transfers else None
            generate("lazarus-bridge-hack", n, args.seed, out, parts)
            load(out, chain_dir)
            if args.drop_sources:
                for chain in ("ethereum", "bitcoin", "thorchain"):
                    shutil.rmtree(out / chain, ignore_errors=True)
            print(f"{n:>11,} transfers: generated and ingested in {time.perf_counter() - t:.0f} s", flush=True)
        truth = json.loads((out / "ground_truth.json").read_text())
        labels = sim_labels(out)
        seeds = sorted({s["tx_hash"] for s in truth["seeds"] if s["chain"] == "ethereum"})
        store = ChainStore(chain_dir)
        Tracer(store, labels).trace("ethereum", seeds, TraceOptions(policy="haircut"))  # warm: numba cache, OS cache
        full_times, cmp_times = [], []
        for _ in range(args.repeat if n <= 10_000_000 else 1):
            t = time.perf_counter()
            full = Tracer(store, labels).trace("ethereum", seeds, TraceOptions(policy="haircut"))
            full_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            cmp = Tracer(store, labels).trace("ethereum", seeds, TraceOptions(
                policy="haircut", mixer_min_confidence=2.0, dust_fraction=args.dust))
            cmp_times.append(time.perf_counter() - t)
        full_s, cmp_s = float(np.median(full_times)), float(np.median(cmp_times))
        mine = {(o["address"], o["asset"]): int(o["amount_base_units"]) for o in build_findings(cmp)["offramps"]
                if o["chain"] == "ethereum"}
        print(f"{n:>11,} transfers: trilateral full trace {full_s:.2f} s (graph load included; "
              f"{full.transfers_scanned:,} rows scanned, {full.subgraph_transfers:,} in the subgraph, "
              f"{len(build_findings(full)['offramps'])} off-ramps); comparison trace {cmp_s:.2f} s "
              f"(median of {len(cmp_times)}: {', '.join(f'{x:.2f}' for x in cmp_times)}); "
              f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB", flush=True)
        if n > args.skip_baselines_above:
            print(f"{n:>11,} transfers: baselines skipped (above --skip-baselines-above)")
            continue
        symbols = dict(zip(store.assets("ethereum").column("asset_id").to_pylist(),
                           store.assets("ethereum").column("symbol").to_pylist(), strict=True))
        roles_hint = dict(_all_roles(store, labels))
        sql_credits, sql_s = duckdb_haircut(store, labels, set(seeds), {**roles_hint, **_deposits(cmp, store)})
        sql = _named(store, symbols, sql_credits)
        print(f"{n:>11,} transfers: DuckDB SQL {sql_s:.2f} s ({sql_s / cmp_s:.1f}x trilateral); "
              + agreement(mine, {k: int(v) for k, v in sql.items()}, "DuckDB"), flush=True)
        if n > args.networkx_max:
            print(f"{n:>11,} transfers: networkx skipped (above --networkx-max)")
            continue
        nx_credits, nx_s = networkx_haircut(store, labels, set(seeds))
        theirs = _named(store, symbols, nx_credits)
        print(f"{n:>11,} transfers: networkx {nx_s:.2f} s ({nx_s / cmp_s:.1f}x trilateral); "
              + agreement(mine, theirs, "networkx"), flush=True)


def _named(store, symbols, credits: dict) -> dict:
    ids = sorted({a for a, _ in credits})
    names = dict(zip(ids, store.addresses("ethereum", ids), strict=True))
    return {(names[a], symbols[s]): v for (a, s), v in credits.items()}


def _all_roles(store, labels) -> dict[int, object]:
    n = int(store.stats()["chains"]["ethereum"]["addresses"])
    out = {}
    step = 200_000
    for lo in range(0, n, step):
        out.update(roles_for(store, labels, list(range(lo, min(n, lo + step)))))
    return out


def _deposits(result, store) -> dict[int, object]:
    deps = {addr: role for (chain, addr), role in result.roles.items() if chain == "ethereum" and role.kind == "deposit"}
    ids = store.address_ids("ethereum", list(deps)).tolist()
    return dict(zip(ids, deps.values(), strict=True))


def agreement(a: dict, b: dict, name: str) -> str:
    keys = set(a) | set(b)
    total = sum(a.values()) or 1
    diff = sum(abs(a.get(k, 0) - b.get(k, 0)) for k in keys)
    same_set = {k for k, v in a.items() if v} == {k for k, v in b.items() if v}
    exact = sum(1 for k in keys if a.get(k, 0) == b.get(k, 0))
    worst = sorted(keys, key=lambda k: -abs(a.get(k, 0) - b.get(k, 0)))[:2]
    if "--verbose" in sys.argv:
        print(f"  {name} largest differences:", [(k, a.get(k, 0), b.get(k, 0)) for k in worst])
    material = {k for k, v in a.items() if v >= total * 1e-4} == {k for k, v in b.items() if v >= total * 1e-4}
    return (f"{name}: same off-ramps above 0.01% of value {material}; " f"{name}: same off-ramps {same_set}, {exact}/{len(keys)} amounts identical, "
            f"value difference {diff / total:.2e} of trilateral's total")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
