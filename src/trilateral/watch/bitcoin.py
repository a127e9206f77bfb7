"""Bitcoin Core node adapter: `getblockcount`, `getblockhash`, `getblock HASH 2` as UTXO arrays.

Values are read as exact decimals (never floats) and turned into satoshi; verbosity 2 names the
outpoints a transaction spends but not their values, so a spend's clean inputs are inferred from
its outputs and `fee` (which Core reports when it has the block's undo data)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from trilateral.chain.bitcoin import _btc_to_sat, _core_address
from trilateral.core.errors import InputError
from trilateral.watch.model import Block, UtxoTx


class BitcoinAdapter:
    def __init__(self, chain: str, url: str) -> None:
        self.chain = chain
        self.url = url
        self.http = httpx.Client(timeout=30.0)

    def call(self, method: str, *params: Any) -> Any:
        try:
            response = self.http.post(self.url, json={"jsonrpc": "1.0", "id": "trilateral", "method": method,
                                                      "params": list(params)})
        except httpx.HTTPError as exc:
            raise InputError(f"Bitcoin Core RPC {self.url} failed: {exc}") from exc
        try:
            answer = json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise InputError(f"Bitcoin Core RPC {self.url} {method}: HTTP {response.status_code}, not JSON") from None
        if answer.get("error"):
            raise InputError(f"Bitcoin Core RPC {method} at {self.url}: {answer['error'].get('message')}")
        return answer["result"]

    def head(self) -> int:
        return int(self.call("getblockcount"))

    def block_hash(self, number: int) -> str | None:
        return self.call("getblockhash", number)

    def block(self, number: int) -> Block:
        return block_from_core(self.chain, self.call("getblock", self.call("getblockhash", number), 2))

    def blocks(self, lo: int, hi: int) -> list[Block]:
        return [self.block(n) for n in range(lo, hi + 1)]

    def close(self) -> None:
        self.http.close()


def block_from_core(chain: str, doc: dict[str, Any]) -> Block:
    """A `getblock HASH 2` answer as the core's block (coinbase inputs spend nothing)."""
    block = Block(chain, int(doc["height"]), doc["hash"], doc.get("previousblockhash") or "", int(doc["time"]))
    for tx in doc["tx"]:
        txid = tx["txid"]
        inputs = [(v["txid"], int(v["vout"])) for v in tx["vin"] if "coinbase" not in v]
        outputs = [(_core_address(o.get("scriptPubKey") or {}, txid, int(o["n"])), _btc_to_sat(o["value"], txid))
                   for o in tx["vout"]]
        fee = _btc_to_sat(tx["fee"], txid) if tx.get("fee") is not None else None
        block.utxo_txs.append(UtxoTx(txid, inputs, outputs, fee))
    return block
