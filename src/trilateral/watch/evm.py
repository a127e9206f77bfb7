"""EVM node adapter: a block over JSON-RPC as the core's arrays (native value of successful
transactions, ERC-20 `Transfer` logs, Tornado-style pool `Deposit`/`Withdrawal` events)."""

from __future__ import annotations

from trilateral.chain.ethereum_etl import (
    BLACKLIST_TOPICS,
    ERC20_TRANSFER,
    TORNADO_DEPOSIT,
    TORNADO_WITHDRAWAL,
)
from trilateral.chain.rpc import DECIMALS_SELECTOR, SYMBOL_SELECTOR, RpcClient, _abi_string
from trilateral.core.chains import CHAINS
from trilateral.core.errors import InputError
from trilateral.watch.evm_traces import TraceSource
from trilateral.watch.model import Block, Transfer, Withdrawal

NATIVE = {c.name: c.native for c in CHAINS.values() if c.evm}


class EvmAdapter:
    """Follows one EVM chain by polling `eth_blockNumber` and reading whole blocks."""

    def __init__(self, chain: str, url: str, traces: bool = False) -> None:
        self.chain = chain
        self.client = RpcClient(url, timeout=30.0)
        self.native = NATIVE.get(chain, "ETH")
        self.tokens: dict[str, tuple[str, int]] = {}
        self.tracer = TraceSource(self.client, self.native) if traces else None

    def head(self) -> int:
        return int(self.client.call("eth_blockNumber"), 16)

    def block_hash(self, number: int) -> str | None:
        b = self.client.call("eth_getBlockByNumber", hex(number), False)
        return b["hash"] if b else None

    def block(self, number: int) -> Block:
        return self.blocks(number, number)[0]

    def blocks(self, lo: int, hi: int) -> list[Block]:
        """Blocks lo..hi in three round trips (blocks, their logs, receipts of value transfers), and one
        more for internal transfers with `traces`."""
        raw = self.client.batch([("eth_getBlockByNumber", [hex(n), True]) for n in range(lo, hi + 1)])
        if any(b is None for b in raw):
            raise InputError(f"node {self.client.url} has no block in {lo}..{hi}")
        logs = self.client.call("eth_getLogs", {"fromBlock": hex(lo), "toBlock": hex(hi),
                                                "topics": [[ERC20_TRANSFER, TORNADO_DEPOSIT, TORNADO_WITHDRAWAL,
                                                            *BLACKLIST_TOPICS]]})
        valued = [tx for b in raw for tx in b["transactions"] if int(tx["value"], 16) and tx.get("to")]
        receipts = self.client.batch([("eth_getTransactionReceipt", [tx["hash"]]) for tx in valued])
        ok = {tx["hash"] for tx, rc in zip(valued, receipts, strict=True) if rc and rc.get("status") != "0x0"}
        by_tx: dict[str, list[dict]] = {}
        hashes = {b["hash"] for b in raw}
        for log in sorted(logs or [], key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16))):
            if not log.get("removed") and log["blockHash"] in hashes:
                by_tx.setdefault(log["transactionHash"], []).append(log)
        internal = self.tracer.internal(raw) if self.tracer else {}
        return [self._block(b, ok, by_tx, internal) for b in raw]

    def _block(self, b: dict, ok: set[str], by_tx: dict[str, list[dict]], internal: dict[str, list[Transfer]]
               ) -> Block:
        block = Block(self.chain, int(b["number"], 16), b["hash"], b["parentHash"], int(b["timestamp"], 16))
        new_tokens: set[str] = set()
        for tx in b["transactions"]:
            if tx["hash"] in ok:
                block.transfers.append(Transfer(tx["hash"], tx["from"].lower(), tx["to"].lower(), self.native,
                                                int(tx["value"], 16)))
            block.transfers.extend(internal.get(tx["hash"], ()))  # contract calls moving value (--traces)
            for log in by_tx.get(tx["hash"], []):
                topics, address = log["topics"], log["address"].lower()
                if topics[0] == ERC20_TRANSFER and len(topics) == 3 and len(log["data"]) == 66:
                    block.transfers.append(Transfer(tx["hash"], "0x" + topics[1][-40:], "0x" + topics[2][-40:],
                                                    address, int(log["data"], 16)))
                    if address not in self.tokens:
                        new_tokens.add(address)
                elif topics[0] in BLACKLIST_TOPICS:  # Tether: address in data; Circle: indexed
                    name = BLACKLIST_TOPICS[topics[0]]
                    word = log["data"] if name.endswith("BlackList") else (topics[1] if len(topics) > 1 else "")
                    if len(word) == 66:
                        block.blacklists.append((address, "0x" + word[-40:].lower(), name in ("AddedBlackList",
                                                                                              "Blacklisted")))
                elif topics[0] == TORNADO_DEPOSIT:
                    block.mixer_deposits.append((address, tx["hash"]))
                elif topics[0] == TORNADO_WITHDRAWAL:
                    data = log["data"][2:]
                    relayer = "0x" + topics[1][-40:] if len(topics) > 1 else "0x" + "0" * 40
                    block.withdrawals.append(Withdrawal(tx["hash"], address, "0x" + data[24:64], relayer,
                                                        int(data[128:192] or "0", 16)))
        block.assets = self._token_info(sorted(new_tokens))
        return block

    def _token_info(self, contracts: list[str]) -> dict[str, tuple[str, int]]:
        if not contracts:
            return {}
        answers = self.client.batch([c for a in contracts for c in (
            ("eth_call", [{"to": a, "data": SYMBOL_SELECTOR}, "latest"]),
            ("eth_call", [{"to": a, "data": DECIMALS_SELECTOR}, "latest"]))], tolerate_errors=True)
        for i, a in enumerate(contracts):
            decimals = answers[2 * i + 1]
            self.tokens[a] = (_abi_string(answers[2 * i]) or a,
                              int(decimals, 16) if decimals and decimals != "0x" else 0)
        return {a: self.tokens[a] for a in contracts}

    def close(self) -> None:
        self.client.close()
