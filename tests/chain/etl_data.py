"""Build small ethereum-etl CSV directories (real column sets) with the value moves they contain."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

BLOCK_COLS = ["number", "hash", "parent_hash", "nonce", "sha3_uncles", "logs_bloom", "transactions_root",
              "state_root", "receipts_root", "miner", "difficulty", "total_difficulty", "size", "extra_data",
              "gas_limit", "gas_used", "timestamp", "transaction_count", "base_fee_per_gas"]
TX_COLS = ["hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address", "to_address",
           "value", "gas", "gas_price", "input", "block_timestamp", "max_fee_per_gas", "max_priority_fee_per_gas",
           "transaction_type", "receipt_cumulative_gas_used", "receipt_gas_used", "receipt_contract_address",
           "receipt_root", "receipt_status", "receipt_effective_gas_price"]
TT_COLS = ["token_address", "from_address", "to_address", "value", "transaction_hash", "log_index", "block_number"]
TOKEN_COLS = ["address", "symbol", "name", "decimals", "total_supply", "block_number"]
LOG_COLS = ["log_index", "transaction_hash", "transaction_index", "block_hash", "block_number", "address", "data",
            "topics"]
TRACE_COLS = ["block_number", "transaction_hash", "transaction_index", "from_address", "to_address", "value",
              "input", "output", "trace_type", "call_type", "reward_type", "gas", "gas_used", "subtraces",
              "trace_address", "error", "status", "trace_id"]


def internal_log_index(trace_address: str) -> int:
    """The store's log index of an internal move: -2 - (trace address packed 7 bits a level, 4 levels)."""
    parts = [int(x) for x in trace_address.replace("_", ",").split(",")]
    return -2 - sum((p + 1) * 128 ** (3 - i) for i, p in enumerate(parts))


def h32(*parts: object) -> str:
    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def addr(n: int) -> str:
    return "0x" + hashlib.sha256(f"addr{n}".encode()).hexdigest()[:40]


def word(value: int | str) -> str:
    if isinstance(value, str):
        return value.removeprefix("0x").rjust(64, "0")
    return f"{value:064x}"


@dataclass
class EtlData:
    """Rows of each CSV plus the (tx_hash, log_index, kind, from, to, asset contract|None, value) expected."""

    blocks: list[dict] = field(default_factory=list)
    transactions: list[dict] = field(default_factory=list)
    token_transfers: list[dict] = field(default_factory=list)
    tokens: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)
    expected: list[tuple] = field(default_factory=list)

    def block(self, number: int, timestamp: int) -> str:
        bh = h32("block", number)
        self.blocks.append({"number": number, "hash": bh, "timestamp": timestamp, "miner": addr(999),
                            "transaction_count": 0})
        return bh

    def tx(self, block: int, index: int, frm: str, to: str | None, value: int, status: int = 1,
           created: str = "") -> str:
        th = h32("tx", block, index)
        ts = next(b["timestamp"] for b in self.blocks if b["number"] == block)
        self.transactions.append({"hash": th, "block_hash": h32("block", block), "block_number": block,
                                  "transaction_index": index, "from_address": frm, "to_address": to or "",
                                  "value": value, "block_timestamp": ts, "receipt_status": status,
                                  "receipt_contract_address": created, "input": "0x", "nonce": index,
                                  "gas": 21000, "gas_price": 1, "transaction_type": 2})
        if value > 0 and status == 1:
            self.expected.append((th, -1, "native", frm, to or created, None, value))
        return th

    def token(self, contract: str, symbol: str, decimals: int) -> None:
        self.tokens.append({"address": contract, "symbol": symbol, "name": symbol, "decimals": decimals,
                            "total_supply": 10**30, "block_number": 1})

    def token_transfer(self, tx_hash: str, block: int, log_index: int, contract: str, frm: str, to: str,
                       value: int) -> None:
        self.token_transfers.append({"token_address": contract, "from_address": frm, "to_address": to,
                                     "value": value, "transaction_hash": tx_hash, "log_index": log_index,
                                     "block_number": block})
        if value > 0:
            self.expected.append((tx_hash, log_index, "token", frm, to, contract, value))

    def trace(self, tx_hash: str, block: int, frm: str, to: str, value: int, trace_address: str,
              call_type: str = "call", status: int = 1, trace_type: str = "call") -> None:
        self.traces.append({"block_number": block, "transaction_hash": tx_hash, "transaction_index": 0,
                            "from_address": frm, "to_address": to, "value": value, "trace_type": trace_type,
                            "call_type": call_type, "trace_address": trace_address, "status": status,
                            "subtraces": 0, "gas": 0, "gas_used": 0, "input": "0x", "output": "0x"})

    def log(self, tx_hash: str, block: int, log_index: int, contract: str, topics: list[str], data: str) -> None:
        self.logs.append({"log_index": log_index, "transaction_hash": tx_hash, "transaction_index": 0,
                          "block_hash": h32("block", block), "block_number": block, "address": contract,
                          "data": data, "topics": ",".join(topics)})

    def write(self, out: Path, *, with_traces: bool = True, with_logs: bool = True) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "blocks.csv", BLOCK_COLS, self.blocks)
        write_csv(out / "transactions.csv", TX_COLS, self.transactions)
        write_csv(out / "token_transfers.csv", TT_COLS, self.token_transfers)
        write_csv(out / "tokens.csv", TOKEN_COLS, self.tokens)
        if with_logs:
            write_csv(out / "logs.csv", LOG_COLS, self.logs)
        if with_traces:
            write_csv(out / "traces.csv", TRACE_COLS, self.traces)
        return out


def write_csv(path: Path, cols: list[str], rows: list[dict]) -> None:
    """An ethereum-etl style CSV of `rows` with exactly `cols` (missing values empty)."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({c: row.get(c, "") for c in cols})
