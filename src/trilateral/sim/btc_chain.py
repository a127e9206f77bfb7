"""A Bitcoin-like UTXO chain written as bitcoin-etl transactions.json, block by block.

Block 0's coinbase is the genesis allocation (initial holdings of users, exchanges, the bridge vault
and any victim); every later block's coinbase pays the subsidy plus the block's fees. Every input
spends an earlier unspent output exactly once; every non-coinbase tx has inputs = outputs + fee.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

from trilateral.sim.encoding import p2wpkh_address, p2wpkh_program
from trilateral.sim.world import World, fast_rng

SUBSIDY = 312_500_000
SEQUENCE = 4_294_967_293


def _script(address: str) -> tuple[str, str]:
    program = p2wpkh_program(address).hex()
    return f"0 {program}", f"0014{program}"


class BtcChain:
    """UTXO bookkeeping, scheduled actions per height, background payments and the JSON writer."""

    def __init__(self, world: World, seed: int, path: Path, background_txs: int) -> None:
        self.world = world
        self.rng = fast_rng(seed, 6)
        self.path = path
        self.pool: deque = deque()  # background UTXOs (txid, vout, address, value), oldest first
        self.owned: dict[str, list] = defaultdict(list)  # tracked actors: address -> [(txid, vout, value, mixed)]
        self.schedule: dict[int, list[Callable[[int], None]]] = defaultdict(list)
        self.block: list[dict] = []
        self.height = 0
        counts = np.random.default_rng([seed, 7]).poisson(background_txs / max(1, world.btc_blocks - 1),
                                                          size=world.btc_blocks)
        self.background_counts = counts.tolist()
        self.miners = [p2wpkh_address(self.rng.bytes(20)) for _ in range(4)]
        self.deposit_sweeps: dict[str, str] = {}  # deposit address -> exchange hot wallet it sweeps to
        self.outputs_written = 0
        self.transactions_written = 0

    def new_address(self) -> str:
        return p2wpkh_address(self.rng.bytes(20))

    def at(self, height: int, action: Callable[[int], None]) -> None:
        self.schedule[min(height, self.world.btc_blocks - 1)].append(action)

    # -- transactions ---------------------------------------------------------------------------
    def make_tx(self, inputs: list[tuple[str, int, str, int]], outputs: list[tuple[str, int]],
                coinbase: bool = False) -> str:
        """Append a tx spending `inputs` (txid, vout, address, value) to the current block; returns its hash."""
        in_value = sum(i[3] for i in inputs)
        out_value = sum(o[1] for o in outputs)
        if not coinbase and in_value < out_value:
            raise RuntimeError(f"tx spends {in_value} but pays {out_value}")
        if any(v <= 0 for _, v in outputs):
            raise RuntimeError("non-positive output")
        txid = f"{self.rng.getrandbits(256):064x}"
        n_in, n_out = len(inputs), len(outputs)
        vsize = 11 + 68 * n_in + 31 * n_out
        tx = {
            "hash": txid, "size": vsize + 2 + 107 * n_in, "virtual_size": vsize, "version": 2, "lock_time": 0,
            "block_number": None, "block_hash": None, "block_timestamp": None, "is_coinbase": coinbase,
            "index": None,
            "inputs": [{"index": k, "spent_transaction_hash": t, "spent_output_index": v, "script_asm": "",
                        "script_hex": "", "sequence": SEQUENCE, "required_signatures": None,
                        "type": "witness_v0_keyhash", "addresses": [a], "value": value}
                       for k, (t, v, a, value) in enumerate(inputs)],
            "outputs": [dict(zip(("index", "script_asm", "script_hex", "required_signatures", "type", "addresses",
                                  "value"), (k, *_script(a), 1, "witness_v0_keyhash", [a], value), strict=True))
                        for k, (a, value) in enumerate(outputs)],
            "input_count": n_in, "output_count": n_out, "input_value": in_value, "output_value": out_value,
            "fee": 0 if coinbase else in_value - out_value,
        }
        self.block.append(tx)
        return txid

    def take_owned(self, address: str) -> list[tuple[str, int, str, int, bool]]:
        utxos = self.owned.pop(address, [])
        return [(t, v, address, value, mixed) for t, v, value, mixed in utxos]

    def own(self, txid: str, vout: int, address: str, value: int, mixed: bool = False) -> None:
        self.owned[address].append((txid, vout, value, mixed))

    def sweep(self, deposit: str) -> tuple[str, int, int] | None:
        """An exchange moves everything at a deposit address to its hot wallet: (txid, total, fee)."""
        utxos = self.take_owned(deposit)
        total = sum(u[3] for u in utxos)
        fee = 300 + 100 * len(utxos)
        if total <= fee:
            for t, v, a, value, mixed in utxos:
                self.own(t, v, a, value, mixed)
            return None
        hot = self.deposit_sweeps[deposit]
        txid = self.make_tx([u[:4] for u in utxos], [(hot, total - fee)])
        return txid, total, fee

    # -- background -----------------------------------------------------------------------------
    def _background_block(self) -> None:
        rng = self.rng
        users = self.world.btc_users
        n_users = len(users)
        exchanges = self.world.exchanges
        for _ in range(self.background_counts[self.height]):
            if len(self.pool) < 3:
                return
            k = 1 if rng.random() < 0.7 else 2
            inputs = [self.pool.popleft() for _ in range(k)]
            total = sum(i[3] for i in inputs)
            fee = rng.randrange(150, 3_000) * k
            if total < fee + 2_000:
                continue  # too small to move: dropped from the pool (stays unspent on chain)
            pay = max(546, int((total - fee) * rng.uniform(0.05, 0.6)))
            if rng.random() < 0.12:
                ex = exchanges[rng.randrange(len(exchanges))]
                receiver = ex.btc_deposits[rng.randrange(len(ex.btc_deposits))]
            else:
                receiver = users[rng.randrange(n_users)]
            change_to = users[rng.randrange(n_users)]
            change = total - fee - pay
            outputs = [(receiver, pay)] + ([(change_to, change)] if change >= 546 else [])
            txid = self.make_tx(inputs, outputs)
            for vout, (address, value) in enumerate(outputs):
                if address in self.deposit_sweeps:
                    self.own(txid, vout, address, value)
                    if len(self.owned[address]) == 1:
                        self.at(self.height + rng.randrange(2, 20), lambda h, a=address: self.sweep(a))
                else:
                    self.pool.append((txid, vout, address, value))

    # -- driving --------------------------------------------------------------------------------
    def run(self, genesis: list[tuple[str, int]], tracked: set[str], progress: Callable[[int], None]) -> None:
        """Write blocks 0 .. btc_blocks-1: genesis, then scheduled actions and background per block."""
        world = self.world
        for ex in world.exchanges:
            for d in ex.btc_deposits:
                self.deposit_sweeps[d] = ex.btc_hot[0]
        with self.path.open("wb") as sink:
            for height in range(world.btc_blocks):
                self.height = height
                self.block = []
                if height == 0:
                    txid = self.make_tx([], genesis, coinbase=True)
                    for vout, (address, value) in enumerate(genesis):
                        if address in tracked:
                            self.own(txid, vout, address, value)
                        else:
                            self.pool.append((txid, vout, address, value))
                else:
                    for action in self.schedule.pop(height, []):
                        action(height)
                    self._background_block()
                    fees = sum(t["fee"] for t in self.block)
                    miner = self.miners[height % len(self.miners)]
                    body = self.block
                    self.block = []
                    txid = self.make_tx([], [(miner, SUBSIDY + fees)], coinbase=True)
                    self.pool.append((txid, 0, miner, SUBSIDY + fees))
                    self.block = self.block + body
                self._write_block(sink, height)
                progress(height)

    def _write_block(self, sink, height: int) -> None:
        block_hash = f"{self.rng.getrandbits(256):064x}"
        timestamp = self.world.btc_time(height)
        lines = []
        for index, tx in enumerate(self.block):
            tx["block_number"], tx["block_hash"], tx["block_timestamp"], tx["index"] = (
                height, block_hash, timestamp, index)
            lines.append(orjson.dumps(tx))
            self.outputs_written += tx["output_count"]
        self.transactions_written += len(lines)
        if lines:
            sink.write(b"\n".join(lines) + b"\n")
