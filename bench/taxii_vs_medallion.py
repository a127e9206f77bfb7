"""TAXII 2.1 speed: Trilateral (SQLite, PostgreSQL) against medallion 3.0 (memory backend), same client.

    .venv/bin/python bench/taxii_vs_medallion.py [--objects 5000] [--large 100000] [--pg-url URL]

One workload, driven by taxii2-client on loopback: POST N indicators in bundles of 1,000, page
through all of them with limit=1000, then 1,000 match[id] look-ups. Medallion runs all three phases
only at the small size (its memory backend is quadratic: DESIGN.md section 6); with
`--medallion-large` it is then filled to `--large` (the POST phase of the issue's workload, 100,000)
and a few look-ups are timed there. Trilateral runs the workload again alone at `--large`, and its
page latency is measured with 10,000 and with `--large` objects stored.
PostgreSQL runs when --pg-url or TRILATERAL_TEST_DATABASE_URL is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from taxii2client.v21 import Collection, as_pages

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taxii_servers import RunningServer, create_pg_database, drop_pg_database, medallion, trilateral  # noqa: E402

BUNDLE = 1000
PAGE = 1000
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def indicators(start: int, count: int) -> list[dict]:
    """`count` STIX 2.1 indicators of wallet addresses, numbered from `start` (TLP:GREEN)."""
    out = []
    for n in range(start, start + count):
        stamp = f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n // 60) % 60:02d}.000Z"
        out.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                    "created": stamp, "modified": stamp, "name": f"wallet {n}", "pattern_type": "stix",
                    "pattern": f"[cryptocurrency-wallet:address = '0x{n:040x}']", "valid_from": stamp,
                    "object_marking_refs": [GREEN]})
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def phase(name: str, objects: int, seconds: float, latencies: list[float]) -> dict:
    return {"phase": name, "objects": objects, "seconds": seconds, "rate": objects / seconds if seconds else 0.0,
            "p50_ms": pct(latencies, 0.5) * 1000, "p99_ms": pct(latencies, 0.99) * 1000, "requests": len(latencies)}


def collection_of(server: RunningServer) -> Collection:
    return Collection(server.collection_url, user=server.user, password=server.password)


def post_all(collection: Collection, objects: list[dict]) -> dict:
    latencies = []
    start = time.perf_counter()
    for i in range(0, len(objects), BUNDLE):
        t = time.perf_counter()
        status = collection.add_objects({"objects": objects[i:i + BUNDLE]}, wait_for_completion=False)
        latencies.append(time.perf_counter() - t)
        if status.failure_count:
            raise RuntimeError(f"POST failed for {status.failure_count} objects: {status.failures[:2]}")
    return phase("POST", len(objects), time.perf_counter() - start, latencies)


def page_all(collection: Collection, expected: int) -> dict:
    latencies, seen = [], 0
    start = time.perf_counter()
    t = time.perf_counter()
    for envelope in as_pages(collection.get_objects, per_request=PAGE):
        latencies.append(time.perf_counter() - t)
        seen += len(envelope.get("objects", []))
        t = time.perf_counter()
    elapsed = time.perf_counter() - start
    if seen < expected:
        raise RuntimeError(f"paging returned {seen} objects, expected at least {expected}")
    return phase("page", seen, elapsed, latencies)


def lookups(collection: Collection, ids: list[str], count: int) -> dict:
    rng = random.Random(7)
    chosen = [rng.choice(ids) for _ in range(count)]
    latencies = []
    start = time.perf_counter()
    for object_id in chosen:
        t = time.perf_counter()
        got = collection.get_objects(id=object_id)
        latencies.append(time.perf_counter() - t)
        if [o["id"] for o in got.get("objects", [])] != [object_id]:
            raise RuntimeError(f"look-up of {object_id} returned {got}")
    return phase("match[id]", count, time.perf_counter() - start, latencies)


def workload(server: RunningServer, n: int, n_lookups: int) -> list[dict]:
    collection = collection_of(server)
    objects = indicators(0, n)
    results = [post_all(collection, objects), page_all(collection, n),
               lookups(collection, [o["id"] for o in objects], n_lookups)]
    for r in results:
        r["server"], r["stored"] = server.name, n
    return results


def medallion_fill(server: RunningServer, head: list[dict], small: int, n: int, n_lookups: int) -> list[dict]:
    """Carry on POSTing into medallion (holding `small` from the head-to-head run) until it holds `n`,
    the issue's workload; its POST phase is the whole fill (0 -> n), as for Trilateral's large run.
    Its memory backend compares every new object with every stored one, so each bundle costs more
    than the last. Paging is not run at `n`: its first page already took minutes at 5,000."""
    collection = collection_of(server)
    rest = indicators(small, n - small)
    post_rest = post_all(collection, rest)
    total = phase("POST", n, head[0]["seconds"] + post_rest["seconds"], [])
    total["p50_ms"], total["p99_ms"] = post_rest["p50_ms"], post_rest["p99_ms"]
    out = [total]
    if n_lookups:
        out.append(lookups(collection, [o["id"] for o in rest], n_lookups))
    for r in out:
        r["server"], r["stored"] = server.name, n
    return out


def large_run(server: RunningServer, n: int, n_lookups: int, small: int = 10_000) -> list[dict]:
    """Load `small`, measure paging; load up to `n`, measure everything again (page latency flatness)."""
    collection = collection_of(server)
    first = indicators(0, small)
    rest = indicators(small, n - small)
    post_small = post_all(collection, first)
    page_small = page_all(collection, small)
    post_rest = post_all(collection, rest)
    page_large = page_all(collection, n)
    look = lookups(collection, [o["id"] for o in first + rest], n_lookups)
    total_post = phase("POST", n, post_small["seconds"] + post_rest["seconds"], [])
    total_post["p50_ms"], total_post["p99_ms"] = post_rest["p50_ms"], post_rest["p99_ms"]
    out = []
    for r, stored in ((total_post, n), (page_small, small), (page_large, n), (look, n)):
        r["server"], r["stored"] = server.name, stored
        out.append(r)
    return out


def rate_text(rate: float) -> str:
    """Whole numbers, but two decimals below 10 per second (medallion's look-ups at 100,000: 0.11/s)."""
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"


def print_table(rows: list[dict]) -> None:
    print(f"{'server':<22}{'stored':>10} {'phase':<10}{'obj/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}")
    for r in rows:
        print(f"{r['server']:<22}{r['stored']:>10,} {r['phase']:<10}{rate_text(r['rate']):>12}{r['p50_ms']:>10.1f}"
              f"{r['p99_ms']:>10.1f}{r['requests']:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=5000, help="size of the head-to-head run (<= 5,000)")
    parser.add_argument("--large", type=int, default=100_000, help="Trilateral-only size (0 to skip)")
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--medallion-lookups", type=int, default=None,
                        help="look-ups against medallion (default --lookups; each takes ~1 s at 5,000)")
    parser.add_argument("--medallion-large", action="store_true",
                        help="also fill medallion to --large objects (POST phase, the issue's workload) and "
                             "time --medallion-large-lookups look-ups there")
    parser.add_argument("--medallion-large-lookups", type=int, default=20)
    parser.add_argument("--pg-url", default=os.environ.get("TRILATERAL_TEST_DATABASE_URL"))
    parser.add_argument("--skip-medallion", action="store_true")
    parser.add_argument("--large-sqlite-only", action="store_true", help="run --large on SQLite only")
    args = parser.parse_args()

    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"{platform.platform()}")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="taxii-bench-") as tmp:
        work = Path(tmp)
        backends: list[tuple[str, str | None]] = [("trilateral-sqlite", None)]
        pg_urls: list[str] = []
        if args.pg_url:
            url = create_pg_database(args.pg_url)
            pg_urls.append(url)
            backends.append(("trilateral-postgres", url))
        try:
            head: dict[str, list[dict]] = {}
            medallion_large: list[dict] = []
            if not args.skip_medallion:
                (work / "medallion").mkdir()
                with medallion(work / "medallion") as server:
                    head["medallion"] = workload(server, args.objects, args.medallion_lookups or args.lookups)
                    rows += head["medallion"]
                    print_table(head["medallion"])
                    if args.medallion_large and args.large > args.objects:
                        medallion_large = medallion_fill(server, head["medallion"], args.objects, args.large,
                                                         args.medallion_large_lookups)
                        rows += medallion_large
                        print(f"\nmedallion filled to {args.large:,} objects:")
                        print_table(medallion_large)
            for name, url in backends:
                (work / f"{name}-small").mkdir()
                small_url = url
                if url:
                    small_url = create_pg_database(args.pg_url)
                    pg_urls.append(small_url)
                with trilateral(work / f"{name}-small", small_url, name) as server:
                    head[name] = workload(server, args.objects, args.lookups)
                    rows += head[name]
                    print_table(head[name])
            if "medallion" in head:
                print(f"\nratio Trilateral / medallion at {args.objects:,} objects (higher is better):")
                for name in (n for n in head if n != "medallion"):
                    for ours, theirs in zip(head[name], head["medallion"], strict=True):
                        print(f"  {name:<22}{ours['phase']:<10} x{ours['rate'] / theirs['rate']:.1f} "
                              f"(p50 {theirs['p50_ms']:.1f} -> {ours['p50_ms']:.1f} ms)")
            if args.large:
                for name, url in backends[:1] if args.large_sqlite_only else backends:
                    (work / f"{name}-large").mkdir()
                    with trilateral(work / f"{name}-large", url, name) as server:
                        large = large_run(server, args.large, args.lookups)
                    rows += large
                    print(f"\n{name} alone at {args.large:,} objects:")
                    print_table(large)
                    small_p50, large_p50 = large[1]["p50_ms"], large[2]["p50_ms"]
                    print(f"  page p50 with {large[1]['stored']:,} stored: {small_p50:.1f} ms; with "
                          f"{args.large:,} stored: {large_p50:.1f} ms; ratio {large_p50 / small_p50:.2f} "
                          "(goal <= 2)")
                    if medallion_large:
                        theirs = {r["phase"]: r for r in medallion_large}
                        print(f"  ratio to medallion at {args.large:,} (the issue's workload):")
                        for ours in (large[0], large[3]):
                            if ours["phase"] in theirs:
                                print(f"    {ours['phase']:<10} x{ours['rate'] / theirs[ours['phase']]['rate']:.1f} "
                                      f"({rate_text(theirs[ours['phase']]['rate'])} -> {rate_text(ours['rate'])} per s)")
        finally:
            for url in pg_urls:
                drop_pg_database(args.pg_url, url)
    print("\ntargets: POST >= 10,000 obj/s, paging >= 50,000 obj/s, look-ups >= 2,000/s; >= 5x medallion")


if __name__ == "__main__":
    main()
