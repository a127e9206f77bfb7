"""Watch engine throughput: simulated transfers replayed in block order through the pure core.

    .venv/bin/python bench/watch_throughput.py --transfers 1000000 --watched 100000 --cases 100

Traffic: a universe of addresses (20x the watched ones), 150 transfers a block, a third of them
token transfers (USDT), 5 % sent by a watched or already tainted address so taint keeps spreading;
100 exchange hot wallets, a DEX, a bridge and a mixer pool are labelled. Each case seeds
watched/cases addresses. The baseline in the same run is the bare loop over the same blocks doing
only the two index look-ups per transfer that any incremental watcher needs (the floor). Catch-up
for a day of Ethereum mainnet assumes 2,500,000 transfers a day (about 1.2 M transactions plus
their token transfers); fetching the blocks from a node is not part of this figure.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trilateral.trace.model import Role  # noqa: E402
from trilateral.watch.core import CaseSpec, WatchCore  # noqa: E402
from trilateral.watch.model import Block, Transfer  # noqa: E402

MAINNET_TRANSFERS_PER_DAY = 2_500_000
PER_BLOCK = 150
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"


def addr(n: int) -> str:
    return f"0x{n:040x}"


def build(transfers: int, watched: int, cases: int, seed: int) -> tuple[WatchCore, list[Block]]:
    rng = np.random.default_rng(seed)
    universe = watched * 20
    texts = [addr(i + 1) for i in range(universe)]
    hot = [addr(0xE0000000 + i) for i in range(100)]
    dex, bridge, pool = addr(0xDE000000), addr(0xB0000000), addr(0x90000000)
    labels = {h: Role("exchange", f"Exchange {i}", "exchange", "KR") for i, h in enumerate(hot)}
    labels.update({dex: Role("dex", "DEX", "defi_dex"), bridge: Role("bridge", "Bridge", "bridge"),
                   pool: Role("mixer", "Pool", "mixing_service")})
    core = WatchCore(labels={"ethereum": labels}, natives={"ethereum": ("ETH", 18)})
    per_case = watched // cases
    for c in range(cases):
        core.add_case(CaseSpec(c + 1, "ethereum", "haircut", frozenset(texts[c * per_case:(c + 1) * per_case])))
    src = rng.integers(0, universe, transfers)
    dst = rng.integers(0, universe, transfers)
    from_watched = rng.random(transfers) < 0.05
    src[from_watched] = rng.integers(0, watched, int(from_watched.sum()))
    special = rng.random(transfers)
    token = rng.random(transfers) < 1 / 3
    amounts = rng.integers(10**15, 9 * 10**18, transfers, dtype=np.int64)
    blocks = []
    for b in range(0, transfers, PER_BLOCK):
        txs = []
        for i in range(b, min(b + PER_BLOCK, transfers)):
            s = special[i]
            to = hot[i % 100] if s < 0.01 else bridge if s < 0.012 else pool if s < 0.013 else texts[dst[i]]
            txs.append(Transfer(f"0x{i:064x}", texts[src[i]], to, USDT if token[i] else "ETH",
                                int(amounts[i]) // (10**12 if token[i] else 1)))
        n = b // PER_BLOCK
        blocks.append(Block("ethereum", n, f"0x{n:064x}", f"0x{n - 1:064x}", 1_700_000_000 + 12 * n, txs,
                            assets={USDT: ("USDT", 6)} if n == 0 else {}))
    return core, blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transfers", type=int, default=1_000_000)
    ap.add_argument("--watched", type=int, default=100_000)
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    core, blocks = build(args.transfers, args.watched, args.cases, args.seed)
    print(f"built {args.transfers:,} transfers in {len(blocks):,} blocks, {args.watched:,} watched addresses, "
          f"{args.cases} cases in {time.perf_counter() - t0:.1f} s")

    idx = core.index["ethereum"]
    t0 = time.perf_counter()
    hits = 0
    for block in blocks:  # baseline: the two look-ups per transfer and nothing else
        for t in block.transfers:
            if idx.get(t.src) or idx.get(t.dst):
                hits += 1
    floor = time.perf_counter() - t0

    t0 = time.perf_counter()
    alerts = changes = 0
    for block in blocks:
        out = core.apply(block)
        alerts += len(out.alerts)
        changes += len(out.undo)
    seconds = time.perf_counter() - t0
    rate = args.transfers / seconds
    tainted = sum(len(c.kv.maps["touched"]) for c in core.cases.values())
    print(f"python {platform.python_version()}, load {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print(f"baseline (index look-ups only): {floor:.2f} s ({args.transfers / floor:,.0f} transfers/s); "
          f"first-block hits {hits:,}")
    print(f"watch core: {seconds:.2f} s, {alerts:,} alerts, {changes:,} state changes, {tainted:,} tainted "
          f"addresses at the end; x{seconds / floor:.1f} the baseline")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    print(f"catch-up for one day of mainnet ({MAINNET_TRANSFERS_PER_DAY:,} transfers): "
          f"{MAINNET_TRANSFERS_PER_DAY / rate / 60:.1f} min (core only)")
    print(f"watch throughput transfers={args.transfers} watched={args.watched} cases={args.cases} "
          f"rate={rate:,.0f}/s goal=20,000/s {'met' if rate >= 20_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
