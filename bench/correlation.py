"""Hub benchmark: correlate a 10,000-object bundle against 1,000,000 stored objects; submit obj/s.

    .venv/bin/python bench/correlation.py [--stored 1000000] [--bundle 10000] [--db sqlite|postgres|both]

Setup loads the stored objects with bulk inserts straight into the hub tables (executemany on
SQLite, COPY on PostgreSQL): the setup is not what is measured. Each stored object is an indicator
on one IPv4 address with its observable row; 10% of the new bundle's addresses are already held by
another member. Measured, on each database:
  - correlation: the SQL that records correlations for the 10,000 new objects (ingest.correlate),
    at a baseline store of `--baseline` objects and at `--stored` objects, and their ratio;
  - submit: hub.submit of the whole bundle (validation with stix2 + stix2-validator, storage,
    correlation), split into validation and storage, in objects per second;
  - query: one keyset page (limit 1,000) at the start and at the end of the store, and their ratio.
PostgreSQL URL: TRILATERAL_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import sqlalchemy as sa

from trilateral.core.settings import Settings
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub import Hub, ingest
from trilateral.hub.database import create_scratch_database, drop_scratch_database
from trilateral.hub.schema import objects, observables

SUBMITTERS = [("US", "US"), ("JP", "JP"), ("US-BANK", "US"), ("JP-EX", "JP")]
T = "2026-01-01T00:00:00.000Z"


def ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def indicator(value: str, tlp: Tlp) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T,
            "modified": T, "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix", "valid_from": T,
            "object_marking_refs": [TLP2_MARKING_IDS[tlp]]}


def bulk_load(hub: Hub, start: int, stop: int) -> float:
    """Insert stored objects start..stop-1 (and their observables) directly; seconds taken."""
    t0 = time.perf_counter()
    base_us = 1_767_225_600_000_000  # 2026-01-01
    levels = [Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.CLEAR]
    chunk = 50_000
    for lo in range(start, stop, chunk):
        hi = min(stop, lo + chunk)
        obj_rows, obs_rows = [], []
        with hub.engine.connect() as conn:
            seq0 = conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM objects")).scalar()
            obs0 = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM observables")).scalar()
        for i in range(lo, hi):
            code, member = SUBMITTERS[i % len(SUBMITTERS)]
            tlp = levels[i % len(levels)]
            body = orjson.dumps(indicator(ip(i), tlp)).decode()
            seq = seq0 + 1 + i - lo
            obj_rows.append((seq, "shared", f"indicator--{uuid.UUID(int=i + 1)}", "indicator", "2.1", T,
                             base_us, base_us + (i // 10_000) * 1_000_000, int(tlp), code, member, "0" * 64,
                             None, "bench", None, body))
            obs_rows.append((obs0 + 1 + i - lo, seq, "ipv4", ip(i), member))
        _insert(hub.engine, obj_rows, obs_rows)
        fix_sequences(hub, analyze=False)
    return time.perf_counter() - t0


def _insert(engine: sa.Engine, obj_rows: list[tuple], obs_rows: list[tuple]) -> None:
    obj_cols = ["seq", "collection", "stix_id", "stix_type", "spec_version", "version", "modified_us",
                "date_added_us", "tlp", "submitter_code", "submitter_member", "content_hash", "status_id",
                "source", "ref_id", "body"]
    obs_cols = ["id", "object_seq", "kind", "value", "submitter_member"]
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(f"COPY objects ({', '.join(obj_cols)}) FROM STDIN") as copy:
                    for row in obj_rows:
                        copy.write_row(row)
                with cur.copy(f"COPY observables ({', '.join(obs_cols)}) FROM STDIN") as copy:
                    for row in obs_rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    with engine.begin() as conn:
        conn.execute(objects.insert(), [dict(zip(obj_cols, r, strict=True)) for r in obj_rows])
        conn.execute(observables.insert(), [dict(zip(obs_cols, r, strict=True)) for r in obs_rows])


def fix_sequences(hub: Hub, analyze: bool = True) -> None:
    if hub.engine.dialect.name == "postgresql":
        with hub.engine.begin() as conn:
            for table, col in (("objects", "seq"), ("observables", "id")):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), "
                                     f"(SELECT max({col}) FROM {table}))"))
            if analyze:
                conn.execute(sa.text("ANALYZE"))
    elif analyze:
        with hub.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def new_bundle(n: int, stored: int) -> dict:
    """n indicators from KR; every tenth names an address an other member already holds."""
    objs = []
    for j in range(n):
        value = ip((j * 97) % stored) if j % 10 == 0 else f"172.{(j >> 16) & 255}.{(j >> 8) & 255}.{j & 255}"
        objs.append(indicator(value, Tlp.GREEN))
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}


def measure_submit(hub: Hub, bundle: dict) -> dict[str, float]:
    """Submit the bundle as KR; time validation, storage and the correlation SQL separately."""
    kr = hub.principal("KR")
    timings = {"correlate": 0.0, "store": 0.0}
    real_correlate, real_store = ingest.correlate, ingest.store_batch

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        real_correlate(*args, **kwargs)
        timings["correlate"] += time.perf_counter() - t

    def timed_store(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = real_store(*args, **kwargs)
        timings["store"] += time.perf_counter() - t
        return out

    t0, c0 = time.perf_counter(), time.process_time()
    for i, obj in enumerate(bundle["objects"]):
        ingest.prepare(i, obj)
    timings["validate"] = time.perf_counter() - t0
    timings["validate_cpu"] = time.process_time() - c0
    ingest.correlate, ingest.store_batch = timed, timed_store
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = hub.submit(kr, orjson.dumps(bundle))
        timings["submit"] = time.perf_counter() - t0
        timings["submit_cpu"] = time.process_time() - c0
    finally:
        ingest.correlate, ingest.store_batch = real_correlate, real_store
    assert len(result.stored) == len(bundle["objects"]), result.failed[:3]
    return timings


def page_latency(hub: Hub, added_after: str | None) -> float:
    kr = hub.principal("KR")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        page = hub.query(kr, added_after=added_after, limit=1000)
        best = min(best, time.perf_counter() - t0)
        assert page.records
    return best


def run(url: str, stored: int, bundle_size: int, baseline: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="trilateral-bench-"))
    settings = Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": url})
    out: dict[str, float] = {}
    with Hub.open(settings) as hub:
        hub.init()
        hub.add_principal("US-BANK", "Bank", client_of="US")
        hub.add_principal("JP-EX", "Exchange", client_of="JP")
        out["load_baseline_s"] = bulk_load(hub, 0, baseline)
        fix_sequences(hub)
        base = measure_submit(hub, new_bundle(bundle_size, baseline))
        out["correlate_baseline_s"] = base["correlate"]
        t_load = bulk_load(hub, baseline, stored)
        fix_sequences(hub)
        out["load_rows_per_s"] = (stored - baseline) / t_load
        big = measure_submit(hub, new_bundle(bundle_size, stored))
        out["correlate_s"] = big["correlate"]
        out["validate_obj_per_s"] = bundle_size / big["validate"]
        out["store_obj_per_s"] = bundle_size / big["store"]
        out["submit_obj_per_s"] = bundle_size / big["submit"]
        out["submit_s"] = big["submit"]
        out["validate_obj_per_cpu_s"] = bundle_size / big["validate_cpu"]
        out["submit_obj_per_cpu_s"] = bundle_size / big["submit_cpu"]
        out["load_avg"] = os.getloadavg()[0]
        with hub.engine.connect() as conn:
            out["correlations"] = conn.execute(sa.text("SELECT count(*) FROM correlations")).scalar()
        out["page_first_s"] = page_latency(hub, None)
        last_day = f"2026-01-01T00:{(stored // 10_000 - 2) // 60:02d}:{(stored // 10_000 - 2) % 60:02d}Z"
        out["page_last_s"] = page_latency(hub, last_day)
        t0 = time.perf_counter()
        out["visible_correlations"] = len(hub.correlations(hub.principal("KR")))
        out["list_correlations_s"] = time.perf_counter() - t0
    return out


_UNPATCHED = """
import sys, time, orjson, stix2, stix2validator.validator as sv
objs = orjson.loads(sys.stdin.buffer.read())
opts = sv.ValidationOptions(version="2.1")
stix2.parse(objs[0], allow_custom=True, version="2.1"); sv.validate_instance(objs[0], opts)
c0 = time.process_time()
for o in objs[1:]:
    stix2.parse(o, allow_custom=True, version="2.1")
    assert sv.validate_instance(o, opts).is_valid
