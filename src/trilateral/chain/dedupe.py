"""Natural keys for account-model rows, so sparse and overlapping files never lose or double a row.

A value move is the same move when it has the same transaction hash, kind (native | internal |
token), asset, sender, receiver and amount, and the same occurrence number among the moves of that
transaction that share all of those (two identical token transfers in one transaction are two moves).
This key holds across sources: ethereum-etl and JSON-RPC know log indexes and trace addresses,
explorer exports often do not, so neither the log index nor the transaction index is part of it.
A batch's moves that match a stored move are dropped; everything else is added, wherever its block
lies. Events are keyed by (transaction hash, log index); blocks by number.

Internal moves get a log index that depends on their trace address alone (not on the other rows of
the file), so the same trace ingested from any file gets the same row: `-2 - p` where `p` packs up to
four levels of the trace address (each below 127) in 7 bits a level, keeping execution order; deeper
or wider addresses get `p = 2**28 + 28 bits of md5(trace address)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from trilateral.chain.common import U64_MASK
from trilateral.chain.coverage import add_address, add_blocks
from trilateral.chain.writer import TableWriter

_PARTS = "CAST(string_split(replace(t.trace_address, '_', ','), ',') AS INTEGER[])"
_PACKED = " + ".join(f"coalesce({_PARTS}[{i + 1}] + 1, 0) * {128 ** (3 - i)}" for i in range(4))
INTERNAL_LOG_INDEX = f"""(-2 - CASE WHEN len({_PARTS}) <= 4 AND list_max({_PARTS}) < 127 AND list_min({_PARTS}) >= 0
    THEN {_PACKED} ELSE 268435456 + ('0x' || substr(md5(t.trace_address), 1, 7))::BIGINT END)::INTEGER"""
_KEY = "tx_hash, kind, asset_id, from_id, to_id, amount_hi, amount_lo"


def own_tx_index(columns: set[str]) -> str:
    """SQL for a file's own transaction_index column (token transfers, traces) or NULL."""
    return "TRY_CAST(transaction_index AS INTEGER)" if "transaction_index" in columns else "NULL::INTEGER"


def drop_stored_duplicates(con: duckdb.DuckDBPyConnection, writer: TableWriter, with_events: bool) -> dict[str, int]:
    """From temp tables moves (+ ev_decoded) and addr_map, make moves_new (+ ev_new) without the rows the
    store already holds. Returns counts: new transactions, and duplicates dropped."""
    con.execute(f"""CREATE OR REPLACE TEMP VIEW moves_k AS SELECT m.*, f.address_id AS from_id,
        t.address_id AS to_id, (m.v >> 64)::UBIGINT AS amount_hi, (m.v & {U64_MASK})::UBIGINT AS amount_lo
        FROM moves m JOIN addr_map f ON f.address = m.fa JOIN addr_map t ON t.address = m.ta""")
    lo, hi = con.execute("""SELECT min(bn), max(bn) FROM (SELECT bn FROM moves
                            UNION ALL SELECT bn FROM transactions WHERE problem IS NULL)""").fetchone()
    stored = writer.files("transfers")
    overlap = bool(stored) and lo is not None and con.execute(
        f"SELECT count(*) > 0 FROM {writer.scan_sql('transfers')} WHERE block_number BETWEEN {lo} AND {hi}"
    ).fetchone()[0]
    if not overlap:  # a first ingest, or blocks the store has no transfers in: nothing to compare with
        con.execute("CREATE OR REPLACE TEMP VIEW moves_new AS SELECT * FROM moves_k")
        _events_new(con, writer, with_events, None if lo is None else (lo, hi))
        n_tx = con.execute("SELECT count(DISTINCT tx_hash) FROM transactions WHERE problem IS NULL").fetchone()[0]
        return {"transactions": int(n_tx), "duplicates": 0}
    con.execute(f"""CREATE OR REPLACE TEMP TABLE stored_k AS SELECT {_KEY},
        row_number() OVER (PARTITION BY {_KEY} ORDER BY log_index) AS occ
        FROM {writer.scan_sql('transfers')} WHERE block_number BETWEEN {lo} AND {hi}
          AND tx_hash IN (SELECT tx_hash FROM moves UNION SELECT tx_hash FROM transactions)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE moves_new AS
        SELECT * EXCLUDE (occ) FROM (
            SELECT *, row_number() OVER (PARTITION BY {_KEY} ORDER BY log_index) AS occ
            FROM (SELECT DISTINCT * FROM moves_k WHERE tx_hash IN (SELECT tx_hash FROM stored_k))) m
        WHERE NOT EXISTS (SELECT 1 FROM stored_k s WHERE s.tx_hash = m.tx_hash AND s.kind = m.kind
            AND s.asset_id = m.asset_id AND s.from_id = m.from_id AND s.to_id = m.to_id
            AND s.amount_hi = m.amount_hi AND s.amount_lo = m.amount_lo AND s.occ = m.occ)
        UNION ALL SELECT * FROM moves_k WHERE tx_hash NOT IN (SELECT tx_hash FROM stored_k)""")
    duplicates = con.execute("SELECT (SELECT count(*) FROM moves_k) - (SELECT count(*) FROM moves_new)").fetchone()[0]
    _events_new(con, writer, with_events, (lo, hi))
    n_tx = con.execute("""SELECT count(DISTINCT tx_hash) FROM transactions WHERE problem IS NULL
                          AND tx_hash NOT IN (SELECT tx_hash FROM stored_k)""").fetchone()[0]
    return {"transactions": int(n_tx), "duplicates": int(duplicates)}


def _events_new(con: duckdb.DuckDBPyConnection, writer: TableWriter, with_events: bool,
                blocks: tuple[int, int] | None) -> None:
    if not with_events:
        return
    if blocks is None or not writer.files("events"):
        con.execute("CREATE OR REPLACE TEMP VIEW ev_new AS SELECT * FROM ev_decoded")
        return
    con.execute(f"""CREATE OR REPLACE TEMP VIEW ev_new AS SELECT * FROM ev_decoded e
        WHERE NOT EXISTS (SELECT 1 FROM {writer.scan_sql('events')} s WHERE s.block_number BETWEEN {blocks[0]}
            AND {blocks[1]} AND s.tx_hash = e.tx_hash AND s.log_index = e.log_index)""")


def record_coverage(doc: dict[str, Any], islands: list[tuple[int, int, int, int]],
                    address_spans: list[tuple[str, str, list[tuple[int, int]]]]) -> None:
    """Add a batch's block islands and per-address list spans to the manifest's coverage entry."""
    if islands:
        add_blocks(doc, islands)
    for address, kind, spans in address_spans:
        add_address(doc, address, kind, spans)


CoverageUpdate = Callable[[dict[str, Any]], None]
