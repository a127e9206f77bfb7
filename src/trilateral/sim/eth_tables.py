"""ethereum-etl CSV files: column orders, the per-transaction event record, and the streaming writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from trilateral.sim.encoding import TOPIC_TRANSFER, address_word, hex_matrix, word

# Column orders exactly as ethereum-etl writes them.
BLOCK_COLUMNS = ["number", "hash", "parent_hash", "nonce", "sha3_uncles", "logs_bloom", "transactions_root",
                 "state_root", "receipts_root", "miner", "difficulty", "total_difficulty", "size", "extra_data",
                 "gas_limit", "gas_used", "timestamp", "transaction_count", "base_fee_per_gas"]
TX_COLUMNS = ["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address", "to_address",
              "value", "gas", "gas_price", "input", "block_timestamp", "max_fee_per_gas",
              "max_priority_fee_per_gas", "transaction_type", "receipt_cumulative_gas_used", "receipt_gas_used",
              "receipt_contract_address", "receipt_root", "receipt_status", "receipt_effective_gas_price"]
TOKEN_TRANSFER_COLUMNS = ["token_address", "from_address", "to_address", "value", "transaction_hash",
                          "log_index", "block_number"]
TOKEN_COLUMNS = ["address", "symbol", "name", "decimals", "total_supply", "block_number"]
LOG_COLUMNS = ["log_index", "transaction_hash", "transaction_index", "block_hash", "block_number", "address",
               "data", "topics"]
TRACE_COLUMNS = ["block_number", "transaction_hash", "transaction_index", "from_address", "to_address", "value",
                 "input", "output", "trace_type", "call_type", "reward_type", "gas", "gas_used", "subtraces",
                 "trace_address", "error", "status", "trace_id"]
FILES = {"blocks": BLOCK_COLUMNS, "transactions": TX_COLUMNS, "token_transfers": TOKEN_TRANSFER_COLUMNS,
         "tokens": TOKEN_COLUMNS, "logs": LOG_COLUMNS, "traces": TRACE_COLUMNS}

GAS_PRICE = 20 * 10**9
PRIORITY_FEE = 10**9
BASE_FEE = GAS_PRICE - PRIORITY_FEE


@dataclass
class EthLog:
    address: str
    topics: list[str]
    data: str
    token_transfer: tuple[str, str, int] | None = None  # (from, to, amount) when this is an ERC-20 Transfer


@dataclass
class EthTx:
    """One transaction with everything it emits; indexes are assigned when its block is written."""

    hash: str
    block: int
    from_address: str
    to_address: str
    value: int = 0
    input: str = "0x"
    gas: int = 21_000
    logs: list[EthLog] = field(default_factory=list)
    traces: list[tuple[str, str, int]] = field(default_factory=list)  # internal calls (from, to, wei)

    def token_transfer(self, token: str, sender: str, receiver: str, amount: int) -> None:
        topics = [TOPIC_TRANSFER, "0x" + address_word(sender), "0x" + address_word(receiver)]
        self.logs.append(EthLog(token, topics, "0x" + word(amount), (sender, receiver, amount)))


def _int(values: list[int] | np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.int64())


def _str(values: list) -> pa.Array:
    return pa.array(values, type=pa.string())


def events_to_columns(events: list[EthTx], tx_base: dict[int, int], log_base: dict[int, int],
                      world) -> dict[str, dict[str, pa.Array]]:
    """Rows of the event-driven transactions, indexed after the background rows of the same block."""
    tx = {k: [] for k in ("hash", "block", "index", "from", "to", "value", "input", "gas")}
    tt = {k: [] for k in ("token", "from", "to", "value", "hash", "log_index", "block")}
    lg = {k: [] for k in ("log_index", "hash", "index", "block", "address", "data", "topics")}
    tr = {k: [] for k in ("block", "hash", "index", "from", "to", "value", "trace_address")}
    for ev in sorted(events, key=lambda e: e.block):
        index = tx_base.get(ev.block, 0)
        tx_base[ev.block] = index + 1
        tx["hash"].append(ev.hash)
        tx["block"].append(ev.block)
        tx["index"].append(index)
        tx["from"].append(ev.from_address)
        tx["to"].append(ev.to_address)
        tx["value"].append(str(ev.value))
        tx["input"].append(ev.input)
        tx["gas"].append(ev.gas)
        for log in ev.logs:
            log_index = log_base.get(ev.block, 0)
            log_base[ev.block] = log_index + 1
            for k, v in (("log_index", log_index), ("hash", ev.hash), ("index", index), ("block", ev.block),
                         ("address", log.address), ("data", log.data), ("topics", ",".join(log.topics))):
                lg[k].append(v)
            if log.token_transfer is not None:
                sender, receiver, amount = log.token_transfer
                for k, v in (("token", log.address), ("from", sender), ("to", receiver), ("value", str(amount)),
                             ("hash", ev.hash), ("log_index", log_index), ("block", ev.block)):
                    tt[k].append(v)
        for position, (sender, receiver, amount) in enumerate(ev.traces):
            for k, v in (("block", ev.block), ("hash", ev.hash), ("index", index), ("from", sender),
                         ("to", receiver), ("value", str(amount)), ("trace_address", str(position))):
                tr[k].append(v)
    return {
        "tx": {"hash": _str(tx["hash"]), "block": _int(tx["block"]), "index": _int(tx["index"]),
               "from": _str(tx["from"]), "to": _str(tx["to"]), "value": _str(tx["value"]),
               "input": _str(tx["input"]), "gas": _int(tx["gas"])},
        "tt": {"token": _str(tt["token"]), "from": _str(tt["from"]), "to": _str(tt["to"]),
               "value": _str(tt["value"]), "hash": _str(tt["hash"]), "log_index": _int(tt["log_index"]),
               "block": _int(tt["block"])},
        "log": {"log_index": _int(lg["log_index"]), "hash": _str(lg["hash"]), "index": _int(lg["index"]),
                "block": _int(lg["block"]), "address": _str(lg["address"]), "data": _str(lg["data"]),
                "topics": _str(lg["topics"])},
        "trace": {"block": _int(tr["block"]), "hash": _str(tr["hash"]), "index": _int(tr["index"]),
                  "from": _str(tr["from"]), "to": _str(tr["to"]), "value": _str(tr["value"]),
                  "trace_address": _str(tr["trace_address"])},
    }


def concat_columns(parts: list[dict[str, pa.Array]]) -> dict[str, pa.Array]:
    keys = parts[0].keys()
    return {k: pa.concat_arrays([p[k] for p in parts if len(p[k])] or [parts[0][k]]) for k in keys}


def _order(*keys: pa.Array) -> pa.Array:
    table = pa.table({f"k{i}": k for i, k in enumerate(keys)})
    return pc.sort_indices(table, sort_keys=[(f"k{i}", "ascending") for i in range(len(keys))])


def _const(value, n: int, type_=pa.string()) -> pa.Array:
    return pa.repeat(pa.scalar(value, type=type_), n) if value is not None else pa.nulls(n, type_)


class EthWriter:
    """Streams the six ethereum-etl CSV files; blocks and their rows are written in block order."""

    def __init__(self, directory: Path, world, partition_blocks: int | None = None) -> None:
        """`partition_blocks`: write ethereum-etl's `export_all` layout instead of one file per table
        (`blocks/start_block=00000000/end_block=00009999/blocks_00000000_00009999.csv`, ...), starting a
        partition at the first chunk at least that many blocks after the last one began. Ingest then
        works partition by partition (bounded memory and temporary space at any size)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.world, self.partition_blocks = directory, world, partition_blocks
        self._sinks: dict[str, pacsv.CSVWriter] = {}
        self._part_start: int | None = None
        self._last_block = 0
        if partition_blocks is None:
            self._open(directory)
        self._parent = "0x" + "00" * 32
        self.rows = {name: 0 for name in FILES}
        self.value_transfers = 0  # transactions with value > 0, token transfers, internal calls

    def _open(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._sinks = {name: pacsv.CSVWriter(
            str(directory / f"{name}.csv"),
            pa.schema([(c, pa.string()) for c in cols]),
            # like Python's csv module (QUOTE_MINIMAL): only logs.topics holds commas, so only logs is quoted
            write_options=pacsv.WriteOptions(include_header=True,
                                             quoting_style="needed" if name == "logs" else "none"))
            for name, cols in FILES.items()}

    def _start_partition(self, b0: int) -> None:
        """Close the open partition (ending at block b0 - 1) and open one starting at b0."""
        if self.partition_blocks is None:
            return
        if self._part_start is not None:
            if b0 - self._part_start < self.partition_blocks:
                return
            self._close_partition(b0 - 1)
        self._part_start = b0
        self._open(self.directory / ".partition")

    def _close_partition(self, end: int) -> None:
        for sink in self._sinks.values():
            sink.close()
        lo, hi = f"{self._part_start:08d}", f"{end:08d}"
        for name in FILES:
            target = self.directory / name / f"start_block={lo}" / f"end_block={hi}"
            target.mkdir(parents=True, exist_ok=True)
            (self.directory / ".partition" / f"{name}.csv").rename(target / f"{name}_{lo}_{hi}.csv")
        self._sinks = {}

    def _write(self, name: str, columns: dict[str, pa.Array]) -> None:
        cols = FILES[name]
        n = len(next(iter(columns.values())))
        if n == 0:
            return
        arrays = [pc.cast(columns[c], pa.string()) if c in columns else pa.nulls(n, pa.string()) for c in cols]
        self._sinks[name].write_table(pa.Table.from_arrays(arrays, names=cols))
        self.rows[name] += n

    def write_tokens(self, tokens) -> None:
        self._start_partition(0)
        rows = [t for t in tokens if t.address]
        self._write("tokens", {"address": _str([t.address for t in rows]), "symbol": _str([t.symbol for t in rows]),
                               "name": _str([t.name for t in rows]), "decimals": _int([t.decimals for t in rows]),
                               "total_supply": _str([str(10**30) for _ in rows]),
                               "block_number": _int([0 for _ in rows])})

    def write_chunk(self, b0: int, b1: int, tx: dict, tt: dict, log: dict, trace: dict) -> None:
        """Write blocks [b0, b1) and every row in them (columns already merged, any order)."""
        self._start_partition(b0)
        self._last_block = b1 - 1
        world = self.world
        hashes = hex_matrix(world.block_hashes[b0:b1])
        block_hash_of = lambda blocks: pc.take(hashes, pc.subtract(blocks, b0))  # noqa: E731
        time_of = lambda blocks: pc.add(pc.multiply(blocks, world.eth_interval), world.eth_time(0))  # noqa: E731

        order = _order(tx["block"], tx["index"])
        tx = {k: pc.take(v, order) for k, v in tx.items()}
        n = len(tx["hash"])
        self.value_transfers += n - pc.sum(pc.equal(tx["value"], "0")).as_py() + len(tt["hash"]) + len(trace["hash"])
        gas_used = tx["gas"]
        self._write("transactions", {
            "hash": tx["hash"], "nonce": pc.bit_wise_and(tx["index"], 1023), "block_hash": block_hash_of(tx["block"]),
            "block_number": tx["block"], "transaction_index": tx["index"], "from_address": tx["from"],
            "to_address": tx["to"], "value": tx["value"], "gas": pc.add(gas_used, 10_000),
            "gas_price": _const(str(GAS_PRICE), n), "input": tx["input"], "block_timestamp": time_of(tx["block"]),
            "max_fee_per_gas": _const(str(2 * GAS_PRICE), n), "max_priority_fee_per_gas": _const(str(PRIORITY_FEE), n),
            "transaction_type": _const("2", n), "receipt_cumulative_gas_used": gas_used, "receipt_gas_used": gas_used,
            "receipt_status": _const("1", n), "receipt_effective_gas_price": _const(str(GAS_PRICE), n)})

        order = _order(tt["block"], tt["log_index"])
        tt = {k: pc.take(v, order) for k, v in tt.items()}
        self._write("token_transfers", {"token_address": tt["token"], "from_address": tt["from"],
                                        "to_address": tt["to"], "value": tt["value"], "transaction_hash": tt["hash"],
                                        "log_index": tt["log_index"], "block_number": tt["block"]})

        order = _order(log["block"], log["log_index"])
        log = {k: pc.take(v, order) for k, v in log.items()}
        self._write("logs", {"log_index": log["log_index"], "transaction_hash": log["hash"],
                             "transaction_index": log["index"], "block_hash": block_hash_of(log["block"]),
                             "block_number": log["block"], "address": log["address"], "data": log["data"],
                             "topics": log["topics"]})

        order = _order(trace["block"], trace["index"])
        trace = {k: pc.take(v, order) for k, v in trace.items()}
        m = len(trace["hash"])
        trace_id = pc.binary_join_element_wise("call_", trace["hash"], "_", trace["trace_address"], "")
        self._write("traces", {"block_number": trace["block"], "transaction_hash": trace["hash"],
                               "transaction_index": trace["index"], "from_address": trace["from"],
                               "to_address": trace["to"], "value": trace["value"], "input": _const("0x", m),
                               "output": _const("0x", m), "trace_type": _const("call", m),
                               "call_type": _const("call", m), "gas": _const("2300", m), "gas_used": _const("0", m),
                               "subtraces": _const("0", m), "trace_address": trace["trace_address"],
                               "status": _const("1", m), "trace_id": trace_id})

        # blocks: counts and gas from the rows just written
        nb = b1 - b0
        counts = np.bincount(np.asarray(tx["block"]) - b0, minlength=nb).astype(np.int64)
        gas = np.bincount(np.asarray(tx["block"]) - b0, weights=np.asarray(gas_used), minlength=nb).astype(np.int64)
        numbers = np.arange(b0, b1, dtype=np.int64)
        parents = pa.concat_arrays([pa.array([self._parent]), hashes[:-1]]) if nb else hashes
        self._parent = hashes[-1].as_py() if nb else self._parent
        roots = hex_matrix(np.roll(world.block_hashes[b0:b1], 7, axis=1))
        self._write("blocks", {
            "number": _int(numbers), "hash": hashes, "parent_hash": parents, "nonce": _const("0x0000000000000000", nb),
            "sha3_uncles": _const("0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347", nb),
            "logs_bloom": _const("0x" + "0" * 512, nb), "transactions_root": roots, "state_root": roots,
            "receipts_root": roots, "miner": _const(world.faucet, nb),
            "difficulty": _const("0", nb), "total_difficulty": _const("58750003716598352816469", nb),
            "size": _int(600 + counts * 110), "extra_data": _const("0x", nb), "gas_limit": _const("30000000", nb),
            "gas_used": _int(gas), "timestamp": _int(world.eth_time(0) + numbers * world.eth_interval),
            "transaction_count": _int(counts), "base_fee_per_gas": _const(str(BASE_FEE), nb)})

    def close(self) -> None:
        if self.partition_blocks is None:
            for sink in self._sinks.values():
                sink.close()
        elif self._sinks:
            self._close_partition(self._last_block)
            (self.directory / ".partition").rmdir()
