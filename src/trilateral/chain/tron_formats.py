"""Tron data as rows of ethereum-etl tables: the pure core of the Tron ingest, no I/O.

Two sources (docs/chain.md, "Tron"):
- **TronGrid HTTP API** responses (`{"data": [...], "success": true, "meta": {...}}`) of
  `/v1/accounts/{address}/transactions` (TRX `TransferContract`; `TriggerSmartContract` call value),
  `/v1/accounts/{address}/transactions/trc20` (TRC-20 transfers with `token_info`) and
  `/v1/contracts/{contract}/events` (Tether's `AddedBlackList`, a freeze).
- **Full-node HTTP API** block dumps: `/wallet/getblockbynum` (one block, or `{"block": [...]}` from
  `getblockbylimitnext`) and `/wallet/gettransactioninfobyblocknum` (a list of transaction infos
  with their logs). TRC-20 moves come from the infos' `Transfer` logs when given, else from the
  `transfer`/`transferFrom` call data of successful `TriggerSmartContract` transactions.

Addresses arrive as base58check `T…` or hex `41…` and are stored as `0x` + 20 bytes of hex (the
account chains' common form; the store shows `T…` again); transaction ids become `0x` + 64 hex.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from trilateral.chain.common import BadRow
from trilateral.chain.ethereum_etl import BLACKLIST_TOPICS, ERC20_TRANSFER
from trilateral.chain.explorer import SYNTH_LOG_INDEX, SYNTH_TX_INDEX
from trilateral.core.chains import CHAINS, tron_to_hex
from trilateral.core.errors import InputError

_TX_ID = re.compile(r"[0-9a-f]{64}")
TRON_GENESIS_MS = 1529891469000  # block 1 of Tron mainnet; one block per 3-second slot
SLOT_MS = 3000
TRANSFER_SELECTOR = "a9059cbb"  # transfer(address,uint256)
TRANSFER_FROM_SELECTOR = "23b872dd"  # transferFrom(address,address,uint256)
TETHER_EVENTS = {name: topic for topic, name in BLACKLIST_TOPICS.items() if name in ("AddedBlackList",
                                                                                   "RemovedBlackList")}
KNOWN_TOKENS = {tron_to_hex(c): (t, d) for c, (_, t, d) in CHAINS["tron"].tokens.items()}


@dataclass
class TronRows:
    """One file's rows as ethereum-etl rows (+ logs for blacklist events) and what it says about coverage."""

    kind: str  # normal | token | events | blocks
    transactions: list[dict[str, Any]] = field(default_factory=list)
    token_transfers: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    blocks: dict[int, tuple[int, str | None]] = field(default_factory=dict)
    bad: list[BadRow] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    estimated_blocks: int = 0
    logged: set[str] = field(default_factory=set)  # transactions whose logs (transaction infos) were read
    logs_in_block: dict[int, int] = field(default_factory=dict)  # next log index per block
    seen: dict[tuple, int] = field(default_factory=dict)  # occurrences of identical TRC-20 rows
    traces: list[dict[str, Any]] = field(default_factory=list)  # none on Tron; write_etl_batch reads it

    def rows(self) -> int:
        return len(self.transactions) + len(self.token_transfers) + len(self.logs)


def tx_hash(tx_id: str) -> str:
    h = str(tx_id).strip().lower().removeprefix("0x")
    if not _TX_ID.fullmatch(h):
        raise ValueError(f"transaction id {tx_id!r} is not 32 bytes of hex")
    return "0x" + h


