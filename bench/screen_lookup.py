"""Screening against the hub's indicators: indexed look-up vs the old scan, to 1,000,000 stored.

    .venv/bin/python bench/screen_lookup.py [--stored 1000000] [--baseline 20000] [--calls 60] [--db both]

Setup bulk-loads wallet indicators straight into the hub tables (rows exactly as `hub.submit` writes
them, with their observables; the load is not what is measured). TLP cycles GREEN, AMBER,
AMBER+STRICT, RED over submitters US, JP and their clients; the reader is KR (a member: it reads all
but RED). Each call screens 10 addresses: 6 stored (so some RED ones it must not see) and 4 unknown,
and the answer is checked against the policy. Measured per database:
  - in process, `Screener.screen` with the caller's hub intel: the indexed path at `--baseline` and at
    `--stored`; the old path (page through every readable indicator, then a dict) at `--baseline`,
    in the same run, and the ratio;
  - over HTTP, POST /api/v1/screen/ to a real `trilateral serve` at `--stored`: p50 and p95.
PostgreSQL: TRILATERAL_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
a scratch database created and dropped.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from correlation import _insert, fix_sequences  # noqa: E402
from trilateral.core.settings import Settings  # noqa: E402
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp  # noqa: E402
from trilateral.hub import Hub  # noqa: E402
from trilateral.hub.database import create_scratch_database, drop_scratch_database  # noqa: E402

SUBMITTERS = [("US", "US"), ("JP", "JP"), ("US-BANK", "US"), ("JP-EX", "JP")]
LEVELS = [Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
T = "2026-01-01T00:00:00.000Z"


def wallet(i: int) -> str:
    return "0x" + f"{i:040x}"


def indicator(i: int, tlp: Tlp) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=i + 1)}", "created": T,
            "modified": T, "name": f"wallet {i}", "pattern": f"[cryptocurrency-wallet:address = '{wallet(i)}']",
            "pattern_type": "stix", "valid_from": T, "object_marking_refs": [TLP2_MARKING_IDS[tlp]]}


def bulk_load(hub: Hub, start: int, stop: int) -> None:
    import sqlalchemy as sa

    base_us = 1_767_225_600_000_000
    for lo in range(start, stop, 50_000):
        hi = min(stop, lo + 50_000)
        with hub.engine.connect() as conn:
            seq0 = conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM objects")).scalar()
            obs0 = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM observables")).scalar()
        obj_rows, obs_rows = [], []
        for i in range(lo, hi):
            code, member = SUBMITTERS[i % len(SUBMITTERS)]
            tlp = LEVELS[i % len(LEVELS)]
            seq = seq0 + 1 + i - lo
            obj_rows.append((seq, "shared", f"indicator--{uuid.UUID(int=i + 1)}", "indicator", "2.1", T, base_us,
                             base_us + i, int(tlp), code, member, "0" * 64, None, "bench", None,
                             orjson.dumps(indicator(i, tlp)).decode()))
            obs_rows.append((obs0 + 1 + i - lo, seq, "wallet", wallet(i), member))
        _insert(hub.engine, obj_rows, obs_rows)
        fix_sequences(hub, analyze=False)
    fix_sequences(hub)


def batches(stored: int, calls: int) -> list[list[str]]:
    step = max(1, stored // (calls * 6 + 1))
    out, k = [], 0
    for c in range(calls):
        stored_ones = [wallet((k + j) * step % stored) for j in range(6)]
        k += 6
        out.append(stored_ones + [wallet(stored + 10 * c + j) for j in range(4)])
    return out


def expected_hits(address: str, stored: int) -> int:
    """KR (a member) reads GREEN, AMBER and AMBER+STRICT, not others' RED."""
    i = int(address, 16)
    return int(i < stored and LEVELS[i % len(LEVELS)] != Tlp.RED)


def old_hub_index(hub: Hub, principal) -> dict[str, list[dict]]:
    """The path this replaces: page through every readable indicator and build a dict per call."""
    import re

    pattern = re.compile(r"cryptocurrency-wallet:address\s*=\s*'((?:[^'\\]|\\.)+)'")
    hits: dict[str, list[dict]] = defaultdict(list)
    cursor = None
    while True:
        page = hub.query(principal, collection=None, types=["indicator", "relationship", "intrusion-set"],
                         cursor=cursor)
        for rec in page.records:
            obj = rec.object
            if obj["type"] == "indicator":
                for a in pattern.findall(str(obj.get("pattern", ""))):
                    hits[a.lower()].append({"source": f"hub:{rec.submitted_by}", "entity": obj.get("name"),
                                            "programs": [], "category": "indicator"})
        if not page.more:
            return hits
        cursor = page.next_cursor


