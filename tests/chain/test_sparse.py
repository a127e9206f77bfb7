"""Sparse, overlapping data never loses a row: natural-key dedupe, blocks.csv with number and timestamp
only, and (hypothesis) any split of a dataset into files, ingested in any order and repeated, gives
the same store as one ingest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.chain.etl_data import addr, h32, write_csv
from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount

T0 = 1_700_000_000
TOKEN = addr(500)
PEOPLE = [addr(i) for i in range(1, 6)]


def canonical(root: Path) -> tuple:
    """The store independent of id assignment: transfers and blocks sorted, addresses as text, coverage."""
    store = ChainStore(root)
    if "ethereum" not in store.chains():
        return ((), (), {})
    n = store.stats()["chains"]["ethereum"]["addresses"]
    names = store.addresses("ethereum", list(range(n)))
    contracts = {a["asset_id"]: a["contract"] for a in store.assets("ethereum").to_pylist()}
    transfers = sorted((r["block_number"], r["timestamp"], r["tx_hash"], r["tx_index"], r["log_index"], r["kind"],
                        names[r["from_id"]], names[r["to_id"]], contracts[r["asset_id"]],
                        join_amount(r["amount_hi"], r["amount_lo"]))
                       for r in store.transfers("ethereum").to_pylist())
    blocks = sorted((b["block_number"], b["timestamp"]) for b in store.blocks("ethereum").to_pylist())
    return tuple(transfers), tuple(blocks), store.coverage("ethereum").as_dict()


# ---- ethereum-etl: sparse files -------------------------------------------------------------------
TX_COLS = ["hash", "block_number", "transaction_index", "from_address", "to_address", "value", "receipt_status"]
TT_COLS = ["token_address", "from_address", "to_address", "value", "transaction_hash", "log_index", "block_number"]


TRACE_COLS = ["transaction_hash", "block_number", "from_address", "to_address", "value", "trace_address", "status"]


def _etl_dir(out: Path, txs: list[dict], tts: list[dict], traces: list[dict] | None = None) -> Path:
    out.mkdir(parents=True)
    if traces is not None:
        write_csv(out / "traces.csv", TRACE_COLS, traces)
    blocks = sorted({t["block_number"] for t in txs} | {t["block_number"] for t in tts})
    write_csv(out / "blocks.csv", ["number", "timestamp"], [{"number": b, "timestamp": T0 + 12 * b} for b in blocks])
    write_csv(out / "transactions.csv", TX_COLS, txs)
    write_csv(out / "token_transfers.csv", TT_COLS, tts)
    return out


def _etl_tx(n: int, block: int, index: int, frm: str, to: str, value: int) -> dict:
    return {"hash": h32("tx", n), "block_number": block, "transaction_index": index, "from_address": frm,
            "to_address": to, "value": value, "receipt_status": 1}


def test_blocks_csv_with_number_and_timestamp_only(tmp_path: Path) -> None:
    src = _etl_dir(tmp_path / "a", [_etl_tx(1, 100, 0, PEOPLE[0], PEOPLE[1], 5)], [])
    report = ingest(tmp_path / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    assert report.rows["transfers"] == 1
    store = ChainStore(tmp_path / "chain")
    assert store.blocks("ethereum").to_pylist() == [{"block_number": 100, "timestamp": T0 + 1200, "block_hash": None}]


def test_a_later_file_inside_a_stored_block_range_adds_its_rows(tmp_path: Path) -> None:
    first = _etl_dir(tmp_path / "a", [_etl_tx(1, 100, 0, PEOPLE[0], PEOPLE[1], 5),
                                      _etl_tx(2, 300, 0, PEOPLE[1], PEOPLE[2], 4)], [])
    later = _etl_dir(tmp_path / "b", [_etl_tx(3, 200, 1, PEOPLE[1], PEOPLE[3], 1),
                                      _etl_tx(1, 100, 0, PEOPLE[0], PEOPLE[1], 5)],  # tx 1 again: stored once
                     [{"token_address": TOKEN, "from_address": PEOPLE[0], "to_address": PEOPLE[1], "value": 7,
                       "transaction_hash": h32("tx", 1), "log_index": 0, "block_number": 100}])
    chain = tmp_path / "chain"
    ingest(chain, fmt="etl", chain="ethereum", source=str(first), show_progress=False)
    report = ingest(chain, fmt="etl", chain="ethereum", source=str(later), show_progress=False)
    assert report.rows["transfers"] == 2 and report.bad_row_count == 0
    rows = ChainStore(chain).transfers("ethereum", columns=["tx_hash", "kind"]).to_pylist()
    assert sorted((r["tx_hash"], r["kind"]) for r in rows) == sorted(
        [(h32("tx", 1), "native"), (h32("tx", 1), "token"), (h32("tx", 2), "native"), (h32("tx", 3), "native")])
    cov = ChainStore(chain).coverage("ethereum")  # blocks 100, 200 and 300 only: not the time between them
    assert [b[:2] for b in cov.blocks] == [(100, 100), (200, 200), (300, 300)]
    assert not cov.history_complete(PEOPLE[1], T0 + 1200, T0 + 3600)
    assert ChainStore(chain).stats()["chains"]["ethereum"]["block_ranges"] == [[100, 100], [200, 200], [300, 300]]


ETL_TXS = [_etl_tx(i, b, ix, PEOPLE[f], PEOPLE[t], v) for i, (b, ix, f, t, v) in enumerate(
    [(100, 0, 0, 1, 5), (100, 1, 1, 2, 3), (101, 0, 2, 3, 10**30), (103, 0, 3, 4, 1), (103, 1, 4, 0, 2),
     (104, 0, 0, 2, 0), (110, 0, 1, 0, 9)])]
ETL_TTS = {5: [{"token_address": TOKEN, "from_address": PEOPLE[0], "to_address": PEOPLE[2], "value": 4,
                "transaction_hash": h32("tx", 5), "log_index": k, "block_number": 104} for k in (0, 1)],
           3: [{"token_address": TOKEN, "from_address": PEOPLE[3], "to_address": PEOPLE[1], "value": 6,
                "transaction_hash": h32("tx", 3), "log_index": 4, "block_number": 103}]}
ETL_TRACES = {2: [{"transaction_hash": h32("tx", 2), "block_number": 101, "from_address": PEOPLE[3],
                   "to_address": PEOPLE[k], "value": 10**20, "trace_address": ta, "status": 1}
                  for k, ta in ((0, "0"), (1, "1"), (1, "1,0"))]}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(pieces=st.lists(st.sets(st.integers(0, 2), min_size=1), min_size=len(ETL_TXS), max_size=len(ETL_TXS)),
       order=st.permutations([0, 1, 2]), repeat=st.lists(st.integers(0, 2), max_size=2))
def test_any_split_of_etl_rows_gives_the_one_ingest_store(tmp_path_factory, pieces, order, repeat) -> None:
    """Each transaction (with its token transfers and traces) goes to one or more of three sparse files."""
    tmp = tmp_path_factory.mktemp("etl")
    whole = _etl_dir(tmp / "whole", ETL_TXS, [t for ts in ETL_TTS.values() for t in ts],
                     [t for ts in ETL_TRACES.values() for t in ts])
    ingest(tmp / "one", fmt="etl", chain="ethereum", source=str(whole), show_progress=False)
    dirs = []
    for k in range(3):
        mine = [i for i, p in enumerate(pieces) if k in p]
        dirs.append(_etl_dir(tmp / f"piece{k}", [ETL_TXS[i] for i in mine],
                             [t for i in mine for t in ETL_TTS.get(i, [])],
                             [t for i in mine for t in ETL_TRACES.get(i, [])]))
    for k in list(order) + repeat:
        ingest(tmp / "split", fmt="etl", chain="ethereum", source=str(dirs[k]), show_progress=False)
    assert canonical(tmp / "split") == canonical(tmp / "one")
    assert sum(1 for t in canonical(tmp / "one")[0] if t[5] == "internal") == 3
    shutil.rmtree(tmp)


# ---- explorer API responses: rows split anyhow ----------------------------------------------------
def _normal(n: int, block: int, frm: int, to: int, value: int, error: str = "0") -> dict:
    return {"blockNumber": str(block), "timeStamp": str(T0 + 12 * block), "hash": h32("n", n), "from": PEOPLE[frm],
            "to": PEOPLE[to], "value": str(value), "transactionIndex": str(n % 3), "isError": error,
            "txreceipt_status": "1", "contractAddress": "", "nonce": "0", "blockHash": h32("block", block)}


def _tok(n: int, block: int, frm: int, to: int, value: int) -> dict:
    return {"blockNumber": str(block), "timeStamp": str(T0 + 12 * block), "hash": h32("n", n), "from": PEOPLE[frm],
            "to": PEOPLE[to], "value": str(value), "contractAddress": TOKEN, "tokenSymbol": "TKN",
            "tokenDecimal": "6", "transactionIndex": str(n % 3), "nonce": "0", "blockHash": h32("block", block)}


def _int(n: int, block: int, frm: int, to: int, value: int, trace: str) -> dict:
    return {"blockNumber": str(block), "timeStamp": str(T0 + 12 * block), "hash": h32("n", n), "from": PEOPLE[frm],
            "to": PEOPLE[to], "value": str(value), "contractAddress": "", "type": "call", "traceId": trace,
            "isError": "0", "errCode": ""}


API_ROWS = {
    "txlist": [_normal(1, 100, 0, 1, 5), _normal(2, 100, 1, 2, 7), _normal(3, 102, 2, 0, 2**70),
               _normal(4, 105, 0, 3, 9, error="1"), _normal(5, 107, 3, 4, 1)],
    "tokentx": [_tok(6, 101, 0, 1, 4), _tok(6, 101, 0, 1, 4), _tok(7, 103, 1, 4, 8), _tok(2, 100, 1, 2, 3)],
    "txlistinternal": [_int(8, 104, 4, 0, 6, "0"), _int(8, 104, 4, 1, 6, "1"), _int(9, 106, 2, 3, 5, "0_1_2")],
}
LISTS = [(kind, who, [r for r in rows if PEOPLE[who] in (r["from"], r["to"])])
         for kind, rows in API_ROWS.items() for who in range(5)]
LISTS = [(kind, who, rows) for kind, who, rows in LISTS if rows]
N_ROWS = sum(len(rows) for _, _, rows in LISTS)


def _write_list(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"status": "1", "message": "OK", "result": rows}))
    return path


@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(chunk=st.lists(st.integers(0, 1), min_size=N_ROWS, max_size=N_ROWS), data=st.data())
def test_any_split_of_explorer_rows_gives_the_one_ingest_store(tmp_path_factory, chunk, data) -> None:
    """Each address's list is cut into two files; files are ingested in any order, some twice. (Identical
    rows of one transaction, which explorers list without a log index, are kept in one file.)"""
    tmp = tmp_path_factory.mktemp("api")
    span = {"complete_from": T0, "complete_to": T0 + 2000}
    for kind, who, rows in LISTS:
        _write_list(tmp / "whole" / f"{kind}-{PEOPLE[who]}.json", rows)
    ingest(tmp / "one", fmt="etherscan", chain="ethereum", source=str(tmp / "whole"), show_progress=False, **span)
    files, k = [], 0
    for kind, who, rows in LISTS:
        parts: list[list[dict]] = [[], []]
        for row in rows:  # identical rows of one transaction stay in one file: only there are they told apart
            twin = next((p for p in parts if row in p), None)
            (twin if twin is not None else parts[chunk[k]]).append(row)
            k += 1
        files += [_write_list(tmp / "split" / f"{kind}-{i}-{PEOPLE[who]}.json", p) for i, p in enumerate(parts) if p]
    order = data.draw(st.permutations(files))
    again = data.draw(st.lists(st.sampled_from(files), max_size=2))
    for f in list(order) + again:
        ingest(tmp / "store", fmt="etherscan", chain="ethereum", source=str(f), show_progress=False, **span)
    assert canonical(tmp / "store") == canonical(tmp / "one")
    shutil.rmtree(tmp)
