"""Explorer data (Etherscan / Blockscout) as rows of ethereum-etl tables: the pure core, no I/O.

Two shapes come in: saved API responses (`{"status", "message", "result": [...]}` of `txlist`,
`txlistinternal`, `tokentx`; amounts in base units) and the explorers' CSV exports (amounts as
decimal ETH or token units, converted exactly with the token's decimals). Each file is one *list*
(normal | internal | token) of one queried address. What the explorers leave out is synthesised
deterministically from the row itself, so the same transfer read from any file is the same row:

- transaction index, when absent (internal API rows, all CSV exports): `2**19 + (md5(tx hash) mod 2**19)`;
- token log index, when absent (Etherscan's tokentx; Blockscout gives `logIndex`): `2**30 + 28 bits of
  md5(tx hash, contract, from, to, value, occurrence)`;
- trace address of an internal move: Etherscan's `traceId` (`0_1`), Blockscout's `index`; absent (CSV):
  a synthetic deep address from md5(tx hash, from, to, value, occurrence);
- block hash: from `blockHash` when given, else empty.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trilateral.chain.common import BadRow
from trilateral.core.amount import parse_units

ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDR = re.compile(r"0x[0-9a-fA-F]{40}")
API_PAGE_LIMIT = 10_000
SYNTH_TX_INDEX = 2**19
SYNTH_LOG_INDEX = 2**30
TOKEN_CSV_MARKERS = ("tokenvalue", "tokensymbol", "quantity")
INTERNAL_CSV_MARKERS = ("parenttxfrom", "txto")


@dataclass
class ExplorerList:
    """One file's rows as ethereum-etl rows, with the queried address and time span it covers."""

    kind: str  # normal | internal | token
    transactions: list[dict[str, Any]] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)
    token_transfers: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    blocks: dict[int, tuple[int, str | None]] = field(default_factory=dict)
    bad: list[BadRow] = field(default_factory=list)
    addresses_in_every_row: set[str] | None = None
    times: list[int] = field(default_factory=list)

    def rows(self) -> int:
        return len(self.transactions) + len(self.traces) + len(self.token_transfers)

    def note_addresses(self, *addresses: str | None) -> None:
        present = {a for a in addresses if a}
        self.addresses_in_every_row = present if self.addresses_in_every_row is None else \
            self.addresses_in_every_row & present


def _natural_key(kind: str, row: dict[str, Any]) -> tuple:
    if kind == "transactions":
        return ("tx", row["hash"])
    if kind == "token_transfers":
        return ("token", row["transaction_hash"], row["token_address"], row["from_address"], row["to_address"],
                row["value"])
    return ("internal", row["transaction_hash"], row["from_address"], row["to_address"], row["value"], row["status"])


def merge_lists(lists: list[ExplorerList]) -> ExplorerList:
    """The rows of several files as one batch. A file tells identical rows of one transaction apart (two
    equal token transfers are two moves); across files, identical rows are the same move, so each
    natural key keeps the rows of the file that lists it most often (the first such file)."""
    out = ExplorerList("mixed")
    for table in ("transactions", "traces", "token_transfers"):
        chosen: dict[tuple, list[dict[str, Any]]] = {}
        for data in lists:
            mine: dict[tuple, list[dict[str, Any]]] = {}
            for row in getattr(data, table):
                mine.setdefault(_natural_key(table, row), []).append(row)
            for key, rows in mine.items():
                if len(rows) > len(chosen.get(key, ())):
                    chosen[key] = rows
        setattr(out, table, [r for rows in chosen.values() for r in rows])
    for data in lists:
        for contract, (symbol, decimals) in data.tokens.items():
            old_symbol, old_decimals = out.tokens.get(contract, (None, None))
            out.tokens[contract] = (old_symbol or symbol, old_decimals if old_decimals is not None else decimals)
        for block, (ts, block_hash) in data.blocks.items():
            if block not in out.blocks or (out.blocks[block][1] is None and block_hash):
                out.blocks[block] = (ts, block_hash)
        out.bad.extend(data.bad)
        out.times.extend(data.times)
    return out


def _md5_int(text: str, hex_digits: int) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:hex_digits], 16)


def synth_tx_index(tx_hash: str) -> int:
    return SYNTH_TX_INDEX + _md5_int(tx_hash, 5) % SYNTH_TX_INDEX


def _addr(value: Any, what: str, optional: bool = False) -> str | None:
    text = (value or "").strip() if isinstance(value, str) else value
    if not text and optional:
        return None
    if not isinstance(text, str) or not _ADDR.fullmatch(text):
        raise ValueError(f"{what} {value!r} is not a 20-byte hex address")
    return text.lower()


def _hash(value: Any) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value.strip()):
        raise ValueError(f"transaction hash {value!r} is not 32 bytes of hex")
    return value.strip().lower()


def _uint(value: Any, what: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"{what} {value!r} is not a non-negative integer")
    return int(text)