def time_calls(fn, calls: list[list[str]], stored: int) -> list[float]:
    out = []
    for batch in calls:
        t0 = time.perf_counter()
        result = fn(batch)
        out.append(time.perf_counter() - t0)
        got = [len(r["hits"]) for r in result]
        assert got == [expected_hits(a, stored) for a in batch], (batch, got)
    return out


def in_process(hub: Hub, settings: Settings, calls: list[list[str]], stored: int, old: bool) -> dict:
    from trilateral.screening.service import Screener

    screener = Screener(settings)
    kr = hub.principal("KR")
    new = time_calls(lambda b: screener.screen(b, chain="ethereum", hub_intel=screener.hub_intel(hub, kr)),
                     calls, stored)
    out = {"new": new}
    if old:
        def old_call(batch: list[str]) -> list[dict]:
            index = old_hub_index(hub, kr)
            return [{"hits": index.get(a, [])} for a in batch]
        out["old"] = time_calls(old_call, calls[:3], stored)
    return out


def over_http(url: str, home: Path, token: str, calls: list[list[str]], stored: int) -> list[float]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_DATABASE_URL=url, TRILATERAL_ACCESS_LOG="off",
               PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/taxii2/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, auth=("KR", token), timeout=120) as client:
            def call(batch: list[str]) -> list[dict]:
                r = client.post("/api/v1/screen/", json={"addresses": batch, "chain": "ethereum"})
                r.raise_for_status()
                return r.json()
            call(calls[0])  # warm-up (imports, label store)
            return time_calls(call, calls, stored)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000


def run(url: str, args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="trilateral-bench-"))
    settings = Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": url})
    with Hub.open(settings) as hub:
        tokens = {p.code: t for p, t in hub.init()}
        hub.add_principal("US-BANK", "Bank", client_of="US")
        hub.add_principal("JP-EX", "Exchange", client_of="JP")
        bulk_load(hub, 0, args.baseline)
        small = in_process(hub, settings, batches(args.baseline, args.calls), args.baseline, old=True)
        t0 = time.perf_counter()
        bulk_load(hub, args.baseline, args.stored)
        print(f"  setup: bulk load to {args.stored:,} in {time.perf_counter() - t0:.0f} s")
        big_calls = batches(args.stored, args.calls)
        big = in_process(hub, settings, big_calls, args.stored, old=False)
    http = over_http(url, home, tokens["KR"], big_calls, args.stored)
    new_small, old_small = statistics.median(small["new"]), statistics.median(small["old"])
    print(f"  in process at {args.baseline:,}: indexed p50 {new_small * 1000:.1f} ms; old scan p50 "
          f"{old_small * 1000:.0f} ms; ratio {old_small / new_small:.0f}x")
    print(f"  in process at {args.stored:,}: indexed p50 {pct(big['new'], 0.5):.1f} ms, "
          f"p95 {pct(big['new'], 0.95):.1f} ms ({len(big['new'])} calls of 10 addresses)")
    print(f"  HTTP POST /api/v1/screen/ at {args.stored:,}: p50 {pct(http, 0.5):.1f} ms, "
          f"p95 {pct(http, 0.95):.1f} ms, max {max(http) * 1000:.1f} ms ({len(http)} calls; goal < 200 ms)")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=int, default=20_000)
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = ap.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.db in ("sqlite", "both"):
        print("\n## SQLite")
        run(f"sqlite:///{tempfile.mkdtemp(prefix='trilateral-bench-')}/hub.sqlite3", args)
    if args.db in ("postgres", "both"):
        print("\n## PostgreSQL")
        url = create_scratch_database(os.environ.get("TRILATERAL_BENCH_POSTGRES_URL",
                                                     "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                                      "trilateral_bench")
        try:
            run(url, args)
        finally:
            drop_scratch_database(url)


if __name__ == "__main__":
    main()
