"""TAXII load test: concurrent taxii2-client users mixing reads and writes against `trilateral serve`.

    .venv/bin/python bench/taxii_load.py [--clients 32] [--duration 60] [--pg-url URL]

Every client is a member (US, KR or JP in turn) with its own connection. Each step is a write (POST
of 5-50 indicators, 25 %) or a read (a page of objects, a match[id] look-up of an object it wrote, a
manifest page, or the status of an earlier POST). At the end every acknowledged object must be
readable: zero 5xx and zero lost objects is the pass mark; the script exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests
from taxii2client.v21 import ApiRoot, Collection, as_pages

sys.path.insert(0, str(Path(__file__).resolve().parent))
from taxii_servers import create_pg_database, drop_pg_database, trilateral  # noqa: E402
from taxii_vs_medallion import indicators, pct  # noqa: E402


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[int] = Counter()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.acknowledged: set[str] = set()

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)


def client_loop(n: int, base: str, tokens: dict[str, str], stop: float, stats: Stats) -> None:
    code = ("US", "KR", "JP")[n % 3]
    collection = Collection(f"{base}collections/shared/", user=code, password=tokens[code])
    root = ApiRoot(base, user=code, password=tokens[code])
    for conn in (collection._conn, root._conn):
        conn.session.hooks["response"].append(
            lambda r, *a, **k: stats.status.update([r.status_code]))
    rng = random.Random(n)
    mine: list[str] = []
    statuses: list[str] = []
    counter = n * 10_000_000
    while time.monotonic() < stop:
        choice = rng.random()
        t = time.perf_counter()
        try:
            if choice < 0.25 or not mine:
                batch = indicators(counter, rng.randint(5, 50))
                counter += len(batch)
                status = collection.add_objects({"objects": batch}, wait_for_completion=False)
                ok = {s["id"] for s in status.successes}
                if status.failure_count or ok != {o["id"] for o in batch}:
                    stats.errors.append(f"{code}: POST status {status.failures[:1]}")
                with stats.lock:
                    stats.acknowledged |= ok
                mine.extend(ok)
                statuses.append(status.id)
                kind = "POST"
            elif choice < 0.55:
                collection.get_objects(limit=100, added_after=None)
                kind = "page"
            elif choice < 0.85:
                object_id = rng.choice(mine)
                got = collection.get_objects(id=object_id)
                if [o["id"] for o in got.get("objects", [])] != [object_id]:
                    stats.errors.append(f"{code}: look-up of {object_id} returned {len(got.get('objects', []))}")
                kind = "match[id]"
            elif choice < 0.95:
                collection.get_manifest(limit=100)
                kind = "manifest"
            else:
                status = root.get_status(rng.choice(statuses)) if statuses else None
                if status is not None and status.status != "complete":
                    stats.errors.append(f"{code}: status {status.id} is {status.status}")
                kind = "status"
        except requests.HTTPError as exc:
            stats.errors.append(f"{code}: HTTP {exc.response.status_code} {exc.response.text[:200]}")
            continue
        except Exception as exc:  # transport failures count as errors, never crash the run
            stats.errors.append(f"{code}: {type(exc).__name__}: {exc}")
            continue
        stats.record(kind, time.perf_counter() - t)


def verify(base: str, tokens: dict[str, str], acknowledged: set[str]) -> set[str]:
    """Acknowledged ids that a member cannot read back (should be none)."""
    collection = Collection(f"{base}collections/shared/", user="US", password=tokens["US"])
    seen: set[str] = set()
    for page in as_pages(collection.get_objects, per_request=1000):
        seen.update(o["id"] for o in page.get("objects", []))
    return acknowledged - seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="taxii-load-") as tmp:
        db_url = create_pg_database(args.pg_url) if args.pg_url else None
        name = "trilateral-postgres" if db_url else "trilateral-sqlite"
        try:
            with trilateral(Path(tmp), db_url, name) as server:
                base = server.collection_url.split("collections/")[0]
                tokens = {"US": server.password, **_member_tokens(Path(tmp), db_url)}
                stats = Stats()
                stop = time.monotonic() + args.duration
                threads = [threading.Thread(target=client_loop, args=(i, base, tokens, stop, stats))
                           for i in range(args.clients)]
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - started
                lost = verify(base, tokens, stats.acknowledged)
        finally:
            if db_url:
                drop_pg_database(args.pg_url, db_url)
    total = sum(len(v) for v in stats.latency.values())
    five_xx = sum(c for s, c in stats.status.items() if s >= 500)
    print(f"server: {name}; {args.clients} clients for {elapsed:.1f} s: {total:,} requests "
          f"({total / elapsed:,.0f}/s)")
    print(f"{'kind':<12}{'count':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, values in sorted(stats.latency.items()):
        print(f"{kind:<12}{len(values):>8,}{pct(values, 0.5) * 1000:>10.1f}{pct(values, 0.99) * 1000:>10.1f}")
    print(f"HTTP statuses: {dict(sorted(stats.status.items()))}")
    print(f"objects acknowledged: {len(stats.acknowledged):,}; lost: {len(lost)}; 5xx: {five_xx}; "
          f"client-side errors: {len(stats.errors)}")
    for line in stats.errors[:10]:
        print(f"  {line}")
    sys.exit(0 if not lost and not five_xx and not stats.errors else 1)


def _member_tokens(workdir: Path, db_url: str | None) -> dict[str, str]:
    """Fresh tokens for KR and JP (the server fixture only hands out US's)."""
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub

    home = workdir / "home"
    env = {"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": db_url or f"sqlite:///{home / 'hub.sqlite3'}"}
    with Hub.open(Settings.from_env(env)) as hub:
        return {code: hub.rotate_token(code) for code in ("KR", "JP")}


if __name__ == "__main__":
    main()