print((time.process_time() - c0) / (len(objs) - 1))
"""


def validation_cost(n: int) -> tuple[float, float]:
    """CPU seconds per indicator: stix2 + stix2-validator as shipped (in a fresh process, baseline),
    and through trilateral.hub.stixcheck (same checks, setup cached)."""
    import subprocess

    from trilateral.hub import stixcheck

    objs = new_bundle(n + 1, 1_000_000)["objects"]
    proc = subprocess.run([sys.executable, "-c", _UNPATCHED], input=orjson.dumps(objs), capture_output=True,
                          check=True)
    baseline = float(proc.stdout)
    assert stixcheck.check_object(objs[0]) is None
    c0 = time.process_time()
    for o in objs[1:]:
        assert stixcheck.check_object(o) is None
    return baseline, (time.process_time() - c0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--bundle", type=int, default=10_000)
    ap.add_argument("--baseline", type=int, default=10_000)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = ap.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    base, fast = validation_cost(2000)
    print(f"\nvalidation per indicator (CPU): stix2 + stix2-validator as shipped {base * 1e6:,.0f} us, "
          f"through hub.stixcheck {fast * 1e6:,.0f} us: {base / fast:.1f}x faster "
          f"({1 / fast:,.0f} obj/s per core)")
    targets = []
    if args.db in ("sqlite", "both"):
        targets.append(("SQLite", None))
    if args.db in ("postgres", "both"):
        targets.append(("PostgreSQL", os.environ.get("TRILATERAL_BENCH_POSTGRES_URL",
                                                     "postgresql+psycopg://postgres@127.0.0.1:5432/test")))
    for label, pg_base in targets:
        if pg_base is None:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='trilateral-bench-')}/hub.sqlite3"
        else:
            url = create_scratch_database(pg_base, "trilateral_bench")
        try:
            r = run(url, args.stored, args.bundle, args.baseline)
        finally:
            if pg_base is not None:
                drop_scratch_database(url)
        print(f"\n## {label}: {args.bundle:,} new objects vs {args.stored:,} stored")
        print(f"setup bulk load: {r['load_rows_per_s']:,.0f} objects/s")
        print(f"correlation SQL: {r['correlate_s']:.3f} s at {args.stored:,} stored; "
              f"{r['correlate_baseline_s']:.3f} s at {args.baseline:,} (baseline); "
              f"ratio {r['correlate_s'] / r['correlate_baseline_s']:.2f}; {r['correlations']:,.0f} correlations")
        print(f"hub.submit of the bundle: {r['submit_s']:.2f} s = {r['submit_obj_per_s']:,.0f} obj/s "
              f"(validation alone {r['validate_obj_per_s']:,.0f} obj/s; storage incl. correlation, inside the "
              f"batch transactions, {r['store_obj_per_s']:,.0f} obj/s)")
        print(f"  per CPU-second of this process (contention-free estimate): validation "
              f"{r['validate_obj_per_cpu_s']:,.0f} obj/s, submit {r['submit_obj_per_cpu_s']:,.0f} obj/s "
              f"(load average during the run {r['load_avg']:.1f} on {os.cpu_count()} cores)")
        print(f"query page (1,000): first {r['page_first_s'] * 1000:.1f} ms, last {r['page_last_s'] * 1000:.1f} ms, "
              f"ratio {r['page_last_s'] / r['page_first_s']:.2f}")
        print(f"correlations(KR): {r['visible_correlations']:,.0f} listed in {r['list_correlations_s']:.3f} s")


if __name__ == "__main__":
    main()
