"""Tron ingest: TronGrid API responses and full-node block dumps; T… and 41… addresses; exact TRX/TRC-20
amounts; Tether's AddedBlackList as a freeze event; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chain.tron_data import (
    grid,
    grid_blacklist,
    grid_trc20,
    grid_tx,
    hex41,
    node_block,
    taddr,
    transfer_log,
    trc20_call,
    trx_transfer,
    tx_info,
    txid,
)
from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount
from trilateral.core.chains import TETHER_TRON, tron_to_base58, tron_to_hex
from trilateral.core.errors import InputError

A, B, C, D = taddr(1), taddr(2), taddr(3), taddr(4)


def _moves(store: ChainStore) -> list[tuple]:
    t = store.transfers("tron").to_pylist()
    ids = sorted({r["from_id"] for r in t} | {r["to_id"] for r in t})
    text = dict(zip(ids, store.addresses("tron", ids), strict=True))
    sym = {a["asset_id"]: a["symbol"] for a in store.assets("tron").to_pylist()}
    return sorted((text[r["from_id"]], text[r["to_id"]], sym[r["asset_id"]],
                   join_amount(r["amount_hi"], r["amount_lo"])) for r in t)


def test_address_forms_round_trip() -> None:
    assert tron_to_hex(TETHER_TRON) == "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"
    assert tron_to_base58("41a614f803b6fd780986a42c78ec9c7f77e6ded13c") == TETHER_TRON
    assert tron_to_hex(hex41(A)) == tron_to_hex(A)
    broken = TETHER_TRON[:-1] + ("u" if TETHER_TRON[-1] != "u" else "v")
    with pytest.raises(InputError, match="checksum"):
        tron_to_hex(broken)


def test_trongrid_account_and_trc20_lists(tmp_path: Path) -> None:
    src = tmp_path / "grid"
    src.mkdir()
    t1, t2, t3 = txid(1), txid(2), txid(3)
    failed = grid_tx(t2, 12, B, A, 7_000_000)
    failed["ret"] = [{"contractRet": "REVERT"}]
    (src / f"transactions-{A}.json").write_text(json.dumps(grid([grid_tx(t1, 10, A, B, 5_123_456), failed],
                                                                f"https://api.trongrid.io/v1/accounts/{A}/transactions")))
    (src / f"trc20-{B}.json").write_text(json.dumps(grid([grid_trc20(t3, 15, B, C, 100_000_001)])))
    report = ingest(tmp_path / "store", fmt="trongrid", chain="tron", source=str(src), show_progress=False)
    store = ChainStore(tmp_path / "store")
    assert _moves(store) == [(A, B, "TRX", 5_123_456), (B, C, "USDT", 100_000_001)]
    # addresses are found whichever way they are written
    assert store.address_ids("tron", [A, hex41(A), "0x" + hex41(A)[2:]]).tolist() == \
        [store.address_ids("tron", [A])[0]] * 3
    assert store.address_ids("tron", [D]).tolist() == [-1]
    usdt = [a for a in store.assets("tron").to_pylist() if a["symbol"] == "USDT"][0]
    assert usdt["decimals"] == 6 and usdt["contract"] == tron_to_hex(TETHER_TRON)
    assert store.coverage("tron").address_spans(A, "normal")
    assert any("estimated" in n for n in report.notes)  # the trc20 row's transaction is not in the batch
    again = ingest(tmp_path / "store", fmt="trongrid", chain="tron", source=str(src), show_progress=False)
    assert again.batches_skipped == 1 and _moves(store) == _moves(ChainStore(tmp_path / "store"))


def test_node_dump_blocks_and_transaction_infos(tmp_path: Path) -> None:
    t1, t2, t3, t4 = txid("n", 1), txid("n", 2), txid("n", 3), txid("n", 4)
    block = node_block(100, [trx_transfer(t1, A, B, 1_000_000), trc20_call(t2, B, C, 40_000_000),
                             trc20_call(t3, B, D, 9, ret="REVERT"), trx_transfer(t4, C, D, 2, ret="OUT_OF_ENERGY")])
    (tmp_path / "block-100.json").write_text(json.dumps(block))
    ingest(tmp_path / "s1", fmt="tron-node", chain="tron", source=str(tmp_path / "block-100.json"),
           show_progress=False)
    assert _moves(ChainStore(tmp_path / "s1")) == [(A, B, "TRX", 1_000_000), (B, C, "USDT", 40_000_000)]
    # with the block's transaction infos, TRC-20 moves come from the Transfer logs (a contract may move
    # tokens other than its call data says): here the log pays D, and only the log counts
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "block-100.json").write_text(json.dumps({"block": [block]}))
    (dump / "info-100.json").write_text(json.dumps([tx_info(t2, 100, [transfer_log(B, D, 40_000_000)])]))
    ingest(tmp_path / "s2", fmt="tron-node", chain="tron", source=str(dump), show_progress=False)
    store = ChainStore(tmp_path / "s2")
    assert _moves(store) == [(A, B, "TRX", 1_000_000), (B, D, "USDT", 40_000_000)]
    assert store.stats()["chains"]["tron"]["block_ranges"] == [[100, 100]]
    assert store.coverage("tron").history_complete(A, 1_700_000_300, 1_700_000_300)


def test_tether_blacklist_is_a_freeze_event(tmp_path: Path) -> None:
    path = tmp_path / "usdt-events.json"
    path.write_text(json.dumps(grid([grid_blacklist(txid("bl"), 200, C)])))
    ingest(tmp_path / "store", fmt="trongrid", chain="tron", source=str(path), show_progress=False)
    store = ChainStore(tmp_path / "store")
    events = store.events("tron").to_pylist()
    assert [e["event"] for e in events] == ["AddedBlackList"]
    assert store.addresses("tron", [events[0]["to_id"]]) == [C]


def test_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"success": False, "error": "rate limited"}))
    with pytest.raises(InputError, match="bad.json"):
        ingest(tmp_path / "s", fmt="trongrid", chain="tron", source=str(bad), show_progress=False)
    with pytest.raises(InputError, match="tron"):
        ingest(tmp_path / "s", fmt="etl", chain="tron", source=str(tmp_path), show_progress=False)
    with pytest.raises(InputError, match="unknown chain"):
        ingest(tmp_path / "s", fmt="etl", chain="dogechain", source=str(tmp_path), show_progress=False)
    rows = tmp_path / "rows.json"
    broken = grid_trc20(txid(9), 5, A, "TNotAnAddressAtAll1111111111111111", 5)
    rows.write_text(json.dumps(grid([broken, grid_trc20(txid(8), 5, A, B, 6)])))
    report = ingest(tmp_path / "s", fmt="trongrid", chain="tron", source=str(rows), show_progress=False)
    assert report.bad_row_count == 1 and "rows.json:1" in report.bad_rows[0].__str__()
