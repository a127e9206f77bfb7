"""Federation speed on three real `trilateral serve` nodes (US, KR, JP) on loopback (issue 18).

    .venv/bin/python bench/federation.py [--objects 100000] [--backlog 1000000] [--latency-rounds 10]
        [--interval 2] [--pg-url URL]

1. convergence: `--objects` indicators submitted across the three nodes over TAXII (a third each),
   then sync rounds (the three nodes pulling at once, one thread each) until a round stores nothing
   new; goal < 60 s from the last submit to convergence;
2. latency: the nodes restarted with `serve --sync-interval S`; one object stored on US, timed until
   KR's and JP's members read it over TAXII; goal < 5 s;
3. backlog: `--backlog` more objects stored on US, then KR syncs them in one `sync_all` (its hub
   opened as `trilateral sync` opens it; validation workers started by the sync itself); goal
   >= 10,000 objects/s.
Baseline in the same run: POSTing the same objects into a node (what a member's own client costs),
so the sync rate is printed as a ratio to it as well.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import httpx  # noqa: E402
from tests.federation.nodes import TAXII, Node, federation  # noqa: E402
from tests.federation.stixgen import indicator  # noqa: E402

from trilateral.core.tlp import Tlp  # noqa: E402
from trilateral.federation.sync import sync_all  # noqa: E402
from trilateral.hub import Hub  # noqa: E402

CHUNK = 5000


def post_all(node: Node, objs: list[dict]) -> float:
    start = time.perf_counter()
    for i in range(0, len(objs), CHUNK):
        node.post(node.code, objs[i:i + CHUNK])
    return time.perf_counter() - start


def converge_parallel(nodes: dict[str, Node]) -> tuple[float, int, int]:
    """Rounds with every node running `trilateral sync` at once (its own process, as each member's
    node would) until a round stores nothing new; seconds, rounds, versions received."""
    start, rounds, total = time.perf_counter(), 0, 0
    while True:
        rounds += 1
        procs = {code: subprocess.Popen([sys.executable, "-m", "trilateral", "sync"], env=node.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for code, node in nodes.items()}
        got = 0
        for code, proc in procs.items():
            out, err = proc.communicate()
            assert proc.returncode == 0, (code, err)
            got += sum(int(m) for m in re.findall(r"; (\d+) new,", out))
        total += got
        if not got or rounds > 6:
            return time.perf_counter() - start, rounds, total


def readable(node: Node, object_id: str) -> bool:
    r = httpx.get(f"{node.base}/api/v1/collections/shared/objects/{object_id}/", headers={"Accept": TAXII},
                  auth=(node.code, node.tokens[node.code]), timeout=10)
    return r.status_code == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=1_000_000)
    parser.add_argument("--latency-rounds", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--pg-url", default=None, help="KR's node on this PostgreSQL (a scratch database)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fed-bench-"))
    pg = None
    if args.pg_url:
        from trilateral.hub.database import create_scratch_database
        pg = create_scratch_database(args.pg_url, "trilateral_fedbench")
    n = 0
    try:
        with federation(work / "mesh", pg) as nodes:
            per = args.objects // 3
            batches = {}
            for code in nodes:
                batches[code] = [indicator(Tlp.GREEN if i % 2 else Tlp.AMBER, n=n + i) for i in range(per)]
                n += per
            posted = {code: post_all(nodes[code], objs) for code, objs in batches.items()}
            post_rate = 3 * per / sum(posted.values())
            seconds, rounds, received = converge_parallel(nodes)
            for code, node in nodes.items():
                assert len({k for k in node.held() if k[0].startswith("indicator--")}) >= 3 * per, code
            print(f"1. convergence: {3 * per:,} objects over 3 nodes, POST {post_rate:,.0f} obj/s (baseline); "
                  f"sync converged in {seconds:.1f} s ({rounds} rounds, {received:,} versions stored, "
                  f"{received / seconds:,.0f} obj/s, x{received / seconds / post_rate:.2f} of POST) "
                  f"goal < 60 s: {'met' if seconds < 60 else 'NOT met'}", flush=True)
            if args.backlog:
                objs = [indicator(Tlp.GREEN, n=n + i) for i in range(args.backlog)]
                n += args.backlog
                t_post = post_all(nodes["US"], objs)
                start = time.perf_counter()
                # as `trilateral sync` and `serve --sync-interval` open the hub (WAL checkpoints in the background)
                with Hub.open(nodes["KR"].settings(), create=False, serving=True) as hub:
                    (result,) = sync_all(hub, "US", progress=lambda _peer, _n: None)
                took = time.perf_counter() - start
                assert result.ok and result.received >= args.backlog, result
                print(f"3. backlog: {args.backlog:,} objects synced US -> KR in {took:.1f} s = "
                      f"{args.backlog / took:,.0f} obj/s (POST of the same: {args.backlog / t_post:,.0f} obj/s) "
                      f"goal >= 10,000 obj/s: {'met' if args.backlog / took >= 10_000 else 'NOT met'}", flush=True)
                for code in ("JP",):
                    nodes[code].sync()
            for node in nodes.values():
                node.stop()
            for node in nodes.values():
                node.spawn("--sync-interval", str(args.interval))
            for node in nodes.values():
                node.wait()
            time.sleep(args.interval * 2)  # let the first background rounds pass
            delays = []
            for i in range(args.latency_rounds):
                obj = indicator(Tlp.GREEN, n=n + i)
                nodes["US"].post("US", [obj])
                stored = time.perf_counter()
                waiting = {"KR", "JP"}
                while waiting and time.perf_counter() - stored < 60:
                    waiting = {c for c in waiting if not readable(nodes[c], obj["id"])}
                    time.sleep(0.05)
                delays.append(time.perf_counter() - stored if not waiting else float("inf"))
                time.sleep(0.5)
            p50 = statistics.median(delays)
            print(f"2. latency at --sync-interval {args.interval:g}: stored on US -> readable on KR and JP: "
                  f"p50 {p50:.2f} s, max {max(delays):.2f} s over {len(delays)} objects; goal < 5 s: "
                  f"{'met' if max(delays) < 5 else 'NOT met'}", flush=True)
    finally:
        if pg:
            from trilateral.hub.database import drop_scratch_database
            drop_scratch_database(pg)


if __name__ == "__main__":
    main()