def _value(value: int, text: Any) -> int:
    if value >= 2**128:
        raise ValueError(f"value {text} is 2**128 or more (the store holds amounts below 2**128)")
    return value


def _field(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    return None


class _Occurrences:
    """Numbers identical rows of one transaction 0, 1, 2 ... (they are distinct moves)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        return n


def api_kind(rows: list[dict[str, Any]]) -> str:
    """normal | internal | token, from the fields of the first row."""
    first = rows[0]
    if "tokenDecimal" in first or "tokenSymbol" in first:
        return "token"
    if "traceId" in first or ("type" in first and "nonce" not in first):
        return "internal"
    return "normal"


def from_api(rows: list[dict[str, Any]], label: str) -> ExplorerList:
    """Rows of a txlist / txlistinternal / tokentx `result` list."""
    out = ExplorerList(api_kind(rows) if rows else "normal")
    occ = _Occurrences()
    for i, row in enumerate(rows):
        try:
            if not isinstance(row, dict):
                raise ValueError("not a JSON object")
            if "tokenID" in row and "tokenDecimal" not in row:
                continue  # ERC-721: not value
            _api_row(out, row, occ)
        except (ValueError, TypeError) as exc:
            out.bad.append(BadRow(label, None, f"result[{i}]: {exc}"))
    return out


def _api_row(out: ExplorerList, row: dict[str, Any], occ: _Occurrences) -> None:
    tx_hash = _hash(_field(row, "hash", "transactionHash"))
    block = _uint(row.get("blockNumber"), "blockNumber")
    ts = _uint(row.get("timeStamp"), "timeStamp")
    frm = _addr(row.get("from"), "from")
    created = _addr(row.get("contractAddress"), "contractAddress", optional=True)
    to = _addr(row.get("to"), "to", optional=True)
    value = _value(_uint(row.get("value"), "value"), row.get("value"))
    index = row.get("transactionIndex")
    tx_index = _uint(index, "transactionIndex") if index not in (None, "") else synth_tx_index(tx_hash)
    failed = str(row.get("isError", "0")) == "1" or str(row.get("txreceipt_status", "")) == "0"
    if out.kind == "token":
        contract = created
        if contract is None or to is None:
            raise ValueError("token transfer lacks contractAddress or to")
        log = row.get("logIndex")
        log_index = _uint(log, "logIndex") if log not in (None, "") else _synth_log(
            occ, tx_hash, contract, frm, to, value)
        decimals = row.get("tokenDecimal")
        out.tokens[contract] = (row.get("tokenSymbol") or None,
                                _uint(decimals, "tokenDecimal") if decimals not in (None, "") else None)
        out.token_transfers.append(_token_row(contract, frm, to, value, tx_hash, log_index, block, tx_index))
    elif out.kind == "internal":
        target = to or created
        if target is None:
            raise ValueError("internal transaction lacks to and contractAddress")
        trace = _field(row, "traceId", "index")
        out.traces.append(_trace_row(tx_hash, block, tx_index, frm, target, value,
                                     str(trace) if trace is not None else _synth_trace(occ, tx_hash, frm, target, value),
                                     _call_kind(row), failed))
    else:
        out.transactions.append({"hash": tx_hash, "block_number": block, "transaction_index": tx_index,
                                 "from_address": frm, "to_address": to or "", "value": value,
                                 "receipt_status": 0 if failed else 1, "receipt_contract_address": created or "",
                                 "block_timestamp": ts, "block_hash": (row.get("blockHash") or "").lower()})
    out.blocks.setdefault(block, (ts, (row.get("blockHash") or "").lower() or None))
    out.times.append(ts)
    out.note_addresses(frm, to, None if out.kind == "token" else created)


def _call_kind(row: dict[str, Any]) -> str:
    """Etherscan's `type` (call, create, create2, delegatecall, ...); Blockscout puts call kinds in `callType`."""
    call_type = str(row.get("callType") or "").lower()
    kind = str(row.get("type") or "call").lower()
    return call_type if kind == "call" and call_type else kind


def _token_row(contract: str, frm: str | None, to: str, value: int, tx_hash: str, log_index: int, block: int,
               tx_index: int) -> dict[str, Any]:
    return {"token_address": contract, "from_address": frm, "to_address": to, "value": value,
            "transaction_hash": tx_hash, "log_index": log_index, "block_number": block,
            "transaction_index": tx_index}


def _trace_row(tx_hash: str, block: int, tx_index: int, frm: str | None, to: str, value: int, trace: str,
               call: str, failed: bool) -> dict[str, Any]:
    call = call.lower()
    trace_type = {"create2": "create", "selfdestruct": "suicide"}.get(call, call)
    call_type = call if call in ("delegatecall", "staticcall", "callcode") else "call"
    if trace_type not in ("create", "suicide"):
        trace_type = "call"
    return {"transaction_hash": tx_hash, "transaction_index": tx_index, "block_number": block,
            "from_address": frm, "to_address": to, "value": value, "trace_type": trace_type,
            "call_type": call_type, "trace_address": trace.replace("_", ","), "status": 0 if failed else 1}


def _synth_log(occ: _Occurrences, tx_hash: str, contract: str, frm: str | None, to: str, value: int) -> int:
    key = f"{tx_hash}|{contract}|{frm}|{to}|{value}"
    return SYNTH_LOG_INDEX + _md5_int(f"{key}|{occ(key)}", 7)


def _synth_trace(occ: _Occurrences, tx_hash: str, frm: str | None, to: str, value: int) -> str:
    key = f"{tx_hash}|{frm}|{to}|{value}"
    return f"200,{_md5_int(f'{key}|{occ(key)}', 7)}"  # depth/width beyond the packed range: md5 log index


# ---- CSV exports --------------------------------------------------------------------------------
def normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9_()]", "", name.strip().lower())


