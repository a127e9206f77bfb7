"""A live EVM node over JSON-RPC into the account-model store, in committed block-range batches.

Each batch fetches its blocks with full transactions, their receipts (status, created contract) and
the logs of ERC-20 `Transfer`, Tornado Cash `Deposit`/`Withdrawal` and the USDT/USDC issuers' blacklist
events (batched JSON-RPC requests),
writes them as an ethereum-etl directory and commits it through the same set-based ingest, so both
sources mean the same thing. Blocks already in the store are skipped, so re-running over a range
changes nothing. Internal value transfers need `trace_*` (not served by ganache or most nodes): they
come from ethereum-etl traces instead.
"""

from __future__ import annotations

import csv
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from trilateral.chain.common import IngestReport, progress_bar
from trilateral.chain.ethereum_etl import (
    BLACKLIST_TOPICS,
    ERC20_TRANSFER,
    STEPS_PER_BATCH,
    TORNADO_DEPOSIT,
    TORNADO_WITHDRAWAL,
    EtlBatch,
    EtlIngest,
)
from trilateral.chain.writer import TableWriter
from trilateral.core.errors import InputError

SYMBOL_SELECTOR = "0x95d89b41"
DECIMALS_SELECTOR = "0x313ce567"


class RpcClient:
    """Minimal JSON-RPC 2.0 client with batch calls."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.http = httpx.Client(timeout=timeout)
        self._id = 0

    def batch(self, calls: list[tuple[str, list[Any]]], tolerate_errors: bool = False) -> list[Any]:
        """Results in call order; an RPC error fails the batch (or gives None when tolerated)."""
        if not calls:
            return []
        payload = []
        for method, params in calls:
            self._id += 1
            payload.append({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        try:
            response = self.http.post(self.url, json=payload)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise InputError(f"JSON-RPC node {self.url} failed: {exc}") from exc
        answers = orjson.loads(response.content)  # blocks with full transactions: several MB a batch
        if isinstance(answers, dict):
            answers = [answers]
        by_id = {a.get("id"): a for a in answers}
        out = []
        for item in payload:
            answer = by_id.get(item["id"], {})
            if "error" in answer and tolerate_errors:
                out.append(None)
                continue
            if "error" in answer:
                raise InputError(f"JSON-RPC {item['method']} at {self.url}: {answer['error'].get('message')}")
            out.append(answer.get("result"))
        return out

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def close(self) -> None:
        self.http.close()


def _int(value: str | None) -> int | None:
    return None if value is None else int(value, 16)


def _abi_string(data: str | None) -> str | None:
    """Decode an ABI `string` return value (or a bytes32 one, as some old tokens return)."""
    if not data or data == "0x":
        return None
    raw = bytes.fromhex(data[2:])
    try:
        if len(raw) >= 64:
            length = int.from_bytes(raw[32:64], "big")
            return raw[64:64 + length].decode("utf-8", errors="replace")
        return raw.rstrip(b"\0").decode("utf-8", errors="replace")
    except (ValueError, IndexError):
        return None


def _write_csv(path: Path, cols: list[str], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)


def fetch_range(client: RpcClient, lo: int, hi: int, out: Path, known_tokens: set[str]) -> dict[str, int]:
    """Write blocks lo..hi as an ethereum-etl directory (blocks, transactions, token_transfers, tokens, logs)."""
    blocks = client.batch([("eth_getBlockByNumber", [hex(n), True]) for n in range(lo, hi + 1)])
    if any(b is None for b in blocks):
        raise InputError(f"node {client.url} has no block in {lo}..{hi} yet")
    txs = [tx for b in blocks for tx in b["transactions"]]
    receipts = client.batch([("eth_getTransactionReceipt", [tx["hash"]]) for tx in txs])
    logs = client.call("eth_getLogs", {"fromBlock": hex(lo), "toBlock": hex(hi),
                                       "topics": [[ERC20_TRANSFER, TORNADO_DEPOSIT, TORNADO_WITHDRAWAL,
                                                   *BLACKLIST_TOPICS]]})
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "blocks.csv", ["number", "hash", "timestamp", "transaction_count"], [
        {"number": _int(b["number"]), "hash": b["hash"], "timestamp": _int(b["timestamp"]),
         "transaction_count": len(b["transactions"])} for b in blocks])
    ts = {_int(b["number"]): _int(b["timestamp"]) for b in blocks}
    tx_rows = []
    for tx, rc in zip(txs, receipts, strict=True):
        tx_rows.append({"hash": tx["hash"], "block_hash": tx["blockHash"], "block_number": _int(tx["blockNumber"]),
                        "transaction_index": _int(tx["transactionIndex"]), "from_address": tx["from"],
                        "to_address": tx.get("to") or "", "value": _int(tx["value"]),
                        "block_timestamp": ts[_int(tx["blockNumber"])],
                        "receipt_contract_address": (rc or {}).get("contractAddress") or "",
                        "receipt_status": _int((rc or {}).get("status")) if rc and rc.get("status") else ""})
    _write_csv(out / "transactions.csv", ["hash", "block_hash", "block_number", "transaction_index", "from_address",
                                          "to_address", "value", "block_timestamp", "receipt_contract_address",
                                          "receipt_status"], tx_rows)
    transfers, log_rows, contracts = [], [], set()
    for log in logs or []:
        if log.get("removed"):
            continue
        topics = log["topics"]
        block = _int(log["blockNumber"])
        if topics[0] == ERC20_TRANSFER and len(topics) == 3 and len(log["data"]) == 66:  # ERC-721 has 4 topics
            transfers.append({"token_address": log["address"], "from_address": "0x" + topics[1][-40:],
                              "to_address": "0x" + topics[2][-40:], "value": int(log["data"], 16),
                              "transaction_hash": log["transactionHash"], "log_index": _int(log["logIndex"]),
                              "block_number": block})
            contracts.add(log["address"].lower())
        elif topics[0] in (TORNADO_DEPOSIT, TORNADO_WITHDRAWAL) or topics[0] in BLACKLIST_TOPICS:
            log_rows.append({"log_index": _int(log["logIndex"]), "transaction_hash": log["transactionHash"],
                             "transaction_index": _int(log["transactionIndex"]), "block_hash": log["blockHash"],
                             "block_number": block, "address": log["address"], "data": log["data"],
                             "topics": ",".join(topics)})
    _write_csv(out / "token_transfers.csv", ["token_address", "from_address", "to_address", "value",
                                             "transaction_hash", "log_index", "block_number"], transfers)
    _write_csv(out / "logs.csv", ["log_index", "transaction_hash", "transaction_index", "block_hash",
                                  "block_number", "address", "data", "topics"], log_rows)
    new = sorted(contracts - known_tokens)
    meta = client.batch([c for addr in new for c in (("eth_call", [{"to": addr, "data": SYMBOL_SELECTOR}, "latest"]),
                                                    ("eth_call", [{"to": addr, "data": DECIMALS_SELECTOR}, "latest"]))],
                        tolerate_errors=True) \
        if new else []
    token_rows = []
    for i, addr in enumerate(new):
        decimals = meta[2 * i + 1]
        token_rows.append({"address": addr, "symbol": _abi_string(meta[2 * i]) or "",
                           "decimals": int(decimals, 16) if decimals and decimals != "0x" else ""})
    known_tokens.update(new)
    _write_csv(out / "tokens.csv", ["address", "symbol", "decimals"], token_rows)
    return {"blocks": len(blocks), "transactions": len(txs), "token_transfers": len(transfers), "logs": len(log_rows)}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _pending_ranges(lo: int, hi: int, done: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Sub-ranges of lo..hi not yet in the store, cut into batches of `size` blocks."""
    out = []
    n = lo
    while n <= hi:
        covering = next(((a, b) for a, b in done if a <= n <= b), None)
        if covering:
            n = covering[1] + 1
            continue
        end = min(hi, n + size - 1)
        nxt = min((a for a, _ in done if a > n), default=None)
        if nxt is not None:
            end = min(end, nxt - 1)
        out.append((n, end))
        n = end + 1
    return out


