"""Cost of the issue-14 read rules (shadow copies, encrypted cursors, granular checks) on paging.

Fills a hub with N indicators in batches of 5,000 (one in five RED, so readers other than the
submitter skip hidden rows), then pages through `shared` as the submitter (US) and as another
member (KR) with `hub.query` (limit 1,000), and looks up ids one by one. Baseline, in the same
process and database: the same keyset pages read with plain SQL over `objects` without any policy
(what paging costs with no sharing rule at all). Prints objects/s and the ratio to the baseline.

    python bench/policy_paging.py --objects 100000 [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trilateral.core.settings import Settings  # noqa: E402
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp  # noqa: E402
from trilateral.hub import Hub  # noqa: E402
from trilateral.hub.database import create_scratch_database, drop_scratch_database  # noqa: E402
from trilateral.hub.schema import objects  # noqa: E402


def indicator(i: int) -> dict:
    tlp = Tlp.RED if i % 5 == 0 else Tlp.GREEN
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "pattern_type": "stix",
            "pattern": f"[cryptocurrency-wallet:address = '0x{i:040x}']", "valid_from": "2026-01-01T00:00:00.000Z",
            "object_marking_refs": [TLP2_MARKING_IDS[tlp]]}


def raw_pages(hub: Hub) -> tuple[int, float]:
    """Baseline: keyset pages of 1,000 over `objects`, no policy."""
    started, n, last = time.perf_counter(), 0, (-1, -1)
    with hub.engine.connect() as conn:
        while True:
            rows = conn.execute(sa.select(objects.c.seq, objects.c.date_added_us, objects.c.body)
                                .where(objects.c.collection == "shared",
                                       sa.tuple_(objects.c.date_added_us, objects.c.seq) > sa.tuple_(*last))
                                .order_by(objects.c.date_added_us, objects.c.seq).limit(1000)).all()
            if not rows:
                return n, time.perf_counter() - started
            n += len(rows)
            last = (rows[-1].date_added_us, rows[-1].seq)


def hub_pages(hub: Hub, reader) -> tuple[int, float, list[str]]:  # noqa: ANN001
    started, n, cursor, ids = time.perf_counter(), 0, None, []
    while True:
        page = hub.query(reader, limit=1000, cursor=cursor)
        n += len(page.records)
        ids.extend(r.id for r in page.records[::97])
        if not page.more:
            return n, time.perf_counter() - started, ids
        cursor = page.next_cursor


def run(url: str, home: Path, count: int) -> None:
    hub = Hub.open(Settings(home=home, database_url=url))
    try:
        people = {p.code: p for p, _ in hub.init()}
        started = time.perf_counter()
        for start in range(0, count, 5000):
            hub.submit(people["US"], {"objects": [indicator(i) for i in range(start, min(count, start + 5000))]})
        print(f"  filled {count:,} in {time.perf_counter() - started:.1f} s")
        n, seconds = raw_pages(hub)
        base = n / seconds
        print(f"  baseline (plain SQL keyset, no policy): {base:,.0f} objects/s")
        for code in ("US", "KR"):
            n, seconds, ids = hub_pages(hub, people[code])
            rate = n / seconds
            started = time.perf_counter()
            for stix_id in ids[:200]:
                hub.query(people[code], ids=[stix_id])
            lookup = (time.perf_counter() - started) / max(1, len(ids[:200])) * 1000
            print(f"  {code}: paged {n:,} objects at {rate:,.0f} objects/s (x{base / rate:.2f} the baseline's "
                  f"time); by id {lookup:.1f} ms a look-up")
    finally:
        hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(f"policy paging, {args.objects:,} indicators, {args.db}, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            run(f"sqlite:///{tmp}/hub.sqlite3", Path(tmp), args.objects)
            return
        url = create_scratch_database(os.environ["TRILATERAL_TEST_DATABASE_URL"], "trilateral_bench")
        try:
            run(url, Path(tmp), args.objects)
        finally:
            drop_scratch_database(url)


if __name__ == "__main__":
    main()