def csv_kind(header: list[str]) -> str:
    names = {normalise_header(h) for h in header}
    if any(m in names for m in TOKEN_CSV_MARKERS):
        return "token"
    if any(m in names for m in INTERNAL_CSV_MARKERS):
        return "internal"
    return "normal"


def from_csv(rows: list[tuple[int, dict[str, str]]], kind: str, label: str,
             decimals_of: dict[str, int]) -> ExplorerList:
    """Rows (line number, {normalised header: text}) of an explorer CSV export of one list."""
    out = ExplorerList(kind)
    occ = _Occurrences()
    for line, row in rows:
        try:
            _csv_row(out, row, occ, decimals_of)
        except (ValueError, TypeError) as exc:
            out.bad.append(BadRow(label, line, str(exc)))
    return out


def _utc(text: str | None) -> int:
    """Unix seconds of an export's `DateTime (UTC)` (2023-11-14 22:33:20)."""
    try:
        return int(datetime.fromisoformat((text or "").strip()).replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise ValueError(f"DateTime (UTC) {text!r} is not a time") from None


def _decimal_units(row: dict[str, str], decimals: int, *names: str) -> int:
    """The first non-zero of the value columns (an export row is IN or OUT for the queried address)."""
    for name in names:
        text = (row.get(name) or "").replace(",", "").strip()
        if text and text not in ("0", "0.0"):
            try:
                return _value(parse_units(text, decimals), text)
            except ValueError as exc:
                raise ValueError(f"{name} {text!r}: {exc}") from None
    return 0


def _csv_row(out: ExplorerList, row: dict[str, str], occ: _Occurrences, decimals_of: dict[str, int]) -> None:
    tx_hash = _hash(_field(row, "transactionhash", "txhash"))
    block = _uint(row.get("blockno"), "Blockno")
    ts = _uint(row["unixtimestamp"], "UnixTimestamp") if row.get("unixtimestamp") else _utc(row.get("datetime(utc)"))
    frm = _addr(row.get("from"), "From")
    created = _addr(row.get("contractaddress"), "ContractAddress", optional=True)
    tx_index = synth_tx_index(tx_hash)
    status = (row.get("status") or "").strip().lower()
    failed = bool((row.get("errcode") or "").strip()) or status.startswith("error") or status == "fail"
    if out.kind == "token":
        to = _addr(row.get("to"), "To")
        if created is None:
            raise ValueError("token export row lacks ContractAddress")
        if created not in decimals_of:
            raise ValueError(f"decimals of token {created} ({row.get('tokensymbol') or '?'}) are unknown: ingest a "
                             f"tokentx API response for it first or pass --token-decimals {created}=N")
        value = _decimal_units(row, decimals_of[created], "tokenvalue", "quantity", "value")
        out.tokens[created] = (row.get("tokensymbol") or None, decimals_of[created])
        out.token_transfers.append(_token_row(created, frm, to, value, tx_hash,
                                              _synth_log(occ, tx_hash, created, frm, to, value), block, tx_index))
    elif out.kind == "internal":
        to = _addr(_field(row, "txto", "to"), "TxTo", optional=True) or created
        if to is None:
            raise ValueError("internal export row lacks TxTo and ContractAddress")
        value = _decimal_units(row, 18, "value_in(eth)", "value_out(eth)")
        out.traces.append(_trace_row(tx_hash, block, tx_index, frm, to, value,
                                     _synth_trace(occ, tx_hash, frm, to, value), row.get("type") or "call", failed))
    else:
        to = _addr(row.get("to"), "To", optional=True)
        value = _decimal_units(row, 18, "value_in(eth)", "value_out(eth)")
        out.transactions.append({"hash": tx_hash, "block_number": block, "transaction_index": tx_index,
                                 "from_address": frm, "to_address": to or "", "value": value,
                                 "receipt_status": 0 if failed else 1, "receipt_contract_address": created or "",
                                 "block_timestamp": ts, "block_hash": ""})
        to = to or created
    out.blocks.setdefault(block, (ts, None))
    out.times.append(ts)
    out.note_addresses(frm, to, None if out.kind == "token" else created)
