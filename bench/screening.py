"""Batch screening speed: 100,000 addresses, direct hits (and, separately, exposure over a chain store).

    .venv/bin/python bench/screening.py [--addresses 100000] [--labels 100000] [--transfers 1000000]

Label store: the real OFAC SDN addresses (../shared/data, written in SDN.CSV form and parsed by
trilateral.labels) plus a synthetic TagPack of exchange deposit addresses. The batch: 1 % sanctioned,
10 % labelled, the rest unknown, EVM and Bitcoin mixed. Baseline in the same run: the same screen one
address at a time (measured on 2,000 addresses, scaled to the batch).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from trilateral.core.settings import Settings  # noqa: E402


def _evm(rng: random.Random) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))


def _btc(rng: random.Random) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    return "1" + "".join(rng.choice(alphabet) for _ in range(33))


def build_labels(settings: Settings, n_labels: int, rng: random.Random) -> tuple[list[str], list[str]]:
    from tests.screening.conftest import sdn_csv_from_flat_list

    from trilateral.labels import LabelStore

    store = LabelStore(settings)
    sdn = settings.home / "SDN.CSV"
    sanctioned = [a for (_asset, a) in sdn_csv_from_flat_list(sdn)]
    store.import_file(sdn)
    labelled = [_evm(rng) if i % 2 else _btc(rng) for i in range(n_labels)]
    tags = [{"address": a, "currency": "ETH" if a.startswith("0x") else "BTC", "label": f"exchange {i % 50}",
             "category": "exchange"} for i, a in enumerate(labelled)]
    pack = settings.home / "exchanges.yaml"
    pack.write_text(yaml.dump({"title": "bench exchanges", "creator": "bench", "is_public": True,
                               "source": "bench", "confidence": "service_data", "tags": tags},
                              Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    store.import_file(pack)
    return sanctioned, labelled


def build_chain(settings: Settings, n_addresses: int, n_transfers: int, sources: list[str], seed: int) -> list[str]:
    from trilateral.chain.schema import TRANSFERS
    from trilateral.chain.writer import TableWriter

    gen = np.random.default_rng(seed)
    addresses = sources + [f"0x{i:040x}" for i in range(1, n_addresses - len(sources) + 1)]
    writer = TableWriter(settings.chain_dir, "ethereum", "account")
    staged: dict = {}
    writer.write_arrow_part("addresses", pa.table({"address_id": np.arange(len(addresses)), "address": addresses}),
                            staged)
    blocks = np.sort(gen.integers(1, n_transfers // 100 + 2, n_transfers))
    table = pa.table({
        "block_number": blocks, "timestamp": 1_700_000_000 + 12 * blocks,
        "tx_hash": pa.array([f"0x{i:064x}" for i in range(n_transfers)]),
        "tx_index": np.arange(n_transfers, dtype=np.int32) % 100, "log_index": np.full(n_transfers, -1, np.int32),
        "kind": pa.array(["native"] * n_transfers), "from_id": gen.integers(0, len(addresses), n_transfers),
        "to_id": gen.integers(0, len(addresses), n_transfers), "asset_id": np.zeros(n_transfers, np.int32),
        "amount_hi": gen.integers(0, 4, n_transfers).astype(np.uint64),
        "amount_lo": gen.integers(0, 2**63, n_transfers).astype(np.uint64)}, schema=TRANSFERS)
    writer.write_arrow_part("transfers", table, staged)
    writer.commit("bench", staged, {}, next_address_id=len(addresses), block_range=(1, int(blocks.max())))
    return addresses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--addresses", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=100_000)
    ap.add_argument("--transfers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"# command: .venv/bin/python bench/screening.py --addresses {args.addresses} --labels {args.labels} "
          f"--transfers {args.transfers}")
    print(f"# machine: {platform.platform()}, {platform.machine()}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f} (shared with other jobs)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), database_url=f"sqlite:///{tmp}/hub.sqlite3")
        t0 = time.perf_counter()
        sanctioned, labelled = build_labels(settings, args.labels, rng)
        print(f"# label store: {len(sanctioned)} OFAC + {len(labelled)} synthetic exchange labels, built in "
              f"{time.perf_counter() - t0:.1f} s")
        n = args.addresses
        batch = ([rng.choice(sanctioned) for _ in range(n // 100)] + [rng.choice(labelled) for _ in range(n // 10)])
        batch += [_evm(rng) if i % 2 else _btc(rng) for i in range(n - len(batch))]
        rng.shuffle(batch)

        from trilateral.screening.service import Screener

        screener = Screener(settings)
        t = time.perf_counter()
        screener.screen(batch, hops=0)
        print(f"first batch (cold: label index and Label objects built on first use): {n} addresses in "
              f"{time.perf_counter() - t:.3f} s")
        figures = {}
        for label, chain in (("guessed chain (no --chain)", None), ("--chain given per batch", "split")):
            t = time.perf_counter()
            if chain is None:
                results = screener.screen(batch, hops=0)
            else:
                evm = [a for a in batch if a.startswith("0x")]
                results = screener.screen(evm, chain="ethereum", hops=0) + screener.screen(
                    [a for a in batch if not a.startswith("0x")], chain="bitcoin", hops=0)
            figures[label] = time.perf_counter() - t
            hits = sum(bool(r["hits"]) for r in results)
            print(f"direct hits, warm, {label}: {n} addresses in {figures[label]:.3f} s "
                  f"({n / figures[label]:,.0f}/s), {hits} with hits")
        sample = batch[:200]
        t = time.perf_counter()
        for a in sample:
            screener.screen([a], hops=0)
        one_by_one = (time.perf_counter() - t) / len(sample) * n
        best = min(figures.values())
        print(f"baseline, one address per call (200 measured, scaled): {one_by_one:.1f} s for {n}; "
              f"batch is {one_by_one / best:.0f}x faster")
        print(f"target: 100,000 direct-hit screens < 2 s -> {'met' if best < 2 and n >= 100_000 else 'see above'}")

        if args.transfers:
            t = time.perf_counter()
            build_chain(settings, 200_000, args.transfers, [a for a in sanctioned if a.startswith("0x")][:50],
                        args.seed)
            print(f"# chain store: 200,000 addresses, {args.transfers:,} transfers written in "
                  f"{time.perf_counter() - t:.1f} s")
            targets = [f"0x{i:040x}" for i in range(1, n + 1)]
            for hops in (1, 3):
                screener = Screener(settings)
                t = time.perf_counter()
                res = screener.screen(targets, chain="ethereum", hops=hops)
                dt = time.perf_counter() - t
                exposed = sum(r["exposure"] > 0 for r in res)
                print(f"exposure, hops={hops}: {n} addresses over {args.transfers:,} transfers in {dt:.2f} s "
                      f"(incl. source labelling of every chain address), {exposed} exposed")


if __name__ == "__main__":
    main()
