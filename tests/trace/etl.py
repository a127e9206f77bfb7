"""Write small ethereum-etl CSV directories (the real column sets) for trace tests, and ingest them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tests.chain.etl_data import write_csv

from trilateral.chain.ingest import ingest

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def address(name: str) -> str:
    return "0x" + hashlib.sha256(name.encode()).hexdigest()[:40]


@dataclass
class Etl:
    """Transactions with their native value, token transfers and internal transfers."""

    blocks: dict[int, int] = field(default_factory=dict)
    txs: list[dict] = field(default_factory=list)
    token_transfers: list[dict] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)
    tokens: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)

    def token(self, contract: str, symbol: str, decimals: int = 18) -> str:
        self.tokens.append({"address": contract, "symbol": symbol, "name": symbol, "decimals": decimals,
                            "total_supply": 10**30, "block_number": 1})
        return contract

    def tx(self, block: int, sender: str, to: str, value: int = 0, tx_hash: str | None = None,
           timestamp: int | None = None) -> str:
        self.blocks.setdefault(block, timestamp if timestamp is not None else T0 + block * 12)
        index = sum(1 for t in self.txs if t["block_number"] == block)
        h = tx_hash or "0x" + hashlib.sha256(f"tx{block}/{index}/{len(self.txs)}".encode()).hexdigest()
        self.txs.append({"hash": h, "block_number": block, "transaction_index": index, "from_address": sender,
                         "to_address": to, "value": value, "block_timestamp": self.blocks[block],
                         "receipt_status": 1, "input": "0x", "nonce": index, "gas": 21000, "gas_price": 1,
                         "transaction_type": 2, "block_hash": "0x" + f"{block:064x}"})
        return h

    def send(self, block: int, sender: str, to: str, value: int, **kw) -> str:
        return self.tx(block, sender, to, value, **kw)

    def token_send(self, tx_hash: str, contract: str, sender: str, to: str, value: int) -> None:
        block = next(t["block_number"] for t in self.txs if t["hash"] == tx_hash)
        log_index = sum(1 for t in self.token_transfers if t["block_number"] == block)
        self.token_transfers.append({"token_address": contract, "from_address": sender, "to_address": to,
                                     "value": value, "transaction_hash": tx_hash, "log_index": log_index,
                                     "block_number": block})

    def internal(self, tx_hash: str, sender: str, to: str, value: int) -> None:
        tx = next(t for t in self.txs if t["hash"] == tx_hash)
        n = sum(1 for t in self.traces if t["transaction_hash"] == tx_hash)
        self.traces.append({"block_number": tx["block_number"], "transaction_hash": tx_hash,
                            "transaction_index": tx["transaction_index"], "from_address": sender, "to_address": to,
                            "value": value, "trace_type": "call", "call_type": "call", "trace_address": str(n),
                            "status": 1, "subtraces": 0, "gas": 0, "gas_used": 0, "input": "0x", "output": "0x"})

    def log(self, tx_hash: str, contract: str, topics: list[str], data: str = "0x") -> None:
        """A raw event log (ethereum-etl logs.csv: topics comma-separated)."""
        tx = next(t for t in self.txs if t["hash"] == tx_hash)
        index = 1000 + sum(1 for lg in self.logs if lg["block_number"] == tx["block_number"])
        self.logs.append({"log_index": index, "transaction_hash": tx_hash, "transaction_index": tx["transaction_index"],
                          "block_hash": tx["block_hash"], "block_number": tx["block_number"], "address": contract,
                          "data": data, "topics": ",".join(topics)})

    def write(self, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        blocks = [{"number": b, "hash": "0x" + f"{b:064x}", "timestamp": ts, "transaction_count": 0,
                   "miner": address("miner")} for b, ts in sorted(self.blocks.items())]
        write_csv(out / "blocks.csv", ["number", "hash", "parent_hash", "miner", "timestamp", "transaction_count"], blocks)
        write_csv(out / "transactions.csv", ["hash", "nonce", "block_hash", "block_number", "transaction_index",
                                          "from_address", "to_address", "value", "gas", "gas_price", "input",
                                          "block_timestamp", "transaction_type", "receipt_status"], self.txs)
        write_csv(out / "token_transfers.csv", ["token_address", "from_address", "to_address", "value",
                                             "transaction_hash", "log_index", "block_number"], self.token_transfers)
        write_csv(out / "tokens.csv", ["address", "symbol", "name", "decimals", "total_supply", "block_number"],
               self.tokens)
        write_csv(out / "traces.csv", ["block_number", "transaction_hash", "transaction_index", "from_address",
                                    "to_address", "value", "input", "output", "trace_type", "call_type",
                                    "reward_type", "gas", "gas_used", "subtraces", "trace_address", "error",
                                    "status", "trace_id"], self.traces)
        if self.logs:
            write_csv(out / "logs.csv", ["log_index", "transaction_hash", "transaction_index", "block_hash",
                                         "block_number", "address", "data", "topics"], self.logs)
        return out

    def ingest(self, home: Path, name: str = "etl") -> Path:
        src = self.write(home.parent / name)
        ingest(home / "chain", fmt="etl", source=str(src), chain="ethereum", show_progress=False)
        return home / "chain"

