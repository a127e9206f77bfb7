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
    one sweep in time order is the reachability algorithm, see trace.reach)."""

    chain: str
    since: int
    timestamp: np.ndarray
    tx_key: np.ndarray
    from_id: np.ndarray
    to_id: np.ndarray
    n_addresses: int
    amount: np.ndarray  # float64 approximation, only to skip dust in the reach sweep
    asset_id: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("SET preserve_insertion_order = true")
    con.sql("SET enable_progress_bar = false")  # stdout belongs to --json output
    return con


def load_account_graph(store: ChainStore, chain: str, since: int) -> AccountGraph:
    files = store.files(chain, "transfers")
    n_addresses = len(store._dictionary(chain)[0])  # dense ids: the dictionary's length
    if not files:
        empty = np.zeros(0, dtype=np.int64)
        return AccountGraph(chain, since, empty, empty, empty, empty, n_addresses, np.zeros(0), np.zeros(0, np.int32))
    con = _connect()
    try:
        cols = con.sql(
            f"SELECT timestamp, (block_number << {TX_SHIFT}) | CAST(greatest(tx_index, 0) AS BIGINT) AS tx_key, "
            "from_id, to_id, asset_id, CAST(amount_hi AS DOUBLE) * 18446744073709551616.0 + CAST(amount_lo AS DOUBLE) "
            f"AS amount FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {int(since)}"
        ).fetchnumpy()
    finally:
        con.close()
    ts, key = np.asarray(cols["timestamp"], np.int64), np.asarray(cols["tx_key"], np.int64)
    frm, to = np.asarray(cols["from_id"], np.int64), np.asarray(cols["to_id"], np.int64)
    amount, asset = np.asarray(cols["amount"], np.float64), np.asarray(cols["asset_id"], np.int32)
    if ts.size > 1 and (np.any(np.diff(key) < 0) or np.any(np.diff(ts) < 0)):
        order = np.lexsort((key, ts))
        ts, key, frm, to, amount, asset = ts[order], key[order], frm[order], to[order], amount[order], asset[order]
    n = max(n_addresses, int(max(frm.max(initial=-1), to.max(initial=-1))) + 1)
    return AccountGraph(chain, since, ts, key, frm, to, n, amount, asset)


def load_account_rows(store: ChainStore, chain: str, since: int, plain_ids: np.ndarray) -> AccountRows:
    """Full rows (exact amounts, tx hashes) of every transfer into or out of `plain_ids`."""
    files = store.files(chain, "transfers")
    con = _connect()
    try:
        con.register("wanted", pa.table({"id": pa.array(np.asarray(plain_ids, np.int64))}))
        table = con.sql(
            f"SELECT timestamp, (block_number << {TX_SHIFT}) | CAST(greatest(tx_index, 0) AS BIGINT) AS tx_key, "
            "CASE WHEN log_index = -1 THEN 0 WHEN log_index < -1 THEN 1 ELSE 2 END AS log_rank, "
            "abs(log_index) AS log_abs, from_id, to_id, asset_id, amount_hi, amount_lo, tx_hash "
            f"FROM read_parquet({json.dumps(files)}) WHERE timestamp >= {int(since)} "
            "AND (from_id IN (SELECT id FROM wanted) OR to_id IN (SELECT id FROM wanted)) "
            "ORDER BY timestamp, tx_key, log_rank, log_abs"
        ).to_arrow_table()
    finally:
        con.close()
    return rows_from_table(table)


def rows_from_table(table: pa.Table, native_asset: int = 0) -> AccountRows:
    hi = table.column("amount_hi").to_pylist()
    lo = table.column("amount_lo").to_pylist()
    return AccountRows(
        timestamp=table.column("timestamp").to_numpy().astype(np.int64),
        tx_key=table.column("tx_key").to_numpy().astype(np.int64),
        from_id=table.column("from_id").to_numpy().astype(np.int64),
        to_id=table.column("to_id").to_numpy().astype(np.int64),
        asset_id=table.column("asset_id").to_numpy().astype(np.int64),
        amount=[join_amount(h, low) for h, low in zip(hi, lo, strict=True)],
        tx_hash=table.column("tx_hash").to_pylist(),
        native_asset=native_asset,
    )


def tx_seed_rows(store: ChainStore, chain: str, tx_hashes: list[str]) -> pa.Table:
    """timestamp, from_id, to_id of the transfers of the seed transactions (account model)."""
    files = store.files(chain, "transfers")
    if not files or not tx_hashes:
        return pa.table({"timestamp": pa.array([], pa.int64()), "from_id": pa.array([], pa.int64()),
                         "to_id": pa.array([], pa.int64()), "tx_hash": pa.array([], pa.string()),
                         "asset_id": pa.array([], pa.int32()), "amount": pa.array([], pa.float64())})
    con = _connect()
    try:
        con.register("seeds", pa.table({"h": pa.array([h.lower() for h in tx_hashes])}))
        return con.sql(
            "SELECT timestamp, from_id, to_id, tx_hash, asset_id, "
            "CAST(amount_hi AS DOUBLE) * 18446744073709551616.0 + CAST(amount_lo AS DOUBLE) AS amount "
            f"FROM read_parquet({json.dumps(files)}) "
            "WHERE tx_hash IN (SELECT h FROM seeds)").to_arrow_table()
    finally:
        con.close()


def bridge_in_rows(store: ChainStore, chain: str, in_txs: list[str], in_ids: np.ndarray) -> pa.Table:
    """(tx_hash, from_id, to_id) of transfers that carried value into cross-chain links."""
    files = store.files(chain, "transfers")
    if not files or not in_txs:
        return pa.table({"tx_hash": pa.array([], pa.string()), "to_id": pa.array([], pa.int64())})
    con = _connect()
    try:
        con.register("senders", pa.table({"id": pa.array(np.asarray(in_ids, np.int64))}))
        con.register("txs", pa.table({"h": pa.array(in_txs)}))
        return con.sql(
            f"SELECT tx_hash, from_id, to_id FROM read_parquet({json.dumps(files)}) "
            "WHERE from_id IN (SELECT id FROM senders) AND tx_hash IN (SELECT h FROM txs)").to_arrow_table()
    finally:
        con.close()


def utxo_tables(store: ChainStore, chain: str, since: int) -> tuple[pa.Table, pa.Table]:
    """(outputs, inputs) in the window, only the columns the UTXO trace uses."""
    con = _connect()
    try:
        out_files, in_files = store.files(chain, "outputs"), store.files(chain, "inputs")
        outputs = con.sql(
            f"SELECT tx_hash, block_number, timestamp, output_index, address_id, value "
            f"FROM read_parquet({json.dumps(out_files)}) WHERE timestamp >= {int(since)}").to_arrow_table() \
            if out_files else None
        inputs = con.sql(
            f"SELECT tx_hash, input_index, spent_tx_hash, spent_output_index, address_id, value "
            f"FROM read_parquet({json.dumps(in_files)}) WHERE timestamp >= {int(since)}").to_arrow_table() \
            if in_files else None
    finally:
        con.close()
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
