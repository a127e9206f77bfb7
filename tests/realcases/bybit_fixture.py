"""The Bybit study's transfers.csv as saved Etherscan API responses, for `chain ingest --format etherscan`.

`../shared/data/bybit_trace/transfers.csv` lists the outflows of the five hop senders (columns hop,
from_address, hash, timestamp_utc, to, amount, asset, kind, contract, block, is_error, ...). Each
sender becomes what an investigator would pull from the explorer: `txlist-<address>.json` (every
transaction the address sent or received among the rows; a transaction's value is the sum of its
native rows, its `to` the native receiver or else the token contract) and `tokentx-<address>.json`
(every token row from or to the address). A row between two senders is in both senders' files, as it
is on Etherscan. The dataset gives no transaction index, log index or block hash: they are left out
and the ingest synthesises them. Token decimals are not in the data: 18 is written for every token
(stETH, mETH, cmETH are 18; the impersonation tokens' real decimals are unknown).

`with_theft=True` adds the theft as the study's label states it ('Direct Theft (401,346 ETH + 90,375
stETH)'): 401,346 ETH as an internal transfer from Bybit's cold wallet (a Safe contract) to the
anchor in `txlistinternal-<anchor>.json` and 90,375 stETH in the anchor's tokentx, one hour before the
first listed row. Its transaction hash (THEFT_TX) and block are synthetic; the amounts are the label's.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trilateral.core.amount import parse_units

ANCHOR = "0x47666fab8bd0ac7003bce3f5c3585383f09486e2"
BYBIT_COLD = "0x1db92e2eebc8e0c075a02bea49a2935bcd2dfcf4"  # Bybit's cold wallet (the victim)
STETH = "0xae7ab96520de3a18e5e111b5eaab095312d7fe84"
THEFT_TX = "0x" + "b7b1" * 16  # synthetic: the study does not list the theft transaction
THEFT_ETH = 401_346 * 10**18
THEFT_STETH = 90_375 * 10**18


def _unix(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


def _response(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {"status": "0", "message": "No transactions found", "result": []}
    return {"status": "1", "message": "OK", "result": rows}


def _txlist(rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """One txlist entry per transaction hash."""
    out: dict[str, dict[str, Any]] = {}
    by_hash: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_hash[r["hash"]].append(r)
    for h, rs in by_hash.items():
        native = [r for r in rs if r["kind"] == "native"]
        first = rs[0]
        out[h] = {"blockNumber": first["block"], "timeStamp": str(_unix(first["timestamp_utc"])), "hash": h,
                  "from": first["from_address"], "to": native[0]["to"] if native else first["contract"],
                  "value": str(sum(parse_units(r["amount"], 18) for r in native)), "contractAddress": "",
                  "isError": first["is_error"] or "0", "txreceipt_status": "0" if first["is_error"] == "1" else "1",
                  "nonce": "0", "input": "0x", "gas": "21000", "gasPrice": "0", "gasUsed": "21000"}
    return out


def _tokentx(r: dict[str, str]) -> dict[str, Any]:
    return {"blockNumber": r["block"], "timeStamp": str(_unix(r["timestamp_utc"])), "hash": r["hash"],
            "from": r["from_address"], "to": r["to"], "contractAddress": r["contract"],
            "value": str(parse_units(r["amount"], 18)), "tokenName": r["asset"], "tokenSymbol": r["asset"],
            "tokenDecimal": "18", "nonce": "0", "gas": "0", "gasPrice": "0", "gasUsed": "0", "input": "deprecated"}


def write_etherscan_fixture(transfers_csv: Path, out_dir: Path, with_theft: bool) -> Path:
    """Write per-sender txlist/tokentx responses (and the theft, when asked) into out_dir; returns out_dir."""
    with open(transfers_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out_dir.mkdir(parents=True, exist_ok=True)
    senders = sorted({r["from_address"] for r in rows})
    txs = _txlist(rows)
    first_ts = min(_unix(r["timestamp_utc"]) for r in rows)
    first_block = min(int(r["block"]) for r in rows)
    theft_tokens: list[dict[str, Any]] = []
    if with_theft:
        theft = {"blockNumber": str(first_block - 10), "timeStamp": str(first_ts - 3600), "hash": THEFT_TX,
                 "from": BYBIT_COLD, "to": ANCHOR, "value": str(THEFT_ETH), "contractAddress": "", "input": "",
                 "type": "call", "gas": "0", "gasUsed": "0", "traceId": "0_1", "isError": "0", "errCode": ""}
        (out_dir / f"txlistinternal-{ANCHOR}.json").write_text(json.dumps(_response([theft])))
        theft_tokens.append({**_tokentx({"block": str(first_block - 10), "hash": THEFT_TX, "from_address": BYBIT_COLD,
                                         "to": ANCHOR, "contract": STETH, "amount": "90375", "asset": "stETH",
                                         "timestamp_utc": datetime.fromtimestamp(first_ts - 3600, UTC)
                                         .strftime("%Y-%m-%d %H:%M:%S")})})
    for address in senders:
        mine = [t for t in txs.values() if address in (t["from"], t["to"])]
        tokens = [_tokentx(r) for r in rows if r["kind"] == "token" and address in (r["from_address"], r["to"])]
        if address == ANCHOR:
            tokens = theft_tokens + tokens
        (out_dir / f"txlist-{address}.json").write_text(json.dumps(_response(mine), indent=1))
        (out_dir / f"tokentx-{address}.json").write_text(json.dumps(_response(tokens), indent=1))
    return out_dir
