"""The Parquet tables of the chain store: one declared schema per table (docs/interfaces.md)."""

from __future__ import annotations

import pyarrow as pa

from trilateral.core.chains import CHAINS

NATIVE_ASSET = {c.name: (c.native, c.decimals) for c in CHAINS.values()}

ADDRESSES = pa.schema([("address_id", pa.int64()), ("address", pa.string())])
BLOCKS = pa.schema([("block_number", pa.int64()), ("timestamp", pa.int64()), ("block_hash", pa.string())])
ASSETS = pa.schema([("asset_id", pa.int32()), ("contract", pa.string()), ("symbol", pa.string()),
                    ("decimals", pa.int32())])
TRANSFERS = pa.schema([
    ("block_number", pa.int64()), ("timestamp", pa.int64()), ("tx_hash", pa.string()),
    ("tx_index", pa.int32()), ("log_index", pa.int32()), ("kind", pa.string()),
    ("from_id", pa.int64()), ("to_id", pa.int64()), ("asset_id", pa.int32()),
    ("amount_hi", pa.uint64()), ("amount_lo", pa.uint64()),
])
EVENTS = pa.schema([
    ("block_number", pa.int64()), ("timestamp", pa.int64()), ("tx_hash", pa.string()),
    ("log_index", pa.int32()), ("contract_id", pa.int64()), ("event", pa.string()),
    ("commitment", pa.string()), ("nullifier", pa.string()), ("to_id", pa.int64()),
    ("relayer_id", pa.int64()), ("fee_hi", pa.uint64()), ("fee_lo", pa.uint64()), ("from_id", pa.int64()),
    ("leaf_index", pa.int64()), ("deposit_time", pa.int64()),
])
UTXO_TRANSACTIONS = pa.schema([
    ("tx_hash", pa.string()), ("block_number", pa.int64()), ("timestamp", pa.int64()),
    ("is_coinbase", pa.bool_()), ("input_value", pa.int64()), ("output_value", pa.int64()), ("fee", pa.int64()),
])
OUTPUTS = pa.schema([
    ("tx_hash", pa.string()), ("block_number", pa.int64()), ("timestamp", pa.int64()),
    ("output_index", pa.int32()), ("address_id", pa.int64()), ("value", pa.int64()), ("script_type", pa.string()),
])
INPUTS = pa.schema([
    ("tx_hash", pa.string()), ("block_number", pa.int64()), ("timestamp", pa.int64()),
    ("input_index", pa.int32()), ("spent_tx_hash", pa.string()), ("spent_output_index", pa.int32()),
    ("address_id", pa.int64()), ("value", pa.int64()),
])
LINKS = pa.schema([
    ("timestamp", pa.int64()), ("source", pa.string()), ("in_chain", pa.string()), ("in_tx", pa.string()),
    ("in_address", pa.string()), ("in_asset", pa.string()), ("in_amount", pa.string()),
    ("out_chain", pa.string()), ("out_tx", pa.string()), ("out_address", pa.string()),
    ("out_asset", pa.string()), ("out_amount", pa.string()), ("memo", pa.string()),
    ("memo_action", pa.string()), ("memo_asset", pa.string()), ("memo_destination", pa.string()),
    ("memo_limit", pa.string()), ("memo_affiliate", pa.string()), ("memo_fee_bps", pa.string()),
    ("status", pa.string()), ("height", pa.int64()),
    ("confidence", pa.float64()),  # matched links (bridges); null = stated by the protocol (THORChain)
])

ACCOUNT_TABLES = {"addresses": ADDRESSES, "blocks": BLOCKS, "transfers": TRANSFERS, "events": EVENTS}
UTXO_TABLES = {"addresses": ADDRESSES, "blocks": BLOCKS, "transactions": UTXO_TRANSACTIONS,
               "outputs": OUTPUTS, "inputs": INPUTS}
CROSSCHAIN_TABLES = {"links": LINKS}

DUCKDB_TYPES = {
    pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.string(): "VARCHAR", pa.uint64(): "UBIGINT",
    pa.bool_(): "BOOLEAN", pa.float64(): "DOUBLE",
}


def model_of(chain: str) -> str:
    """'account' or 'utxo' for a supported chain name."""
    from trilateral.core.chains import chain as chain_named

    return chain_named(chain).model


def tables_of(model: str) -> dict[str, pa.Schema]:
    return {"account": ACCOUNT_TABLES, "utxo": UTXO_TABLES, "crosschain": CROSSCHAIN_TABLES}[model]


def empty_select(schema: pa.Schema) -> str:
    """A DuckDB SELECT that yields no rows with the columns and types of `schema`."""
    cols = ", ".join(f"NULL::{DUCKDB_TYPES[f.type]} AS {f.name}" for f in schema)
    return f"SELECT {cols} WHERE false"


def select_list(schema: pa.Schema) -> str:
    """Columns of `schema` cast to their declared DuckDB types, in order (for COPY ... TO parquet)."""
    return ", ".join(f"CAST({f.name} AS {DUCKDB_TYPES[f.type]}) AS {f.name}" for f in schema)
