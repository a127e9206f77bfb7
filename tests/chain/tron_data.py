"""Tron data in its real shapes (TronGrid v1 responses, full-node getblockbynum and
gettransactioninfobyblocknum), built from a few parameters so tests state what they put in."""

from __future__ import annotations

import hashlib
from typing import Any

from trilateral.core.chains import TETHER_TRON, tron_to_base58, tron_to_hex

USDT_HEX41 = "41" + tron_to_hex(TETHER_TRON)[2:]
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def taddr(n: int) -> str:
    """A valid base58check Tron address (`T…`) derived from n."""
    return tron_to_base58("0x" + hashlib.sha256(f"tron{n}".encode()).hexdigest()[:40])


def hex41(address: str) -> str:
    return "41" + tron_to_hex(address)[2:]


def txid(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def ms(block: int) -> int:
    return 1_700_000_000_000 + 3000 * block


def trx_transfer(tid: str, frm: str, to: str, sun: int, *, ret: str = "SUCCESS", hexa: bool = True) -> dict:
    conv = hex41 if hexa else (lambda a: a)
    return {"ret": [{"contractRet": ret, "fee": 0}], "signature": ["ab" * 65], "txID": tid,
            "raw_data": {"contract": [{"parameter": {"value": {"amount": sun, "owner_address": conv(frm),
                                                               "to_address": conv(to)},
                                                     "type_url": "type.googleapis.com/protocol.TransferContract"},
                                       "type": "TransferContract"}],
                         "ref_block_bytes": "0a1b", "ref_block_hash": "00" * 8, "expiration": 0, "timestamp": 0},
            "raw_data_hex": "00"}


def trc20_call(tid: str, frm: str, to: str, value: int, *, ret: str = "SUCCESS") -> dict:
    data = "a9059cbb" + tron_to_hex(to)[2:].rjust(64, "0") + f"{value:064x}"
    return {"ret": [{"contractRet": ret}], "signature": ["cd" * 65], "txID": tid,
            "raw_data": {"contract": [{"parameter": {"value": {"data": data, "owner_address": hex41(frm),
                                                               "contract_address": USDT_HEX41},
                                                     "type_url": "type.googleapis.com/protocol.TriggerSmartContract"},
                                       "type": "TriggerSmartContract"}],
                         "ref_block_bytes": "0a1b", "ref_block_hash": "00" * 8, "expiration": 0,
                         "fee_limit": 100000000, "timestamp": 0},
            "raw_data_hex": "00"}


def node_block(number: int, txs: list[dict]) -> dict:
    """/wallet/getblockbynum {"num": number} as a java-tron full node answers it (visible=false)."""
    return {"blockID": f"{number:016x}" + txid("block", number)[16:],
            "block_header": {"raw_data": {"number": number, "txTrieRoot": "00" * 32, "witness_address": "41" + "00" * 20,
                                          "parentHash": "00" * 32, "version": 30, "timestamp": ms(number)},
                             "witness_signature": "ef" * 65},
            "transactions": txs}


def tx_info(tid: str, block: int, logs: list[dict], result: str = "SUCCESS") -> dict:
    """One entry of /wallet/gettransactioninfobyblocknum."""
    return {"id": tid, "fee": 345000, "blockNumber": block, "blockTimeStamp": ms(block),
            "contractResult": [""], "contract_address": USDT_HEX41,
            "receipt": {"energy_usage_total": 14650, "net_usage": 345, "result": result}, "log": logs}


def transfer_log(frm: str, to: str, value: int) -> dict:
    return {"address": USDT_HEX41[2:], "topics": [TRANSFER_TOPIC, tron_to_hex(frm)[2:].rjust(64, "0"),
                                                   tron_to_hex(to)[2:].rjust(64, "0")], "data": f"{value:064x}"}


def grid(rows: list[dict], url: str = "") -> dict[str, Any]:
    """A TronGrid v1 response envelope."""
    return {"data": rows, "success": True,
            "meta": {"at": 1_700_001_000_000, "page_size": len(rows),
                     **({"links": {"next": url}, "fingerprint": "x"} if url else {})}}


def grid_tx(tid: str, block: int, frm: str, to: str, sun: int) -> dict:
    row = trx_transfer(tid, frm, to, sun)
    row.update({"blockNumber": block, "block_timestamp": ms(block), "net_usage": 268, "net_fee": 0,
                "energy_usage": 0, "energy_fee": 0, "energy_usage_total": 0, "internal_transactions": []})
    return row


def grid_trc20(tid: str, block: int, frm: str, to: str, value: int) -> dict:
    return {"transaction_id": tid, "token_info": {"symbol": "USDT", "address": TETHER_TRON, "decimals": 6,
                                                  "name": "Tether USD"},
            "block_timestamp": ms(block), "from": frm, "to": to, "type": "Transfer", "value": str(value)}


def grid_blacklist(tid: str, block: int, user: str) -> dict:
    """/v1/contracts/{USDT}/events row for Tether's AddedBlackList(address _user)."""
    return {"block_number": block, "block_timestamp": ms(block), "caller_contract_address": TETHER_TRON,
            "contract_address": TETHER_TRON, "event_index": 0, "event_name": "AddedBlackList",
            "result": {"0": hex41(user), "_user": hex41(user)}, "result_type": {"_user": "address"},
            "event": "AddedBlackList(address _user)", "transaction_id": tid}
