"""bitcoin-etl JSON lines and Bitcoin Core getblock-2 JSON into the UTXO store, exactly in satoshi."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest

FIXTURES = Path(__file__).parent / "fixtures"
ETL = FIXTURES / "bitcoin_etl_transactions.json"
CORE = FIXTURES / "bitcoin_core_getblock_800002.json"


def _etl_rows() -> list[dict]:
    return [json.loads(line) for line in ETL.read_text().splitlines()]


def _with_addresses(store: ChainStore, rows: list[dict]) -> list[dict]:
    ids = [r["address_id"] for r in rows if r["address_id"] >= 0]
    names = dict(zip(ids, store.addresses("bitcoin", ids), strict=True))
    return [{**r, "address": names.get(r["address_id"])} for r in rows]


def test_bitcoin_etl_outputs_inputs_and_fees_match_the_file(tmp_path: Path) -> None:
    ingest(tmp_path, fmt="etl", chain="bitcoin", source=str(ETL), show_progress=False)
    store = ChainStore(tmp_path)
    rows = _etl_rows()
    outs = _with_addresses(store, store.outputs("bitcoin").to_pylist())
    assert sum(o["value"] for o in outs) == sum(o["value"] for r in rows for o in r["outputs"])
    by_key = {(o["tx_hash"], o["output_index"]): o for o in outs}
    t2 = rows[1]["hash"]
    assert by_key[(t2, 2)]["address"] == "multisig:" + ",".join(rows[1]["outputs"][2]["addresses"])
    assert by_key[(t2, 3)]["address"] == f"nonstandard:{t2}:3"
    assert by_key[(rows[0]["hash"], 1)]["address"] == f"nonstandard:{rows[0]['hash']}:1"  # OP_RETURN
    ins = _with_addresses(store, store.inputs("bitcoin").to_pylist())
    assert len(ins) == 3  # the coinbase input spends nothing and is not stored
    assert {(i["spent_tx_hash"], i["spent_output_index"], i["address"], i["value"]) for i in ins} == {
        (i["spent_transaction_hash"], i["spent_output_index"], i["addresses"][0], i["value"])
        for r in rows if not r["is_coinbase"] for i in r["inputs"]}
    txs = {t["tx_hash"]: t for t in store.utxo_transactions("bitcoin").to_pylist()}
    for r in rows:
        assert (txs[r["hash"]]["fee"], txs[r["hash"]]["is_coinbase"]) == (r["fee"], r["is_coinbase"])
    stats = store.stats()["chains"]["bitcoin"]
    assert stats["model"] == "utxo" and stats["blocks"] == 2 and stats["transactions"] == 3


def test_core_json_btc_decimals_become_exact_satoshi_and_inputs_resolve(tmp_path: Path) -> None:
    ingest(tmp_path, fmt="etl", chain="bitcoin", source=str(ETL), show_progress=False)
    report = ingest(tmp_path, fmt="core-json", chain="bitcoin", source=str(CORE), show_progress=False)
    store = ChainStore(tmp_path)
    block = json.loads(CORE.read_text(), parse_float=Decimal)
    outs = {(o["tx_hash"], o["output_index"]): o for o in store.outputs("bitcoin").to_pylist()}
    for tx in block["tx"]:
        for o in tx["vout"]:
            assert outs[(tx["txid"], o["n"])]["value"] == int(o["value"] * 100_000_000)
    assert outs[(block["tx"][0]["txid"], 0)]["value"] == 625_012_345
    ins = _with_addresses(store, [i for i in store.inputs("bitcoin").to_pylist() if i["block_number"] == 800002])
    resolved = {(i["spent_tx_hash"], i["spent_output_index"]): (i["address"], i["value"]) for i in ins}
    rows = _etl_rows()
    assert resolved[(rows[2]["hash"], 0)] == (rows[2]["outputs"][0]["addresses"][0], 119_990_000)
    assert resolved[(rows[1]["hash"], 1)] == (rows[1]["outputs"][1]["addresses"][0], 79_980_000)
    unknown = [i for i in ins if i["value"] is None]
    assert len(unknown) == 1 and unknown[0]["address_id"] == -1
    assert any("not in the store" in n for n in report.notes)
    txs = {t["tx_hash"]: t for t in store.utxo_transactions("bitcoin").to_pylist()}
    t1 = txs[block["tx"][1]["txid"]]
    assert (t1["input_value"], t1["output_value"], t1["fee"]) == (199_970_000, 199_965_000, 5_000)
    t2 = txs[block["tx"][2]["txid"]]  # spent output unknown: input value from Core's own fee field
    assert (t2["input_value"], t2["fee"]) == (10_001_000, 1_000)


def test_bitcoin_reingest_changes_nothing(tmp_path: Path) -> None:
    for _ in range(2):
        ingest(tmp_path, fmt="etl", chain="bitcoin", source=str(ETL), show_progress=False)
        ingest(tmp_path, fmt="core-json", chain="bitcoin", source=str(CORE), show_progress=False)
    store = ChainStore(tmp_path)
    assert store.outputs("bitcoin").num_rows == 7 + 5
    assert store.stats()["chains"]["bitcoin"]["batches"] == 2


def test_bitcoin_etl_bad_json_line_is_named_and_skipped(tmp_path: Path) -> None:
    import pytest

    from trilateral.core.errors import InputError

    lines = ETL.read_text().splitlines()
    broken = tmp_path / "transactions.json"
    broken.write_text("\n".join([lines[0], '{"hash": "abc", "inputs": [', *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=r"transactions\.json:2: not a JSON object"):
        ingest(tmp_path / "strict", fmt="etl", chain="bitcoin", source=str(broken), strict=True, show_progress=False)
    assert ChainStore(tmp_path / "strict").outputs("bitcoin").num_rows == 0
    report = ingest(tmp_path / "lenient", fmt="etl", chain="bitcoin", source=str(broken), show_progress=False)
    assert report.bad_row_count == 1 and report.bad_rows[0].line == 2
    assert ChainStore(tmp_path / "lenient").outputs("bitcoin").num_rows == 7
