"""--format etherscan: saved API responses and CSV exports, exact amounts, dedupe across sources,
coverage per queried address, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chain.etl_data import addr, h32, internal_log_index
from trilateral.chain import ChainStore
from trilateral.chain.explorer import SYNTH_LOG_INDEX, SYNTH_TX_INDEX, synth_tx_index
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount
from trilateral.core.errors import InputError

A, B, C = addr(1), addr(2), addr(3)
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
WEI = 10**18


def _api(rows: list[dict]) -> str:
    return json.dumps({"status": "1" if rows else "0", "message": "OK" if rows else "No transactions found",
                       "result": rows})


def _tx(h: str, block: int, frm: str, to: str, value: int, *, index: int = 0, error: str = "0",
        created: str = "") -> dict:
    return {"blockNumber": str(block), "timeStamp": str(1_700_000_000 + 12 * block), "hash": h, "nonce": "1",
            "blockHash": h32("block", block), "transactionIndex": str(index), "from": frm, "to": to,
            "value": str(value), "gas": "21000", "gasPrice": "1", "isError": error,
            "txreceipt_status": "0" if error == "1" else "1", "input": "0x", "contractAddress": created,
            "cumulativeGasUsed": "0", "gasUsed": "21000", "confirmations": "5", "methodId": "0x", "functionName": ""}


def _token(h: str, block: int, frm: str, to: str, value: int, *, index: int = 0) -> dict:
    return {"blockNumber": str(block), "timeStamp": str(1_700_000_000 + 12 * block), "hash": h, "nonce": "1",
            "blockHash": h32("block", block), "from": frm, "contractAddress": USDT, "to": to, "value": str(value),
            "tokenName": "Tether USD", "tokenSymbol": "USDT", "tokenDecimal": "6", "transactionIndex": str(index),
            "gas": "0", "gasPrice": "0", "gasUsed": "0", "cumulativeGasUsed": "0", "input": "deprecated",
            "confirmations": "5"}


def _internal(h: str, block: int, frm: str, to: str, value: int, trace: str, error: str = "0") -> dict:
    return {"blockNumber": str(block), "timeStamp": str(1_700_000_000 + 12 * block), "hash": h, "from": frm,
            "to": to, "value": str(value), "contractAddress": "", "input": "", "type": "call", "gas": "0",
            "gasUsed": "0", "traceId": trace, "isError": error, "errCode": ""}


def _moves(store: ChainStore) -> list[tuple]:
    t = store.transfers("ethereum").to_pylist()
    n = store.stats()["chains"]["ethereum"]["addresses"]
    names = store.addresses("ethereum", list(range(n)))
    return sorted((r["tx_hash"], r["kind"], names[r["from_id"]], names[r["to_id"]], r["asset_id"],
                   join_amount(r["amount_hi"], r["amount_lo"])) for r in t)


def _ingest(tmp_path: Path, source: Path, **options) -> tuple[ChainStore, object]:
    report = ingest(tmp_path / "chain", fmt="etherscan", chain="ethereum", source=str(source), show_progress=False,
                    **options)
    return ChainStore(tmp_path / "chain"), report


@pytest.fixture
def api_dir(tmp_path: Path) -> Path:
    d = tmp_path / "api"
    d.mkdir()
    big = 123_456_789 * WEI + 1  # beyond 2**64 and not a float
    (d / f"txlist-{A}.json").write_text(_api([
        _tx(h32("t1"), 100, A, B, big, index=3),
        _tx(h32("t2"), 101, A, C, 5 * WEI, error="1"),  # failed: moves nothing
        _tx(h32("t3"), 102, C, A, 7, index=1),
        _tx(h32("t4"), 103, A, "", 2, created=addr(9)),  # contract creation
    ]))
    (d / f"tokentx-{A}.json").write_text(_api([_token(h32("t5"), 104, A, B, 2_500_000, index=4),
                                                _token(h32("t5"), 104, A, B, 2_500_000, index=4)]))
    (d / f"tokentx-{B}.json").write_text(_api([_token(h32("t5"), 104, A, B, 2_500_000, index=4)]))  # one of A's two
    (d / f"txlistinternal-{B}.json").write_text(_api([_internal(h32("t6"), 105, B, C, WEI, "0_1"),
                                                       _internal(h32("t6"), 105, B, A, WEI, "0_2", error="1")]))
    return d


def test_api_responses_become_exact_transfers(tmp_path: Path, api_dir: Path) -> None:
    store, report = _ingest(tmp_path, api_dir)
    assert report.bad_row_count == 0 and report.batches_committed == 1  # the files of a directory: one batch
    assert _moves(store) == sorted([
        (h32("t1"), "native", A, B, 0, 123_456_789 * WEI + 1),
        (h32("t3"), "native", C, A, 0, 7),
        (h32("t4"), "native", A, addr(9), 0, 2),
        (h32("t5"), "token", A, B, 1, 2_500_000),  # two identical transfers in one tx are two moves
        (h32("t5"), "token", A, B, 1, 2_500_000),
        (h32("t6"), "internal", B, C, 0, WEI),
    ])
    rows = {(r["tx_hash"], r["log_index"]): r for r in store.transfers("ethereum").to_pylist()}
    assert rows[(h32("t1"), -1)]["tx_index"] == 3  # the API's transactionIndex
    internal = rows[(h32("t6"), internal_log_index("0,1"))]
    assert internal["tx_index"] == synth_tx_index(h32("t6")) >= SYNTH_TX_INDEX  # txlistinternal has no index
    assert all(log >= SYNTH_LOG_INDEX for h, log in rows if h == h32("t5"))
    assert store.assets("ethereum").to_pylist()[1] == {"asset_id": 1, "contract": USDT, "symbol": "USDT",
                                                       "decimals": 6}
    blocks = {b["block_number"]: b for b in store.blocks("ethereum").to_pylist()}
    assert blocks[100]["block_hash"] == h32("block", 100) and blocks[105]["block_hash"] is None


def test_reingest_and_overlapping_files_add_only_what_is_new(tmp_path: Path, api_dir: Path) -> None:
    store, _ = _ingest(tmp_path, api_dir)
    before = _moves(store)
    _, again = _ingest(tmp_path, api_dir)
    assert again.batches_skipped == 1 and _moves(store) == before
    other = tmp_path / "other"  # B's txlist: t1 again (seen from the receiver's side) and one new tx
    other.mkdir()
    (other / f"txlist-{B}.json").write_text(_api([_tx(h32("t1"), 100, A, B, 123_456_789 * WEI + 1, index=3),
                                                  _tx(h32("t7"), 100, B, C, 9, index=4)]))
    _, report = _ingest(tmp_path, other)
    assert _moves(store) == sorted(before + [(h32("t7"), "native", B, C, 0, 9)])
    assert report.rows["transfers"] == 1


def test_coverage_per_queried_address(tmp_path: Path, api_dir: Path) -> None:
    store, _ = _ingest(tmp_path, api_dir)
    cov = store.coverage("ethereum")
    t = 1_700_000_000
    assert cov.address_spans(A, "normal") == [(t + 1200, t + 1236)]
    assert cov.address_spans(A, "token") == [(t + 1248, t + 1248)]
    assert cov.known_span(A) == []  # normal and token lists do not overlap in time
    assert cov.address_spans(B, "internal") == [(t + 1260, t + 1260)] and cov.known_span(B) == []
    more = tmp_path / "more"
    more.mkdir()
    (more / "tokens.json").write_text(_api([]))  # no rows, no address in the name: --address and a span
    _ingest(tmp_path, more, address=A, complete_from=t, complete_to=t + 2000)
    cov = store.coverage("ethereum")
    assert cov.known_span(A) == [(t + 1200, t + 1236)]  # normal list still only as far as its rows prove
    assert cov.history_complete(A, t + 1200, t + 1236) and not cov.history_complete(A, t + 1200)
    assert not cov.history_complete(C, t + 1200, t + 1236)


def test_unknown_queried_address_is_said(tmp_path: Path) -> None:
    d = tmp_path / "api"
    d.mkdir()
    (d / "list.json").write_text(_api([_tx(h32("x"), 1, A, B, 1)]))
    store, report = _ingest(tmp_path, d)
    assert store.transfers("ethereum").num_rows == 1
    assert any("queried address could not be told" in n for n in report.notes)
    assert store.coverage("ethereum").addresses == {}


def test_error_response_and_bad_rows_are_named(tmp_path: Path) -> None:
    d = tmp_path / "api"
    d.mkdir()
    (d / "a.json").write_text(json.dumps({"status": "0", "message": "NOTOK", "result": "Max rate limit reached"}))
    with pytest.raises(InputError, match=r"a\.json: explorer error response: NOTOK"):
        _ingest(tmp_path, d)
    (d / "a.json").write_text(_api([_tx(h32("x"), 1, A, B, 1), {**_tx(h32("y"), 1, A, B, 1), "value": "1.5"},
                                    {**_tx(h32("z"), 1, A, B, 1), "value": str(2**128)}]))
    store, report = _ingest(tmp_path, d)
    assert report.bad_row_count == 2 and store.transfers("ethereum").num_rows == 1
    assert "a.json: result[1]: value '1.5' is not a non-negative integer" in report.as_dict()["bad_rows"][0]
    with pytest.raises(InputError, match=r"result\[1\]"):
        ingest(tmp_path / "chain2", fmt="etherscan", chain="ethereum", source=str(d), strict=True,
               show_progress=False)


NORMAL_CSV = ('"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","ContractAddress",'
              '"Value_IN(ETH)","Value_OUT(ETH)","CurrentValue @ $3000/Eth","TxnFee(ETH)","TxnFee(USD)",'
              '"Historical $Price/Eth","Status","ErrCode","Method"\n')
INTERNAL_CSV = ('"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","ParentTxFrom","ParentTxTo",'
                '"ParentTxETH_Value","From","TxTo","ContractAddress","Value_IN(ETH)","Value_OUT(ETH)",'
                '"CurrentValue @ $3000/Eth","Historical $Price/Eth","Status","ErrCode","Type"\n')
TOKEN_CSV = ('"Transaction Hash","Blockno","UnixTimestamp","DateTime (UTC)","From","To","TokenValue",'
             '"USDValueDayOfTx","ContractAddress","TokenName","TokenSymbol"\n')


def _csv_dir(tmp_path: Path) -> Path:
    d = tmp_path / "csv"
    d.mkdir()
    ts = 1_700_000_000 + 12 * 100
    (d / f"export-{A}.csv").write_text("\ufeff" + NORMAL_CSV + (
        f'"{h32("t1")}","100","{ts}","2023-11-14 22:33:20","{A}","{B}","","0","123,456,789.000000000000000001",'
        '"0","0.0001","0.3","3000","",""," Transfer"\n'
        f'"{h32("t2")}","101","{ts + 12}","2023-11-14 22:33:32","{A}","{C}","","0","5","0","0","0","3000",'
        '"Error(0)","Out of gas","Transfer"\n'))
    (d / f"export-internaltx-{B}.csv").write_text(INTERNAL_CSV + (
        f'"{h32("t6")}","105","{ts + 60}","2023-11-14 22:34:20","{A}","{B}","0","{B}","{C}","","0","1","0","3000",'
        '"0","","call"\n'))
    (d / f"export-tokenholdings-{A}.csv").write_text(TOKEN_CSV + (
        f'"{h32("t5")}","104","{ts + 48}","2023-11-14 22:34:08","{A}","{B}","2.5","$2.50","{USDT}","Tether USD",'
        '"USDT"\n'))
    return d


def test_csv_exports_need_token_decimals_and_convert_exactly(tmp_path: Path) -> None:
    d = _csv_dir(tmp_path)
    with pytest.raises(InputError, match=r"export-tokenholdings-.*\.csv:2: decimals of token 0xdac1.* --token-decimals"):
        _ingest(tmp_path, d, strict=True)
    store, report = _ingest(tmp_path, d, token_decimals={USDT: 6})
    assert report.bad_row_count == 0
    assert _moves(store) == sorted([(h32("t1"), "native", A, B, 0, 123_456_789 * WEI + 1),
                                    (h32("t5"), "token", A, B, 1, 2_500_000),
                                    (h32("t6"), "internal", B, C, 0, WEI)])
    assert store.coverage("ethereum").address_spans(B, "internal") == [(1_700_001_260, 1_700_001_260)]


def test_csv_and_api_of_the_same_transfers_are_stored_once(tmp_path: Path, api_dir: Path) -> None:
    store, _ = _ingest(tmp_path, api_dir)  # the API response gives USDT's decimals
    before = _moves(store)
    d = _csv_dir(tmp_path)
    (d / f"export-tokenholdings-{A}.csv").write_text(TOKEN_CSV + "".join(
        f'"{h32("t5")}","104","1700001248","x","{A}","{B}","2.5","","{USDT}","Tether USD","USDT"\n' for _ in "ab"))
    _, report = _ingest(tmp_path, d)
    assert report.bad_row_count == 0 and _moves(store) == before


def test_crash_between_parts_and_manifest_resumes_without_duplicates(tmp_path: Path, api_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.chain.test_sparse import canonical
    from trilateral.chain import etherscan
    from trilateral.chain.writer import TableWriter

    clean, _ = _ingest(tmp_path / "clean", api_dir)
    monkeypatch.setattr(etherscan, "GROUP_FILES", 1)  # one batch per file
    real_commit = TableWriter.commit
    calls = []

    def crash_on_second(self, key, staged, info, **kw):  # parts renamed into place, manifest not written
        calls.append(key)
        if len(calls) == 2:
            for final, tmp in staged.items():
                tmp.rename(self.dir / final)
            raise KeyboardInterrupt
        return real_commit(self, key, staged, info, **kw)

    monkeypatch.setattr(TableWriter, "commit", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        _ingest(tmp_path, api_dir)
    monkeypatch.setattr(TableWriter, "commit", real_commit)
    store, report = _ingest(tmp_path, api_dir)
    assert report.batches_skipped == 1 and report.batches_committed == 3
    assert canonical(tmp_path / "chain") == canonical(tmp_path / "clean" / "chain")
    assert _moves(store) == _moves(clean)


def test_blockscout_shapes(tmp_path: Path) -> None:
    """Blockscout's Etherscan-compatible API: logIndex on token rows; transactionHash, index, callType on
    internal rows; delegatecalls move nothing of their own."""
    d = tmp_path / "blockscout"
    d.mkdir()
    token = {**_token(h32("b1"), 200, A, B, 10), "logIndex": "7"}
    internal = [{"blockNumber": "201", "timeStamp": str(T := 1_700_002_412), "transactionHash": h32("b2"),
                 "from": B, "to": C, "value": "3", "contractAddress": "", "input": "", "type": "call",
                 "callType": "call", "gas": "0", "gasUsed": "0", "index": "0_0", "isError": "0", "errCode": ""},
                {"blockNumber": "201", "timeStamp": str(T), "transactionHash": h32("b2"), "from": B, "to": A,
                 "value": "4", "contractAddress": "", "input": "", "type": "call", "callType": "delegatecall", "gas": "0",
                 "gasUsed": "0", "index": "0_1", "isError": "0", "errCode": ""}]
    (d / f"tokentx-{A}.json").write_text(_api([token]))
    (d / f"txlistinternal-{B}.json").write_text(_api(internal))
    store, report = _ingest(tmp_path, d)
    assert report.bad_row_count == 0
    rows = {(r["tx_hash"], r["kind"], r["log_index"]) for r in store.transfers("ethereum").to_pylist()}
    assert rows == {(h32("b1"), "token", 7), (h32("b2"), "internal", internal_log_index("0,0"))}


def test_csv_export_without_value_column_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    (d / f"export-{A}.csv").write_text('"Transaction Hash","Blockno","DateTime (UTC)","From","To","Amount"\n'
                                       f'"{h32("t1")}","100","2023-11-14 22:33:20","{A}","{B}","1 ETH"\n')
    with pytest.raises(InputError, match=r"export-.*\.csv:1: explorer normal export without a value column"):
        _ingest(tmp_path, d)


def test_csv_export_time_from_datetime_utc(tmp_path: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    (d / f"export-{A}.csv").write_text('"Txhash","Blockno","DateTime (UTC)","From","To","Value_IN(ETH)","Value_OUT(ETH)"\n'
                                       f'"{h32("t1")}","100","2023-11-14 22:13:20","{A}","{B}","0","0.5"\n')
    store, _ = _ingest(tmp_path, d)
    assert store.transfers("ethereum", columns=["timestamp"]).to_pylist() == [{"timestamp": 1_700_000_000}]