def estimated_block(ts_ms: int) -> int:
    """A block number from a time, for TronGrid TRC-20 rows (they carry none): the 3-second slot
    since genesis. Real heights run behind it by the slots nobody produced; the report says so."""
    return max((int(ts_ms) - TRON_GENESIS_MS) // SLOT_MS + 1, 0)


def _synth_index(*parts: object, base: int, bits: int) -> int:
    digest = hashlib.md5("|".join(str(p) for p in parts).encode()).digest()
    return base + int.from_bytes(digest[:4], "big") % (2**bits)


def _status(tx: dict[str, Any]) -> str:
    ret = (tx.get("ret") or [{}])[0] or {}
    result = ret.get("contractRet")
    return "1" if result in (None, "", "SUCCESS") else "0"


def _word_address(word: str) -> str:
    return "0x" + word[-40:]


def read_trongrid(doc: Any, where: str) -> TronRows:
    """A TronGrid `/v1/...` response (or a bare list of its `data` rows) as rows."""
    if isinstance(doc, dict):
        if doc.get("success") is False or "Error" in doc or "error" in doc:
            raise InputError(f"{where}: TronGrid error response ({doc.get('error') or doc.get('Error')})")
        data = doc.get("data")
        if not isinstance(data, list):
            raise InputError(f"{where}: not a TronGrid response (no `data` list)")
    elif isinstance(doc, list):
        data = doc
    else:
        raise InputError(f"{where}: not a TronGrid response")
    out = TronRows(_kind_of(data))
    for i, row in enumerate(data):
        try:
            if "token_info" in row:
                _trc20_row(out, row)
            elif "event_name" in row:
                _event_row(out, row)
            elif "txID" in row:
                _account_tx(out, row, block=row.get("blockNumber"), ts_ms=row.get("block_timestamp"), index=None)
            else:
                raise ValueError("neither a transaction (txID), a TRC-20 transfer (token_info) nor an event")
        except (ValueError, KeyError, TypeError, InputError) as exc:
            out.bad.append(BadRow(where, i + 1, f"data[{i}]: {exc}"))
    return out


def _kind_of(data: list) -> str:
    first = data[0] if data else {}
    return "token" if "token_info" in first else ("events" if "event_name" in first else "normal")


def _account_tx(out: TronRows, tx: dict[str, Any], block: Any, ts_ms: Any, index: int | None) -> None:
    """TRX moved by one transaction: `TransferContract` amount, `TriggerSmartContract` call value."""
    raw = tx.get("raw_data") or {}
    contract = (raw.get("contract") or [{}])[0]
    kind = contract.get("type")
    value = (contract.get("parameter") or {}).get("value") or {}
    h = tx_hash(tx["txID"])
    if block is None or ts_ms is None:
        raise ValueError(f"transaction {h} has no blockNumber/block_timestamp")
    block, ts = int(block), int(ts_ms) // 1000
    tx_index = index if index is not None else _synth_index(h, base=SYNTH_TX_INDEX, bits=19)
    status = _status(tx)
    out.blocks.setdefault(block, (ts, None))
    out.times.append(ts)
    if kind == "TransferContract":
        frm, to, amount = tron_to_hex(value["owner_address"]), tron_to_hex(value["to_address"]), int(value["amount"])
    elif kind == "TriggerSmartContract":
        frm, to = tron_to_hex(value["owner_address"]), tron_to_hex(value["contract_address"])
        amount = int(value.get("call_value") or 0)
        data = str(value.get("data") or "").lower()
        if index is not None and status == "1":  # node dumps: TRC-20 from the call when no logs are given
            _call_transfer(out, h, block, tx_index, frm, to, data)
    else:
        return  # votes, freezes of stake, TRC-10 (TransferAssetContract) … move no TRX or TRC-20 value
    out.transactions.append({"hash": h, "block_number": block, "transaction_index": tx_index, "from_address": frm,
                             "to_address": to, "value": amount, "receipt_status": status,
                             "receipt_contract_address": "", "block_timestamp": ts, "block_hash": ""})


def _call_transfer(out: TronRows, h: str, block: int, tx_index: int, sender: str, contract: str, data: str) -> None:
    if data.startswith(TRANSFER_SELECTOR) and len(data) >= 8 + 128:
        frm, to, value = sender, _word_address(data[8:72]), int(data[72:136], 16)
    elif data.startswith(TRANSFER_FROM_SELECTOR) and len(data) >= 8 + 192:
        frm, to, value = _word_address(data[8:72]), _word_address(data[72:136]), int(data[136:200], 16)
    else:
        return
    out.token_transfers.append({"token_address": contract, "from_address": frm, "to_address": to, "value": value,
                                "transaction_hash": h, "log_index": tx_index * 1000, "block_number": block,
                                "transaction_index": tx_index, "_from_call": True})
    _known_token(out, contract)


def _known_token(out: TronRows, contract: str) -> None:
    if contract not in out.tokens and contract in KNOWN_TOKENS:
        out.tokens[contract] = KNOWN_TOKENS[contract]


def _trc20_row(out: TronRows, row: dict[str, Any]) -> None:
    if (row.get("type") or "Transfer") != "Transfer":
        return  # Approval rows move nothing
    info = row["token_info"]
    contract = tron_to_hex(info["address"])
    ts_ms = int(row["block_timestamp"])
    h = tx_hash(row["transaction_id"])
    block = row.get("block_number")
    if block is None:
        block = estimated_block(ts_ms)
        out.estimated_blocks += 1
    frm, to, value = tron_to_hex(row["from"]), tron_to_hex(row["to"]), int(str(row["value"]))
    out.tokens.setdefault(contract, (info.get("symbol"), int(info["decimals"]) if info.get("decimals") is not None
                                     else None))
    key = (h, contract, frm, to, value)
    occurrence = out.seen.get(key, 0)
    out.seen[key] = occurrence + 1
    out.token_transfers.append({
        "token_address": contract, "from_address": frm, "to_address": to, "value": value, "transaction_hash": h,
        "log_index": _synth_index(h, contract, frm, to, value, occurrence, base=SYNTH_LOG_INDEX, bits=28),
        "block_number": int(block), "transaction_index": _synth_index(h, base=SYNTH_TX_INDEX, bits=19)})
    out.blocks.setdefault(int(block), (ts_ms // 1000, None))
    out.times.append(ts_ms // 1000)


def _event_row(out: TronRows, row: dict[str, Any]) -> None:
    """TronGrid contract events: Tether's `AddedBlackList` / `RemovedBlackList(address _user)` are kept
    as their logs (stored as events under those names; the trace reads them as freezes)."""
    topic = TETHER_EVENTS.get(row["event_name"])
    if topic is None:
        return
    result = row.get("result") or {}
    user = result.get("_user") or result.get("0")
    if not user:
        raise ValueError(f"{row['event_name']} without `_user`")
    h, block, ts_ms = tx_hash(row["transaction_id"]), int(row["block_number"]), int(row["block_timestamp"])
    out.logs.append({"log_index": int(row.get("event_index") or 0), "transaction_hash": h, "block_number": block,
                     "address": tron_to_hex(row["contract_address"]),
                     "data": "0x" + tron_to_hex(user)[2:].rjust(64, "0"), "topics": topic})
    out.blocks.setdefault(block, (ts_ms // 1000, None))
    out.times.append(ts_ms // 1000)


def read_node_dump(doc: Any, where: str) -> TronRows:
    """`getblockbynum` block(s) and/or `gettransactioninfobyblocknum` lists from a full node."""
    out = TronRows("blocks")
    blocks, infos = _split_node_doc(doc, where)
    for i, info in enumerate(infos):
        try:
            out.logged |= _tx_info(out, info)
        except (ValueError, KeyError, TypeError, InputError) as exc:
            out.bad.append(BadRow(where, None, f"transaction info {i}: {exc}"))
    for block in blocks:
        raw = (block.get("block_header") or {}).get("raw_data") or {}
        if "number" not in raw or "timestamp" not in raw:
            out.bad.append(BadRow(where, None, f"block {block.get('blockID', '?')}: no block_header.raw_data "
                                               "number/timestamp"))
            continue
        number, ts_ms = int(raw["number"]), int(raw["timestamp"])
        out.blocks[number] = (ts_ms // 1000, "0x" + str(block.get("blockID", "")).lower() or None)
        out.times.append(ts_ms // 1000)
        for index, tx in enumerate(block.get("transactions") or []):
            try:
                _account_tx(out, tx, number, ts_ms, index)
            except (ValueError, KeyError, TypeError, InputError) as exc:
                out.bad.append(BadRow(where, None, f"block {number} transaction {index}: {exc}"))
    return without_logged_calls(out, out.logged)


def without_logged_calls(rows: TronRows, logged: set[str]) -> TronRows:
    """A transaction whose logs we have moves TRC-20 value as its logs say, not as its call data says."""
    if logged:
        rows.token_transfers = [t for t in rows.token_transfers
                                if not (t.get("_from_call") and t["transaction_hash"] in logged)]
    return rows


def _split_node_doc(doc: Any, where: str) -> tuple[list[dict], list[dict]]:
    items = doc if isinstance(doc, list) else [doc]
    blocks, infos = [], []
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"{where}: not a Tron node block dump (expected JSON objects)")
        if "Error" in item:
            raise InputError(f"{where}: node error response ({item['Error']})")
        if "block" in item and isinstance(item["block"], list):
            blocks.extend(item["block"])
        elif "block_header" in item:
            blocks.append(item)
        elif "blockNumber" in item and "id" in item:
            infos.append(item)
        elif item:
            raise InputError(f"{where}: not a Tron node block dump (getblockbynum or gettransactioninfobyblocknum)")
    return blocks, infos


def _tx_info(out: TronRows, info: dict[str, Any]) -> set[str]:
    """TRC-20 `Transfer` and Tether `AddedBlackList` logs of one transaction info."""
    h, block = tx_hash(info["id"]), int(info["blockNumber"])
    ts = int(info["blockTimeStamp"]) // 1000
    out.blocks.setdefault(block, (ts, None))
    failed = (info.get("receipt") or {}).get("result") not in (None, "SUCCESS")
    if failed:
        return {h}
    logs = info.get("log") or []
    base = out.logs_in_block.get(block, 0)  # log indexes run through the block
    out.logs_in_block[block] = base + len(logs)
    for k, log in enumerate(logs):
        n = base + k
        topics = ["0x" + str(t).lower().removeprefix("0x") for t in log.get("topics") or []]
        contract = tron_to_hex(str(log["address"]) if str(log["address"]).startswith(("41", "T", "0x"))
                               else "41" + str(log["address"]))
        data = "0x" + str(log.get("data") or "").lower().removeprefix("0x")
        if topics and topics[0] == ERC20_TRANSFER and len(topics) == 3 and len(data) == 66:
            out.token_transfers.append({"token_address": contract, "from_address": _word_address(topics[1]),
                                        "to_address": _word_address(topics[2]), "value": int(data, 16),
                                        "transaction_hash": h, "log_index": n, "block_number": block,
                                        "transaction_index": -1})
            _known_token(out, contract)
        elif topics and topics[0] in TETHER_EVENTS.values():
            out.logs.append({"log_index": n, "transaction_hash": h, "block_number": block, "address": contract,
                             "data": data, "topics": topics[0]})
    return {h}
