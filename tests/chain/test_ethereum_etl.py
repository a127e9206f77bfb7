"""ethereum-etl CSV ingest: every value move stored once, exactly, with dense address ids."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.chain.etl_data import EtlData, addr, h32, internal_log_index, word
from trilateral.chain import ChainStore
from trilateral.chain.ethereum_etl import TORNADO_DEPOSIT, TORNADO_WITHDRAWAL
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount
from trilateral.core.errors import InputError

USDT = addr(500)
BIG = 2**100 + 12345  # wei above 64 bits


def scenario() -> EtlData:
    d = EtlData()
    d.block(100, 1_700_000_000)
    d.block(101, 1_700_000_012)
    d.token(USDT, "USDT", 6)
    a, b, c, contract = addr(1), addr(2), addr(3), addr(4)
    d.tx(100, 0, a, b, 10**18)
    d.tx(100, 1, a, c, BIG)
    d.tx(100, 2, b, c, 5, status=0)  # failed: moves nothing
    d.tx(100, 3, b, c, 0)  # zero value: dropped
    t4 = d.tx(101, 0, a, USDT, 0)
    d.token_transfer(t4, 101, 0, USDT, a, b, 2_500_000)
    d.token_transfer(t4, 101, 1, USDT, b, c, 0)
    t5 = d.tx(101, 1, c, contract, 3 * 10**17)
    d.trace(t5, 101, c, contract, 3 * 10**17, "")  # top level = the tx's own value: not an internal move
    d.trace(t5, 101, contract, a, 10**17, "0")
    d.trace(t5, 101, contract, b, 10**17, "1")
    d.trace(t5, 101, contract, c, 10**17, "1,0", call_type="delegatecall")
    d.trace(t5, 101, contract, c, 7, "2", status=0)
    d.expected += [(t5, internal_log_index("0"), "internal", contract, a, None, 10**17),
                   (t5, internal_log_index("1"), "internal", contract, b, None, 10**17)]
    pool = addr(700)
    d.log(t5, 101, 2, pool, [TORNADO_DEPOSIT, h32("commitment")], "0x" + word(42) + word(1_700_000_012))
    relayer, recipient = addr(701), addr(702)
    d.log(t5, 101, 3, pool, [TORNADO_WITHDRAWAL, "0x" + word(relayer)],
          "0x" + word(recipient) + word(h32("nullifier")) + word(BIG))
    return d


def stored_moves(store: ChainStore) -> list[tuple]:
    t = store.transfers("ethereum").to_pylist()
    ids = sorted({r["from_id"] for r in t} | {r["to_id"] for r in t})
    names = dict(zip(ids, store.addresses("ethereum", ids), strict=True))
    contracts = {r["asset_id"]: r["contract"] for r in store.assets("ethereum").to_pylist()}
    return [(r["tx_hash"], r["log_index"], r["kind"], names[r["from_id"]], names[r["to_id"]],
             contracts[r["asset_id"]], join_amount(r["amount_hi"], r["amount_lo"])) for r in t]


def test_every_value_move_is_stored_once_with_exact_amounts(tmp_path: Path) -> None:
    data = scenario()
    src = data.write(tmp_path / "etl")
    report = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    store = ChainStore(tmp_path / "chain")
    assert sorted(stored_moves(store)) == sorted(data.expected)
    assert report.bad_row_count == 0
    assert store.model("ethereum") == "account"
    assets = store.assets("ethereum").to_pylist()
    assert assets[0] == {"asset_id": 0, "contract": None, "symbol": "ETH", "decimals": 18}
    assert {(a["contract"], a["symbol"], a["decimals"]) for a in assets[1:]} == {(USDT, "USDT", 6)}


def test_transfers_are_time_ordered_native_then_internal_then_token(tmp_path: Path) -> None:
    src = scenario().write(tmp_path / "etl")
    ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    t = ChainStore(tmp_path / "chain").transfers("ethereum", columns=["timestamp", "tx_index", "log_index"])
    rows = t.to_pylist()
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)
    last_tx = [r["log_index"] for r in rows if r["timestamp"] == 1_700_000_012 and r["tx_index"] == 1]
    assert last_tx == [-1, internal_log_index("0"), internal_log_index("1")]  # native, then calls in order


def test_address_ids_are_dense_and_round_trip(tmp_path: Path) -> None:
    src = scenario().write(tmp_path / "etl")
    ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    store = ChainStore(tmp_path / "chain")
    n = store.stats()["chains"]["ethereum"]["addresses"]
    names = store.addresses("ethereum", list(range(n)))
    assert len(set(names)) == n
    ids = store.address_ids("ethereum", [x.upper().replace("0X", "0x") for x in names] + ["0xunknown"])
    assert ids.tolist() == list(range(n)) + [-1]


def test_tornado_deposit_and_withdrawal_events_are_decoded(tmp_path: Path) -> None:
    src = scenario().write(tmp_path / "etl")
    ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    store = ChainStore(tmp_path / "chain")
    ev = {r["event"]: r for r in store.events("ethereum").to_pylist()}
    dep, wd = ev["tornado_deposit"], ev["tornado_withdrawal"]
    assert dep["commitment"] == h32("commitment") and dep["leaf_index"] == 42
    assert dep["deposit_time"] == 1_700_000_012
    assert store.addresses("ethereum", [dep["contract_id"], dep["from_id"]]) == [addr(700), addr(3)]
    assert store.addresses("ethereum", [wd["to_id"], wd["relayer_id"]]) == [addr(702), addr(701)]
    assert wd["nullifier"] == h32("nullifier")
    assert join_amount(wd["fee_hi"], wd["fee_lo"]) == BIG


def test_ingesting_the_same_directory_twice_changes_nothing(tmp_path: Path) -> None:
    src = scenario().write(tmp_path / "etl")
    ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    store = ChainStore(tmp_path / "chain")
    before = (store.transfers("ethereum"), store.stats())
    again = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    assert again.batches_skipped == 1 and again.batches_committed == 0
    copy = shutil.copytree(src, tmp_path / "copy")  # same blocks under another path: skipped by block range
    ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(copy), show_progress=False)
    assert store.transfers("ethereum").equals(before[0])
    after = store.stats()["chains"]["ethereum"]
    assert {k: after[k] for k in ("transfers", "addresses", "blocks")} == \
        {k: before[1]["chains"]["ethereum"][k] for k in ("transfers", "addresses", "blocks")}


def test_value_of_2_pow_128_is_a_bad_row_named_by_file_and_line(tmp_path: Path) -> None:
    data = scenario()
    spam = data.tx(101, 2, addr(1), addr(2), 0)
    data.token_transfer(spam, 101, 9, addr(666), addr(1), addr(2), 2**128)
    data.expected.pop()
    src = data.write(tmp_path / "etl")
    report = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    assert report.bad_row_count == 1
    bad = report.bad_rows[0]
    assert bad.file.endswith("token_transfers.csv") and bad.line == 4
    assert "below 2**128" in bad.reason
    assert sorted(stored_moves(ChainStore(tmp_path / "chain"))) == sorted(data.expected)


def test_strict_fails_the_batch_and_commits_nothing(tmp_path: Path) -> None:
    data = scenario()
    data.transactions[1]["value"] = "12.5"
    src = data.write(tmp_path / "etl")
    with pytest.raises(InputError, match=r"transactions\.csv:3: value '12\.5'"):
        ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), strict=True,
               show_progress=False)
    store = ChainStore(tmp_path / "chain")
    assert store.transfers("ethereum").num_rows == 0
    assert list((tmp_path / "chain" / "ethereum" / "transfers").iterdir()) == []


def test_malformed_csv_row_is_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    data = scenario()
    src = data.write(tmp_path / "etl")
    with open(src / "transactions.csv", "a") as fh:
        fh.write("0xdead,not,enough,columns\r\n")
    report = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    assert report.bad_row_count == 1
    assert report.bad_rows[0].line == len(data.transactions) + 2
    assert sorted(stored_moves(ChainStore(tmp_path / "chain"))) == sorted(data.expected)


def test_partitioned_export_all_layout_commits_one_batch_per_block_range(tmp_path: Path) -> None:
    first, second = EtlData(), EtlData()
    first.block(1, 1000)
    first.tx(1, 0, addr(1), addr(2), 5)
    second.block(2, 2000)
    second.tx(2, 0, addr(2), addr(3), 7)
    root = tmp_path / "export"
    for data, (lo, hi) in ((first, (0, 1)), (second, (2, 3))):
        tmp = data.write(tmp_path / f"flat{lo}", with_traces=False, with_logs=False)
        for name in ("blocks", "transactions", "token_transfers", "tokens"):
            part = root / name / f"start_block={lo:08d}" / f"end_block={hi:08d}"
            part.mkdir(parents=True)
            shutil.copy(tmp / f"{name}.csv", part / f"{name}_{lo:08d}_{hi:08d}.csv")
    report = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(root), show_progress=False)
    assert report.batches_committed == 2
    store = ChainStore(tmp_path / "chain")
    assert store.addresses("ethereum", [0, 1, 2]) == sorted([addr(1), addr(2)]) + [addr(3)]
    stats = store.stats()["chains"]["ethereum"]
    assert stats["block_ranges"] == [[1, 2]] and stats["first_time"] == "1970-01-01T00:16:40Z"


def test_chain_stats_json_cli(tmp_path: Path, home: Path) -> None:
    from typer.testing import CliRunner

    from trilateral.cli import app

    src = scenario().write(tmp_path / "etl")
    runner = CliRunner()
    result = runner.invoke(app, ["chain", "ingest", "--chain", "ethereum", "--format", "etl", str(src)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["chain", "stats", "--json"])
    assert result.exit_code == 0
    stats = json.loads(result.stdout)["chains"]["ethereum"]
    assert stats["transfers"] == 6 and stats["blocks"] == 2 and stats["transactions"] == 6
    assert stats["first_time"] == "2023-11-14T22:13:20Z"
    con = ChainStore(home / "chain").connect()
    assert con.execute("SELECT count(*) FROM ethereum_transfers").fetchone()[0] == 6


def test_ingest_json_report_is_the_only_stdout_and_empty_store_stats(tmp_path: Path, home: Path) -> None:
    from typer.testing import CliRunner

    from trilateral.cli import app

    runner = CliRunner()
    empty = runner.invoke(app, ["chain", "stats", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == {
        "chain_dir": str(home / "chain"), "chains": {}, "crosschain": {"links": 0}}
    src = scenario().write(tmp_path / "etl")
    result = runner.invoke(app, ["chain", "ingest", "--chain", "ethereum", "--format", "etl", "--json", str(src)])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["rows"]["transfers"] == 6 and report["bad_row_count"] == 0
    missing = runner.invoke(app, ["chain", "ingest", "--chain", "ethereum", "--format", "etl", str(tmp_path / "nope")])
    assert missing.exit_code != 0
