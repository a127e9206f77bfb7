"""Generate large ethereum-etl CSV exports fast (set-based in DuckDB), for the resume test and the bench.

Half of the transfers are native ETH (some above 2**64 wei, a few failed), half ERC-20 Transfer logs of
three tokens; addresses are drawn from a pool so that they repeat as on a real chain.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

TX_PER_BLOCK = 150


def generate_etl(out: Path, transfers: int, *, addresses: int = 100_000, partitions: int = 1, seed: int = 7,
                 threads: int | None = None) -> dict[str, int]:
    """Write blocks/transactions/token_transfers/tokens CSVs; flat when partitions == 1, else export_all layout."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads={threads}")
    con.execute("SET enable_progress_bar=false")
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    n_native = transfers // 2
    n_token = transfers - n_native
    n_tx = n_native + n_token  # every token transfer sits in its own (zero-value) transaction
    n_blocks = max(1, n_tx // TX_PER_BLOCK + 1)
    addr = "('0x' || md5('a' || ({x} % {n})::VARCHAR) || substr(md5('b' || ({x} % {n})::VARCHAR), 1, 8))"
    con.execute(f"""CREATE TABLE tx AS SELECT i,
        '0x' || md5('t' || i::VARCHAR) || md5('u' || i::VARCHAR) AS hash,
        i // {TX_PER_BLOCK} AS block_number, (i % {TX_PER_BLOCK})::INTEGER AS transaction_index,
        {addr.format(x='hash(i * 2)', n=addresses)} AS from_address,
        {addr.format(x='hash(i * 2 + 1)', n=addresses)} AS to_address,
        CASE WHEN i >= {n_native} THEN '0'
             WHEN i % 97 = 0 THEN (18446744073709551616::HUGEINT + (random() * 1e12)::HUGEINT)::VARCHAR
             ELSE ((random() * 1e18)::HUGEINT + 1)::VARCHAR END AS value,
        1600000000 + (i // {TX_PER_BLOCK}) * 12 AS block_timestamp,
        CASE WHEN i % 1009 = 0 THEN '0' ELSE '1' END AS receipt_status
        FROM range({n_tx}) t(i)""")
    con.execute("""CREATE TABLE tokens AS SELECT * FROM (VALUES
        ('0xdac17f958d2ee523a2206206994597c13d831ec7', 'USDT', 'Tether USD', '6'),
        ('0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', 'USDC', 'USD Coin', '6'),
        ('0x6b175474e89094c44da98b954eedeac495271d0f', 'DAI', 'Dai Stablecoin', '18')) t(address, symbol, name, decimals)""")
    con.execute(f"""CREATE TABLE tt AS SELECT
        CASE i % 3 WHEN 0 THEN '0xdac17f958d2ee523a2206206994597c13d831ec7'
                   WHEN 1 THEN '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
                   ELSE '0x6b175474e89094c44da98b954eedeac495271d0f' END AS token_address,
        from_address, {addr.format(x='hash(i * 3)', n=addresses)} AS to_address,
        ((random() * 1e12)::BIGINT + 1)::VARCHAR AS value, hash AS transaction_hash, 0 AS log_index, block_number
        FROM tx WHERE i >= {n_native} AND receipt_status = '1'""")
    con.execute(f"""CREATE TABLE blocks AS SELECT b AS number, '0x' || md5('blk' || b::VARCHAR) || md5('k' || b::VARCHAR)
        AS hash, 1600000000 + b * 12 AS timestamp FROM range({n_blocks}) t(b)""")
    out.mkdir(parents=True, exist_ok=True)
    per = -(-n_blocks // partitions)
    tables = {"blocks": ("blocks", "number", "number, hash, timestamp"),
              "transactions": ("tx", "block_number", "hash, block_number, transaction_index, from_address, "
                                                     "to_address, value, block_timestamp, receipt_status"),
              "token_transfers": ("tt", "block_number", "token_address, from_address, to_address, value, "
                                                        "transaction_hash, log_index, block_number"),
              "tokens": ("tokens", None, "address, symbol, name, decimals")}
    for p in range(partitions):
        lo, hi = p * per, min(n_blocks, (p + 1) * per) - 1
        for name, (table, col, cols) in tables.items():
            if partitions == 1:
                path = out / f"{name}.csv"
            else:
                d = out / name / f"start_block={lo:08d}" / f"end_block={hi:08d}"
                d.mkdir(parents=True, exist_ok=True)
                path = d / f"{name}_{lo:08d}_{hi:08d}.csv"
            where = f"WHERE {col} BETWEEN {lo} AND {hi}" if col else ""
            order = f"ORDER BY {col}" if col else ""
            con.execute(f"COPY (SELECT {cols} FROM {table} {where} {order}) TO '{path}' (HEADER, DELIMITER ',')")
    counts = {"transactions": n_tx, "native": con.execute("SELECT count(*) FROM tx WHERE value <> '0' AND "
                                                          "receipt_status = '1'").fetchone()[0],
              "token": con.execute("SELECT count(*) FROM tt").fetchone()[0], "blocks": n_blocks}
    con.close()
    return counts
