"""Watch catch-up end to end: a day of mainnet-sized blocks fetched over JSON-RPC and committed.

    .venv/bin/python bench/watch_catchup.py --blocks 600 --watched 100000 --cases 100

A node process (the bench's own JSON-RPC server, on the second core) serves mainnet-shaped blocks:
per block 150 transactions with ETH value, 100 token transactions carrying 200 ERC-20 `Transfer`
logs (350 value moves a block: 7,200 blocks = 2.5 M transfers, Ethereum's daily order), with
receipts and `eth_getLogs`. A real `Watcher` with the real `EvmAdapter` follows it from block 0 with
100 open cases seeding 100,000 watched addresses (5 % of sends come from watched or tainted ones, so
taint spreads), one SQLite transaction per block (state, cursor, undo, alerts, outbox). The time
splits into fetching (HTTP + JSON), the core and the database commit; the day's catch-up is the
measured rate scaled to 7,200 blocks. Baseline in the same run: the fetch alone (the node side and
the transport, which no watcher avoids).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

ERC20_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
VALUE_TXS, TOKEN_TXS, LOGS_PER_TOKEN_TX = 150, 100, 2
DAY_BLOCKS = 7_200


def addr(n: int) -> str:
    return f"0x{n:040x}"


class Chain:
    """Deterministic mainnet-shaped blocks (the same number always gives the same block)."""

    def __init__(self, watched: int, head: int) -> None:
        self.watched, self.universe, self.head = watched, watched * 20, head
        self.cache: dict[int, tuple[dict, list[dict]]] = {}

    def pick_sender(self, rng: random.Random) -> int:
        return rng.randrange(self.watched) if rng.random() < 0.05 else rng.randrange(self.universe)

    def block(self, n: int) -> tuple[dict, list[dict]]:
        if n in self.cache:
            return self.cache[n]
        rng = random.Random(n)
        h = f"0x{n:064x}"
        txs, logs = [], []
        for i in range(VALUE_TXS + TOKEN_TXS):
            tx = f"0x{n:032x}{i:032x}"
            src = addr(self.pick_sender(rng) + 1)
            if i < VALUE_TXS:
                txs.append({"hash": tx, "from": src, "to": addr(rng.randrange(self.universe) + 1),
                            "value": hex(rng.randrange(10**15, 9 * 10**18)), "input": "0x", "blockNumber": hex(n)})
                continue
            txs.append({"hash": tx, "from": src, "to": USDT, "value": "0x0", "input": "0xa9059cbb",
                        "blockNumber": hex(n)})
            for k in range(LOGS_PER_TOKEN_TX):
                logs.append({"address": USDT, "topics": [ERC20_TRANSFER, "0x" + src[2:].rjust(64, "0"),
                                                         "0x" + addr(rng.randrange(self.universe) + 1)[2:].rjust(64, "0")],
                             "data": "0x" + f"{rng.randrange(10**6, 10**11):064x}", "blockNumber": hex(n),
                             "blockHash": h, "transactionHash": tx, "logIndex": hex(len(logs) + k),
                             "removed": False})
        out = ({"number": hex(n), "hash": h, "parentHash": f"0x{n - 1:064x}" if n else "0x" + "0" * 64,
                "timestamp": hex(1_700_000_000 + 12 * n), "transactions": txs}, logs)
        self.cache[n] = out
        return out

    def answer(self, method: str, params: list) -> object:
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            n = int(params[0], 16)
            return None if n > self.head else self.block(n)[0]
        if method == "eth_getLogs":
            lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            return [lg for n in range(lo, hi + 1) for lg in self.block(n)[1]]
        if method == "eth_getTransactionReceipt":
            return {"transactionHash": params[0], "status": "0x1"}
        if method == "eth_call":
            data = params[0]["data"]
            if data == "0x95d89b41":  # symbol()
                return "0x" + f"{32:064x}" + f"{4:064x}" + b"USDT".hex().ljust(64, "0")
            return "0x" + f"{6:064x}"
        raise ValueError(method)


def serve(port: int, watched: int, head: int) -> None:
    chain = Chain(watched, head)
    for n in range(head + 1):  # generated before serving: the node's side costs only the JSON
        chain.block(n)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls = body if isinstance(body, list) else [body]
            out = [{"jsonrpc": "2.0", "id": c["id"], "result": chain.answer(c["method"], c["params"])} for c in calls]
            data = json.dumps(out if isinstance(body, list) else out[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blocks", type=int, default=600)
    ap.add_argument("--watched", type=int, default=100_000)
    ap.add_argument("--cases", type=int, default=100)
    args = ap.parse_args()

    from trilateral.demo.live_chain import free_port

    port = free_port()
    node = multiprocessing.Process(target=serve, args=(port, args.watched, args.blocks - 1), daemon=True)
    node.start()
    url = f"http://127.0.0.1:{port}"
    home = Path(tempfile.mkdtemp(prefix="watch-catchup-"))
    os.environ["TRILATERAL_HOME"] = str(home)
    os.environ["TRILATERAL_DATABASE_URL"] = f"sqlite:///{home / 'hub.sqlite3'}"
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub
    from trilateral.watch.evm import EvmAdapter
    from trilateral.watch.runner import Watcher
    from trilateral.watch.store import WatchStore

    settings = Settings.from_env()
    with Hub.open(settings) as hub:
        hub.init()
        store = WatchStore(hub.engine)
        per_case = args.watched // args.cases
        for c in range(args.cases):
            store.open_case(f"case {c}", "ethereum", "haircut", [addr(i + 1) for i in range(c * per_case,
                                                                                       (c + 1) * per_case)], [], None)
    deadline = time.monotonic() + 600
    probe = EvmAdapter("ethereum", url)
    while True:
        try:
            probe.head()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)

    t0 = time.perf_counter()  # baseline: fetching and parsing the same blocks, nothing else
    for lo in range(0, args.blocks, 32):
        probe.blocks(lo, min(args.blocks - 1, lo + 31))
    fetch_only = time.perf_counter() - t0
    probe.close()

    lines: list[str] = []
    with Hub.open(settings) as hub:
        watcher = Watcher(hub, [EvmAdapter("ethereum", url)], from_block=0, emit=lines.append)
        watcher.sync_cases()
        spent = {"fetch": 0.0, "core": 0.0, "commit": 0.0}
        adapter, core, wstore = watcher.adapters["ethereum"], watcher.core, watcher.store

        def timed(name, fn):
            def run(*a, **k):
                s = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    spent[name] += time.perf_counter() - s
            return run

        adapter.blocks = timed("fetch", adapter.blocks)
        core.apply = timed("core", core.apply)
        wstore.commit_blocks = timed("commit", wstore.commit_blocks)
        t0 = time.perf_counter()
        done = watcher.poll()
        total = time.perf_counter() - t0
    node.terminate()
    transfers = done * (VALUE_TXS + TOKEN_TXS * LOGS_PER_TOKEN_TX)
    tainted = sum(len(c.kv.maps["touched"]) for c in core.cases.values())
    day = total / done * DAY_BLOCKS
    print(f"python {sys.version.split()[0]}, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{done} blocks, {transfers:,} transfers, {args.cases} cases, {args.watched:,} watched; "
          f"{len(lines):,} alerts, {tainted:,} tainted addresses at the end")
    print(f"baseline (fetch and parse only): {fetch_only:.1f} s ({done / fetch_only:.1f} blocks/s)")
    print(f"watch end to end: {total:.1f} s = fetch {spent['fetch']:.1f} + core {spent['core']:.1f} + "
          f"commit {spent['commit']:.1f} + other {total - sum(spent.values()):.1f}; x{total / fetch_only:.2f} the "
          "baseline")
    print(f"watch catch-up blocks={done} transfers={transfers} rate={transfers / total:,.0f}/s "
          f"mainnet_day={day / 60:.1f} min ({DAY_BLOCKS} blocks)")


if __name__ == "__main__":
    main()
