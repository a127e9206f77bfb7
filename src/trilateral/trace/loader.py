"""Reads what a trace needs from the chain store's Parquet files: only the needed columns, only the
time window after the seeds, and full rows only for the subgraph reachable from the seeds."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from trilateral.chain import ChainStore
from trilateral.core.amount import join_amount
from trilateral.trace.account import AccountRows

TX_SHIFT = 20  # tx_key = block_number << 20 | tx_index (2**20 transactions per block is plenty)


@dataclass
class AccountGraph:
    """Time-ordered columns of a chain's transfers in the window (the CSR-free form of the graph:
    one sweep in time order is the reachability algorithm, see trace.reach). 52 bytes a transfer."""

    chain: str
    since: int
    timestamp: np.ndarray
    tx_key: np.ndarray
    from_id: np.ndarray
    to_id: np.ndarray
    n_addresses: int
    amount_hi: np.ndarray
    amount_lo: np.ndarray
    asset_id: np.ndarray
    log_index: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("SET preserve_insertion_order = true")
    con.sql("SET enable_progress_bar = false")  # stdout belongs to --json output
    return con


def load_account_graph(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, since: int) -> AccountGraph:
    """The window's transfers, only the columns the sweep and the exact pass need (no strings)."""
    files = store.files(chain, "transfers")
    n_addresses = int(store.stats()["chains"][chain]["addresses"])  # ids are dense: 0 .. n-1
    if not files:
        i64, u64 = np.zeros(0, np.int64), np.zeros(0, np.uint64)
        return AccountGraph(chain, since, i64, i64, i64, i64, n_addresses, u64, u64, np.zeros(0, np.int32),
                            np.zeros(0, np.int32))
    table = con.sql(  # Arrow then numpy: measured faster than fetchnumpy for these fixed-width columns
        f"SELECT timestamp, (block_number << {TX_SHIFT}) | CAST(greatest(tx_index, 0) AS BIGINT) AS tx_key, "
        "from_id, to_id, asset_id, amount_hi, amount_lo, log_index "
        f"FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {int(since)}"
    ).to_arrow_table()
    arrays = [table.column(c).to_numpy() for c in ("timestamp", "tx_key", "from_id", "to_id", "amount_hi",
                                                   "amount_lo", "asset_id", "log_index")]
    del table
    ts, key = arrays[0].astype(np.int64, copy=False), arrays[1].astype(np.int64, copy=False)
    if ts.size > 1 and (np.any(np.diff(key) < 0) or np.any(np.diff(ts) < 0)):
        order = np.lexsort((key, ts))  # stable: rows of a transaction keep the store's order
        arrays = [a[order] for a in arrays]
        ts, key = arrays[0], arrays[1]
    frm, to = arrays[2].astype(np.int64, copy=False), arrays[3].astype(np.int64, copy=False)
    n = max(n_addresses, int(max(frm.max(initial=-1), to.max(initial=-1))) + 1)
    return AccountGraph(chain, since, ts, key, frm, to, n, arrays[4].astype(np.uint64, copy=False),
                        arrays[5].astype(np.uint64, copy=False), arrays[6].astype(np.int32, copy=False),
                        arrays[7].astype(np.int32, copy=False))


def load_account_rows(con: duckdb.DuckDBPyConnection, store: ChainStore, graph: AccountGraph,
                      idx: np.ndarray) -> AccountRows:
    """Full rows of the subgraph `idx` (positions in `graph`): exact amounts from the arrays, and the
    transaction hashes read only for the blocks those rows are in."""
    files = store.files(graph.chain, "transfers")
    key = graph.tx_key[idx]
    log = graph.log_index[idx]
    blocks = np.unique(key >> TX_SHIFT)
    hashes: dict[tuple[int, int], str] = {}
    if idx.size:
        con.register("wanted_blocks", pa.table({"b": pa.array(blocks.astype(np.int64))}))
        got = con.sql(
            f"SELECT (block_number << {TX_SHIFT}) | CAST(greatest(tx_index, 0) AS BIGINT) AS k, log_index, tx_hash "
            f"FROM read_parquet({json.dumps(files)}) WHERE block_number IN (SELECT b FROM wanted_blocks)"
        ).fetchnumpy()
        con.unregister("wanted_blocks")
        hashes = dict(zip(zip(got["k"].tolist(), got["log_index"].tolist(), strict=True), list(got["tx_hash"]),
                          strict=True))
    hi, lo = graph.amount_hi[idx].tolist(), graph.amount_lo[idx].tolist()
    return AccountRows(
        timestamp=graph.timestamp[idx], tx_key=key, from_id=graph.from_id[idx], to_id=graph.to_id[idx],
        asset_id=graph.asset_id[idx].astype(np.int64),
        amount=[join_amount(h, low) for h, low in zip(hi, lo, strict=True)],
        tx_hash=[str(hashes[(k, g)]) for k, g in zip(key.tolist(), log.tolist(), strict=True)],
    )