DEV_CHAIN_IDS = (1337, 31337)


def check_chain_id(chain: str, node_id: int, url: str, report: IngestReport) -> None:
    """Refuse a node of another chain; a local development node gets a note instead."""
    from trilateral.core.chains import chain as chain_named

    expected = chain_named(chain).chain_id
    if node_id == expected:
        return
    if node_id in DEV_CHAIN_IDS:
        report.note(f"{url} answers chain id {node_id} (a local development node), not {chain}'s {expected}: "
                    f"stored as {chain}")
        return
    raise InputError(f"{url} answers eth_chainId {node_id}, but --chain {chain} is chain id {expected}: "
                     "point at a node of that chain or pick the --chain it serves")


def ingest_rpc(chain_dir: Path, url: str, *, from_block: int | None = None, to_block: int | None = None,
               follow: bool = False, batch_blocks: int = 100, confirmations: int = 0, poll_seconds: float = 2.0,
               strict: bool = False, show_progress: bool = True, chain: str = "ethereum") -> IngestReport:
    """Ingest blocks from_block..to_block (default: after the last stored block .. the head).

    The node's `eth_chainId` must be `chain`'s id (core.chains), so a BSC node's blocks never land
    in the Ethereum store; local development ids (1337, 31337) are accepted with a note."""
    client = RpcClient(url)
    report = IngestReport(chain, url)
    node_id = _int(client.call("eth_chainId"))
    check_chain_id(chain, node_id, url, report)  # before the store is touched
    writer = TableWriter(chain_dir, chain, "account")
    if writer.manifest.get("rpc_chain_id") is None:
        writer.manifest["rpc_chain_id"] = node_id
    known_tokens = {a["contract"] for a in writer.read_assets() if a["contract"]}
    if follow and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stop following like Ctrl-C; a batch in flight is not committed
    try:
        while True:
            head = _int(client.call("eth_blockNumber")) - confirmations
            last = to_block if to_block is not None else head
            done = writer.block_ranges()
            start = from_block if from_block is not None else (max((b for _, b in done), default=-1) + 1)
            ranges = _pending_ranges(start, min(last, head), done, batch_blocks)
            bar = progress_bar(f"ingest {url}", len(ranges) * STEPS_PER_BATCH) if show_progress and ranges else None
            progress = bar.__enter__() if bar else None
            try:
                for lo, hi in ranges:
                    scratch = writer.dir / "_spill" / f"rpc-{lo}-{hi}"
                    shutil.rmtree(scratch, ignore_errors=True)
                    fetch_range(client, lo, hi, scratch, known_tokens)
                    batch = EtlBatch(f"blocks {lo}-{hi}", {n: scratch / f"{n}.csv" for n in
                                                          ("blocks", "transactions", "token_transfers", "tokens",
                                                           "logs")})
                    EtlIngest(writer, report, strict=strict, progress=progress).run(
                        [batch], keys={batch.label: f"rpc:{lo}-{hi}"})
                    shutil.rmtree(scratch, ignore_errors=True)
            finally:
                if bar:
                    bar.__exit__(None, None, None)
            if not follow or (to_block is not None and last <= head):
                break
            from_block = None
            time.sleep(poll_seconds)
    finally:
        client.close()
    report.note("internal value transfers are not read over JSON-RPC (no trace_* API): ingest ethereum-etl "
                "traces.csv for them")
    return report