def tx_seed_rows(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, tx_hashes: list[str]) -> pa.Table:
    """timestamp, from_id, to_id of the transfers of the seed transactions (account model)."""
    files = store.files(chain, "transfers")
    if not files or not tx_hashes:
        return pa.table({"timestamp": pa.array([], pa.int64()), "from_id": pa.array([], pa.int64()),
                         "to_id": pa.array([], pa.int64()), "tx_hash": pa.array([], pa.string()),
                         "asset_id": pa.array([], pa.int32()), "amount": pa.array([], pa.float64())})
    con.register("seeds", pa.table({"h": pa.array([h.lower() for h in tx_hashes])}))
    table = con.sql(
        "SELECT timestamp, from_id, to_id, tx_hash, asset_id, "
        "CAST(amount_hi AS DOUBLE) * 18446744073709551616.0 + CAST(amount_lo AS DOUBLE) AS amount "
        f"FROM read_parquet({json.dumps(files)}) "
        "WHERE tx_hash IN (SELECT h FROM seeds)").to_arrow_table()
    con.unregister("seeds")
    return table


def bridge_in_rows(con: duckdb.DuckDBPyConnection, store: ChainStore, graph: AccountGraph, in_txs: list[str],
                   in_ids: np.ndarray) -> set[int]:
    """Addresses that received value in cross-chain link in-transactions from the link's sender
    (bridge vaults and routers): the sender's rows come from the arrays, hashes only for their blocks."""
    if not in_txs or graph.timestamp.size == 0:
        return set()
    idx = np.flatnonzero(np.isin(graph.from_id, np.asarray(in_ids, np.int64)))
    if idx.size == 0:
        return set()
    rows = load_account_rows(con, store, graph, idx)
    wanted = set(in_txs)
    return {int(t) for t, h in zip(rows.to_id.tolist(), rows.tx_hash, strict=True) if h in wanted}


def utxo_tables(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, since: int
                ) -> tuple[pa.Table, pa.Table]:
    """(outputs, inputs) in the window, only the columns the UTXO trace uses."""
    out_files, in_files = store.files(chain, "outputs"), store.files(chain, "inputs")
    outputs = con.sql(
        f"SELECT tx_hash, block_number, timestamp, output_index, address_id, value "
        f"FROM read_parquet({json.dumps(out_files)}) WHERE timestamp >= {int(since)}").to_arrow_table() \
        if out_files else None
    inputs = con.sql(
        f"SELECT tx_hash, input_index, spent_tx_hash, spent_output_index, address_id, value "
        f"FROM read_parquet({json.dumps(in_files)}) WHERE timestamp >= {int(since)}").to_arrow_table() \
        if in_files else None
    if outputs is None:
        outputs = pa.table({"tx_hash": pa.array([], pa.string()), "block_number": pa.array([], pa.int64()),
                            "timestamp": pa.array([], pa.int64()), "output_index": pa.array([], pa.int32()),
                            "address_id": pa.array([], pa.int64()), "value": pa.array([], pa.int64())})
    if inputs is None:
        inputs = pa.table({"tx_hash": pa.array([], pa.string()), "input_index": pa.array([], pa.int32()),
                           "spent_tx_hash": pa.array([], pa.string()),
                           "spent_output_index": pa.array([], pa.int32()),
                           "address_id": pa.array([], pa.int64()), "value": pa.array([], pa.int64())})
    return outputs, inputs


def _id_table(con: duckdb.DuckDBPyConnection, ids: list[int]) -> None:
    con.register("wanted_ids", pa.table({"i": pa.array(sorted(set(ids)), pa.int64())}))


def opening_balances(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, ids: list[int],
                     before: int) -> dict[tuple[int, int], int]:
    """(address, asset) -> what the store shows each address holding before `before` (received minus
    sent, exact), for the few addresses whose window outflows exceed their window inflows."""
    files = store.files(chain, "transfers")
    if not files or not ids:
        return {}
    _id_table(con, ids)
    value = "(CAST(amount_hi AS HUGEINT) * 18446744073709551616 + CAST(amount_lo AS HUGEINT))"
    src = f"read_parquet({json.dumps(files)})"
    got = con.sql(
        f"SELECT id, asset_id, CAST(SUM(v) AS VARCHAR) FROM ("
        f"SELECT to_id AS id, asset_id, {value} AS v FROM {src} "
        f"WHERE timestamp < {int(before)} AND to_id IN (SELECT i FROM wanted_ids) UNION ALL "
        f"SELECT from_id AS id, asset_id, -{value} AS v FROM {src} "
        f"WHERE timestamp < {int(before)} AND from_id IN (SELECT i FROM wanted_ids)) GROUP BY id, asset_id"
    ).fetchall()
    con.unregister("wanted_ids")
    return {(int(a), int(s)): int(v) for a, s, v in got if int(v) > 0}


def contract_ids(con: duckdb.DuckDBPyConnection, store: ChainStore, chain: str, ids: list[int]) -> set[int]:
    """Which of `ids` are contracts, as far as the store shows: token contracts, and senders of
    internal (contract-made) value transfers."""
    assets = store.assets(chain)
    tokens = [c for c in assets.column("contract").to_pylist() if c]
    found = {int(a) for a in store.address_ids(chain, tokens).tolist() if a >= 0} if tokens else set()
    files = store.files(chain, "transfers")
    if files and ids:
        _id_table(con, ids)
        got = con.sql(f"SELECT DISTINCT from_id FROM read_parquet({json.dumps(files)}) "
                      "WHERE kind = 'internal' AND from_id IN (SELECT i FROM wanted_ids)").fetchall()
        con.unregister("wanted_ids")
        found |= {int(r[0]) for r in got}
    return found & set(ids)
