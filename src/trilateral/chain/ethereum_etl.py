"""ethereum-etl CSV exports into the account-model store, set-based in DuckDB (no per-row Python).

A batch is one block range: the whole directory when it holds `blocks.csv`, `transactions.csv`, ...,
or one `start_block=X/end_block=Y` partition of an `export_all` layout. Value moves are: the tx's own
value (log_index -1, failed transactions excluded), ERC-20 Transfer logs (token_transfers.csv,
log_index >= 0) and successful internal calls with value from traces.csv (log_index <= -2).
Transfers of value 0 are dropped: they move nothing a trace could follow.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.progress import Progress

from trilateral.chain.common import (
    UINT_RE,
    BadRow,
    IngestReport,
    advance,
    assign_address_ids,
    connect_duckdb,
    fail_strict,
    file_fingerprint,
)
from trilateral.chain.coverage import block_islands
from trilateral.chain.dedupe import INTERNAL_LOG_INDEX, drop_stored_duplicates, own_tx_index, record_coverage
from trilateral.chain.writer import TableWriter
from trilateral.core.errors import InputError

TORNADO_DEPOSIT = "0xa945e51eec50ab98c161376f0db4cf2aeba3ec92755fe2fcd388bdbbb80ff196"
TORNADO_WITHDRAWAL = "0xe9e508bad6d4c3227e881ca19068f099da81b5164dd6d62b2eaf1e8bc6c34931"
ERC20_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# Stablecoin issuers' blacklist events, stored under their Solidity names: Tether's USDT
# (`AddedBlackList(address)`, the address in data) and Circle's FiatToken (`Blacklisted(address
# indexed)`), with their removals. The trace marks stolen tokens at a blacklisted address as frozen.
BLACKLIST_TOPICS = {
    "0x42e160154868087d6bfdc0ca23d96a1c1cfa32f1b72ba9ba27b69b98a0d819dc": "AddedBlackList",
    "0xd7e9ec6e6ecd65492dce6bf513cd6867560d49544421d0783ddf06e76c24470c": "RemovedBlackList",
    "0xffa4e6181777692565cf28528fc88fd1516ea86b56da075235fa575af6a4b855": "Blacklisted",
    "0x117e3210bb9aa7d9baff172026820255c6f6c30ba8999d1c2fd88e2848137c4e": "UnBlacklisted",
}
ETL_TABLES = ("blocks", "transactions", "receipts", "token_transfers", "tokens", "logs", "traces")
REQUIRED = {
    "blocks": ("number", "timestamp"),
    "transactions": ("hash", "block_number", "transaction_index", "from_address", "to_address", "value"),
    "receipts": ("transaction_hash", "status"),
    "token_transfers": ("token_address", "from_address", "to_address", "value", "transaction_hash",
                        "log_index", "block_number"),
    "tokens": ("address",),
    "logs": ("log_index", "transaction_hash", "block_number", "address", "data", "topics"),
    "traces": ("transaction_hash", "block_number", "from_address", "to_address", "value", "trace_address"),
}
STEPS_PER_BATCH = 6


@dataclass
class EtlBatch:
    """The files of one block range."""

    label: str
    files: dict[str, Path]
    block_coverage: bool = True  # False for per-address sources (their coverage comes in address_spans)
    address_spans: list[tuple[str, str, list[tuple[int, int]]]] = field(default_factory=list)

    def key(self) -> str:
        parts = [f"{name}={file_fingerprint(path)}" for name, path in sorted(self.files.items())]
        return "etl:" + ";".join(parts)


def discover_batches(root: Path) -> list[EtlBatch]:
    """Flat directory (blocks.csv, ...) or ethereum-etl's partitioned start_block=/end_block= layout."""
    if not root.is_dir():
        raise InputError(f"{root} is not a directory of ethereum-etl CSV files")
    flat = {name: root / f"{name}.csv" for name in ETL_TABLES if (root / f"{name}.csv").is_file()}
    if flat:
        return [EtlBatch(str(root), flat)]
    groups: dict[tuple[int, int], dict[str, Path]] = {}
    pattern = re.compile(r"start_block=(\d+)/end_block=(\d+)")
    for path in sorted(root.rglob("*.csv")):
        rel = path.relative_to(root).as_posix()
        m = pattern.search(rel)
        table = rel.split("/")[0]
        if m and table in ETL_TABLES:
            groups.setdefault((int(m.group(1)), int(m.group(2))), {})[table] = path
    if not groups:
        raise InputError(f"{root}: no ethereum-etl CSV files (expected blocks.csv, transactions.csv, ...)")
    return [EtlBatch(f"{root} blocks {lo}-{hi}", files) for (lo, hi), files in sorted(groups.items())]


def _header(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        return next(csv.reader(fh), [])


def _columns(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    return set(_header(path))


def _csv(path: Path, extra: str = "store_rejects=true") -> str:
    """read_csv with the dialect fixed (no sniffing) and every column read as text."""
    cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in _header(path)) + "}"
    return (f"read_csv('{path}', columns={cols}, header=true, auto_detect=false, delim=',', quote='\"', "
            f"escape='\"', {extra})")


def _uint(col: str) -> str:
    return f"(regexp_full_match({col}, {UINT_RE}) AND TRY_CAST({col} AS UHUGEINT) IS NOT NULL)"


def _problem(checks: list[tuple[str, str]]) -> str:
    """A CASE that names the first failed check of a row (NULL when the row is good)."""
    if not checks:
        return "NULL::VARCHAR"
    whens = " ".join(f"WHEN NOT coalesce({cond}, false) THEN {msg}" for cond, msg in checks)
    return f"CASE {whens} END"


def _msg(col: str, what: str) -> str:
    return f"'{col} ' || coalesce('''' || {col} || '''', 'empty') || ' is not {what}'"


def _hex(col: str, nbytes: int) -> str:
    """`col` is 0x + nbytes of hex (length and unhex: cheaper than a regex over millions of rows)."""
    return f"(length({col}) = {2 + 2 * nbytes} AND starts_with({col}, '0x') AND TRY(unhex(substr({col}, 3))) IS NOT NULL)"


def _check_addr(col: str, nullable: bool = False) -> tuple[str, str]:
    cond = _hex(col, 20)
    return (f"({col} IS NULL OR {cond})" if nullable else cond), _msg(col, "a 20-byte hex address")


CHECKS = {
    "blocks": [("TRY_CAST(number AS BIGINT) >= 0", _msg("number", "a block number")),
               ("TRY_CAST(timestamp AS BIGINT) >= 0", _msg("timestamp", "a unix time"))],
    "transactions": [
        (_hex("hash", 32), _msg("hash", "a 32-byte hex hash")),
        ("TRY_CAST(block_number AS BIGINT) >= 0", _msg("block_number", "a block number")),
        ("TRY_CAST(transaction_index AS INTEGER) >= 0", _msg("transaction_index", "an index")),
        _check_addr("from_address"), _check_addr("to_address", nullable=True),
        (_uint("value"), _msg("value", "an integer below 2**128")),
    ],
    "token_transfers": [
        _check_addr("token_address"), _check_addr("from_address"), _check_addr("to_address"),
        (_hex("transaction_hash", 32), _msg("transaction_hash", "a 32-byte hex hash")),
        ("TRY_CAST(log_index AS INTEGER) >= 0", _msg("log_index", "an index")),
        ("TRY_CAST(block_number AS BIGINT) >= 0", _msg("block_number", "a block number")),
        (_uint("value"), _msg("value", "an integer below 2**128")),
    ],
    "traces": [
        (_hex("transaction_hash", 32), _msg("transaction_hash", "a 32-byte hex hash")),
        ("TRY_CAST(block_number AS BIGINT) >= 0", _msg("block_number", "a block number")),
        _check_addr("from_address"), _check_addr("to_address"),
        (_uint("value"), _msg("value", "an integer below 2**128")),
    ],
}


class EtlIngest:
    """Ingest one batch after another; each batch commits atomically or not at all."""

    def __init__(self, writer: TableWriter, report: IngestReport, *, strict: bool,
                 progress: Progress | None) -> None:
        self.writer = writer
        self.report = report
        self.strict = strict
        self.progress = progress

    def run(self, batches: list[EtlBatch], keys: dict[str, str] | None = None) -> None:
        """`keys` overrides the file-fingerprint key of a batch (by label), e.g. a block range for RPC."""
        self.report.batches += len(batches)
        for batch in batches:
            key = (keys or {}).get(batch.label) or batch.key()
            if self.writer.has_batch(key):
                self.report.batches_skipped += 1
                advance(self.progress, f"{batch.label}: already ingested", STEPS_PER_BATCH)
                continue
            self._ingest(batch, key)

    # ---- loading ------------------------------------------------------------------------------
    def _load(self, con: duckdb.DuckDBPyConnection, name: str, path: Path, select: str,
              bad: list[BadRow]) -> None:
        """Create temp table `name` with `select` over the CSV plus a `problem` column; collect bad rows."""
        cols = _columns(con, path)
        missing = [c for c in REQUIRED[name] if c not in cols]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)} (is this an ethereum-etl {name}.csv?)")
        problem = _problem(CHECKS.get(name, []))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}, {problem} AS problem FROM {_csv(path)}")
        rejects = con.execute("SELECT line, min(error_message) FROM reject_errors GROUP BY line "
                              "ORDER BY line").fetchall()
        con.execute("DELETE FROM reject_errors")
        con.execute("DELETE FROM reject_scans")
        bad.extend(BadRow(str(path), int(line), f"malformed CSV row: {msg.splitlines()[0]}") for line, msg in rejects)
        n_bad = con.execute(f"SELECT count(*) FROM {name} WHERE problem IS NOT NULL").fetchone()[0]
        if n_bad:
            rows = con.execute(f"""SELECT line, problem FROM (
                SELECT row_number() OVER () + 1 AS line, {problem} AS problem
                FROM {_csv(path, 'parallel=false, ignore_errors=true')})
                WHERE problem IS NOT NULL ORDER BY line LIMIT 100""").fetchall()
            bad.extend(BadRow(str(path), int(line), msg) for line, msg in rows)
            bad.extend(BadRow(str(path), None, "further bad rows") for _ in range(max(n_bad - len(rows), 0)))
        if self.strict:
            fail_strict(bad)

    def _ingest(self, batch: EtlBatch, key: str) -> None:
        con = connect_duckdb(self.writer.dir / "_spill")
        staged: dict[str, Path] = {}
        bad: list[BadRow] = []
        try:
            counts, islands, times = self._build(con, batch, bad)
            advance(self.progress, f"{batch.label}: addresses", 1)
            next_id = assign_address_ids(con, self.writer, staged)
            counts.update(drop_stored_duplicates(con, self.writer, "logs" in batch.files))
            if counts.pop("duplicates"):
                self.report.note("rows already in the store (same transaction hash, kind, asset, sender, receiver, "
                                 "amount and position) were not stored again")
            advance(self.progress, f"{batch.label}: writing", 1)
            counts["addresses"] = next_id - int(self.writer.manifest["next_address_id"])
            counts["transfers"] = self.writer.copy_part(con, "transfers", _TRANSFERS_SQL, staged)
            counts["events"] = self.writer.copy_part(con, "events", _EVENTS_SQL, staged) if "logs" in batch.files else 0
            counts["blocks"] = self.writer.copy_part(
                con, "blocks", "SELECT block_number, timestamp, block_hash FROM bts_new ORDER BY block_number", staged)
            brange = (islands[0][0], islands[-1][1]) if islands else None
            info = {"label": batch.label, "counts": counts, "bad_rows": len(bad),
                    "first_time": times[0], "last_time": times[1], "blocks": list(brange) if brange else None}
            self.writer.commit(key, staged, info, next_address_id=next_id,
                               block_ranges=[(lo, hi) for lo, hi, _, _ in islands],
                               coverage=lambda doc: record_coverage(doc, islands, batch.address_spans))
        except BaseException:
            self.writer.discard(staged)
            raise
        finally:
            con.close()
        self.report.batches_committed += 1
        self.report.add_rows(counts)
        self.report.add_bad(bad)
        advance(self.progress, f"{batch.label}: committed", 1)

    def _build(self, con: duckdb.DuckDBPyConnection, batch: EtlBatch,
               bad: list[BadRow]) -> tuple[dict[str, int], tuple[int, int] | None, tuple[int | None, int | None]]:
        files = batch.files
        if "transactions" not in files and "token_transfers" not in files:
            raise InputError(f"{batch.label}: no transactions.csv or token_transfers.csv")
        advance(self.progress, f"{batch.label}: reading", 0)
        if "blocks" in files:
            bhash = "lower(hash)" if "hash" in _columns(con, files["blocks"]) else "NULL::VARCHAR"
            self._load(con, "blocks", files["blocks"], "TRY_CAST(number AS BIGINT) AS bn, "
                       f"TRY_CAST(timestamp AS BIGINT) AS ts, {bhash} AS block_hash", bad)
        tx_cols = _columns(con, files["transactions"]) if "transactions" in files else set()
        if "transactions" in files:
            status = "receipt_status" if "receipt_status" in tx_cols else "NULL"
            created = "receipt_contract_address" if "receipt_contract_address" in tx_cols else "NULL"
            ts = "TRY_CAST(block_timestamp AS BIGINT)" if "block_timestamp" in tx_cols else "NULL::BIGINT"
            bh = "lower(block_hash)" if "block_hash" in tx_cols else "NULL"
            self._load(con, "transactions", files["transactions"], f"""lower(hash) AS tx_hash,
                TRY_CAST(block_number AS BIGINT) AS bn, TRY_CAST(transaction_index AS INTEGER) AS tx_index,
                lower(from_address) AS fa, lower(coalesce(to_address, {created})) AS ta,
                TRY_CAST(value AS UHUGEINT) AS v, {status} AS status, {ts} AS ts, {bh} AS block_hash""", bad)
            if status == "NULL" and "receipts" in files:
                self._load(con, "receipts", files["receipts"],
                           "lower(transaction_hash) AS tx_hash, status", bad)
                con.execute("""UPDATE transactions SET status = r.status FROM receipts r
                               WHERE transactions.tx_hash = r.tx_hash""")
            elif status == "NULL":
                self.report.note("no receipt status (receipt_status or receipts.csv): failed transactions "
                                 "could not be told apart and their value counts as moved")
        else:
            con.execute("CREATE TEMP TABLE transactions AS SELECT NULL::VARCHAR tx_hash, NULL::BIGINT bn, "
                        "NULL::INTEGER tx_index, NULL::VARCHAR fa, NULL::VARCHAR ta, NULL::UHUGEINT v, "
                        "NULL::VARCHAR status, NULL::BIGINT ts, NULL::VARCHAR block_hash, "
                        "NULL::VARCHAR problem WHERE false")
        advance(self.progress, f"{batch.label}: transactions", 1)
        if "token_transfers" in files:
            own = own_tx_index(_columns(con, files["token_transfers"]))
            self._load(con, "token_transfers", files["token_transfers"], f"""lower(token_address) AS contract,
                {own} AS own_tx_index,
                lower(from_address) AS fa, lower(to_address) AS ta, TRY_CAST(value AS UHUGEINT) AS v,
                lower(transaction_hash) AS tx_hash, TRY_CAST(log_index AS INTEGER) AS log_index,
                TRY_CAST(block_number AS BIGINT) AS bn""", bad)
        else:
            con.execute("CREATE TEMP TABLE token_transfers AS SELECT NULL::VARCHAR contract, NULL::INTEGER own_tx_index, "
                        "NULL::VARCHAR fa, "
                        "NULL::VARCHAR ta, NULL::UHUGEINT v, NULL::VARCHAR tx_hash, NULL::INTEGER log_index, "
                        "NULL::BIGINT bn, NULL::VARCHAR problem WHERE false")
        if "traces" in files:
            tcols = _columns(con, files["traces"])
            opt = {c: (c if c in tcols else d) for c, d in
                   (("trace_type", "'call'"), ("call_type", "NULL"), ("status", "'1'"))}
            self._load(con, "traces", files["traces"], f"""lower(transaction_hash) AS tx_hash,
                {own_tx_index(tcols)} AS own_tx_index,
                TRY_CAST(block_number AS BIGINT) AS bn, lower(from_address) AS fa, lower(to_address) AS ta,
                TRY_CAST(value AS UHUGEINT) AS v, {opt['trace_type']} AS trace_type,
                {opt['call_type']} AS call_type, trace_address, {opt['status']} AS status""", bad)
        else:
            con.execute("CREATE TEMP TABLE traces AS SELECT NULL::VARCHAR tx_hash, NULL::INTEGER own_tx_index, "
                        "NULL::BIGINT bn, "
                        "NULL::VARCHAR fa, NULL::VARCHAR ta, NULL::UHUGEINT v, NULL::VARCHAR trace_type, "
                        "NULL::VARCHAR call_type, NULL::VARCHAR trace_address, NULL::VARCHAR status, "
                        "NULL::VARCHAR problem WHERE false")
        if "logs" in files:
            self._load(con, "logs", files["logs"], """lower(transaction_hash) AS tx_hash,
                TRY_CAST(block_number AS BIGINT) AS bn, TRY_CAST(log_index AS INTEGER) AS log_index,
                lower(address) AS contract, lower(data) AS data, string_split(lower(topics), ',') AS topics""", bad)
        advance(self.progress, f"{batch.label}: token transfers, traces, logs", 1)
        return self._derive(con, batch, bad)

    def _derive(self, con: duckdb.DuckDBPyConnection, batch: EtlBatch, bad: list[BadRow]
                ) -> tuple[dict[str, int], list[tuple[int, int, int, int]], tuple[int | None, int | None]]:
        """Value moves of the batch (all of them: duplicates of stored rows are removed by natural key
        later, in `_ingest`), new blocks, and the block islands this batch covers."""
        files = batch.files
        blocks_sql = ("SELECT bn, ts, block_hash FROM blocks WHERE problem IS NULL" if "blocks" in files else
                      "SELECT bn, any_value(ts), any_value(block_hash) FROM transactions "
                      "WHERE problem IS NULL AND ts IS NOT NULL GROUP BY bn")
        con.execute(f"CREATE TEMP TABLE bts AS SELECT bn AS block_number, any_value(ts) AS timestamp, "
                    f"any_value(block_hash) AS block_hash FROM ({blocks_sql}) WHERE bn IS NOT NULL AND ts IS NOT NULL "
                    "GROUP BY bn")
        islands: list[tuple[int, int, int, int]] = []
        if batch.block_coverage and "transactions" in files:
            islands = block_islands(con.execute("SELECT block_number, timestamp FROM bts").fetchall())
        con.execute(f"""CREATE TEMP TABLE bts_new AS SELECT * FROM bts
            WHERE block_number NOT IN (SELECT block_number FROM {self.writer.scan_sql('blocks')})""")
        # timestamps of blocks this batch lacks but an earlier batch stored (e.g. token transfers alone)
        con.execute(f"""INSERT INTO bts SELECT block_number, timestamp, block_hash FROM {self.writer.scan_sql('blocks')}
            WHERE block_number IN (SELECT bn FROM token_transfers UNION SELECT bn FROM traces
                                   UNION SELECT bn FROM transactions EXCEPT SELECT block_number FROM bts)""")
        self._assign_assets(con, batch)
        con.execute(f"""CREATE TEMP TABLE moves AS
            SELECT bn, tx_hash, tx_index, -1 AS log_index, 'native' AS kind, fa, ta, 0 AS asset_id, v
            FROM transactions WHERE problem IS NULL AND v > 0 AND coalesce(status, '1') <> '0' AND ta IS NOT NULL
            UNION ALL
            SELECT t.bn, t.tx_hash, coalesce(x.tx_index, t.own_tx_index, -1), t.log_index, 'token', t.fa, t.ta,
                   a.asset_id, t.v
            FROM token_transfers t LEFT JOIN transactions x ON x.tx_hash = t.tx_hash
            JOIN asset_map a ON a.contract = t.contract
            WHERE t.problem IS NULL AND t.v > 0
            UNION ALL
            SELECT t.bn, t.tx_hash, coalesce(x.tx_index, t.own_tx_index, -1), {INTERNAL_LOG_INDEX},
                   'internal', t.fa, t.ta, 0, t.v
            FROM traces t LEFT JOIN transactions x ON x.tx_hash = t.tx_hash
            WHERE t.problem IS NULL AND t.v > 0 AND t.status = '1' AND coalesce(t.trace_address, '') <> ''
              AND t.trace_type IN ('call', 'create', 'suicide')
              AND coalesce(t.call_type, 'call') NOT IN ('delegatecall', 'staticcall', 'callcode')""")
        missing_ts = con.execute("""SELECT DISTINCT m.bn FROM moves m ANTI JOIN bts b ON b.block_number = m.bn
                                    ORDER BY 1 LIMIT 20""").fetchall()
        if missing_ts:
            n = con.execute("SELECT count(*) FROM moves m ANTI JOIN bts b ON b.block_number = m.bn").fetchone()[0]
            bad.append(BadRow(batch.label, None, f"{n} transfer(s) in blocks with no known timestamp "
                              f"(e.g. block {missing_ts[0][0]}); add blocks.csv for them"))
            if self.strict:
                fail_strict(bad)
        self._events(con, files)
        con.execute("""CREATE TEMP TABLE batch_addresses AS SELECT DISTINCT address FROM (
            SELECT fa AS address FROM moves UNION ALL SELECT ta FROM moves
            UNION ALL SELECT address FROM ev_addresses) WHERE address IS NOT NULL""")
        first, last = con.execute("SELECT min(timestamp), max(timestamp) FROM bts WHERE block_number IN "
                                  "(SELECT bn FROM moves UNION SELECT block_number FROM bts_new)").fetchone()
        advance(self.progress, f"{batch.label}: transfers", 1)
        return {}, islands, (first, last)

    def _assign_assets(self, con: duckdb.DuckDBPyConnection, batch: EtlBatch) -> None:
        """Token contracts get asset ids (kept in assets.parquet); tokens.csv adds symbol and decimals."""
        assets = self.writer.read_assets()
        by_contract = {a["contract"]: a for a in assets if a["contract"]}
        next_asset = int(self.writer.manifest["next_asset_id"])
        seen = [r[0] for r in con.execute("SELECT DISTINCT contract FROM token_transfers WHERE problem IS NULL "
                                          "ORDER BY 1").fetchall()]
        for contract in seen:
            if contract not in by_contract:
                row = {"asset_id": next_asset, "contract": contract, "symbol": None, "decimals": None}
                by_contract[contract] = row
                assets.append(row)
                next_asset += 1
        if "tokens" in batch.files:
            for address, symbol, decimals in con.execute(
                    f"SELECT lower(address), symbol, TRY_CAST(decimals AS INTEGER) FROM {_csv(batch.files['tokens'])}"
            ).fetchall():
                row = by_contract.get(address)
                if row is None:
                    row = {"asset_id": next_asset, "contract": address, "symbol": None, "decimals": None}
                    by_contract[address] = row
                    assets.append(row)
                    next_asset += 1
                row["symbol"] = row["symbol"] or symbol
                row["decimals"] = row["decimals"] if row["decimals"] is not None else decimals
        self.writer.manifest["next_asset_id"] = next_asset
        self.writer.write_assets(assets)
        con.execute("CREATE OR REPLACE TEMP TABLE asset_map (contract VARCHAR, asset_id INTEGER)")
        rows = [(c, a["asset_id"]) for c, a in by_contract.items()]
        if rows:
            con.executemany("INSERT INTO asset_map VALUES (?, ?)", rows)

    def _events(self, con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> None:
        if "logs" not in files:
            con.execute("CREATE TEMP TABLE ev_addresses AS SELECT NULL::VARCHAR AS address WHERE false")
            return
        topic, name = list(BLACKLIST_TOPICS), list(BLACKLIST_TOPICS.values())
        in_data, indexed = f"'{topic[0]}', '{topic[1]}'", f"'{topic[2]}', '{topic[3]}'"
        names = " ".join(f"WHEN '{t}' THEN '{n}'" for t, n in zip(topic, name, strict=True))
        con.execute(f"""CREATE TEMP TABLE ev AS SELECT l.*, x.fa AS sender,
            CASE l.topics[1] WHEN '{TORNADO_DEPOSIT}' THEN 'tornado_deposit'
                 WHEN '{TORNADO_WITHDRAWAL}' THEN 'tornado_withdrawal' {names} END AS event
            FROM logs l LEFT JOIN transactions x ON x.tx_hash = l.tx_hash
            WHERE (l.topics[1] IN ('{TORNADO_DEPOSIT}', '{TORNADO_WITHDRAWAL}')
                   AND regexp_full_match(l.data, '0x[0-9a-f]*') AND length(l.data) >= 130)
               OR (l.topics[1] IN ({in_data}) AND regexp_full_match(l.data, '0x[0-9a-f]{{64}}'))
               OR (l.topics[1] IN ({indexed}) AND len(l.topics) >= 2
                   AND regexp_full_match(l.topics[2], '0x[0-9a-f]{{64}}'))""")
        con.execute(f"""CREATE TEMP TABLE ev_decoded AS SELECT *,
            CASE WHEN event IN ('tornado_withdrawal', '{name[0]}', '{name[1]}') THEN '0x' || substr(data, 27, 40)
                 WHEN event IN ('{name[2]}', '{name[3]}') THEN '0x' || substr(topics[2], 27, 40) END AS to_addr,
            CASE WHEN event = 'tornado_withdrawal' THEN '0x' || substr(topics[2], 27, 40) END AS relayer_addr
            FROM ev""")
        con.execute("""CREATE TEMP TABLE ev_addresses AS SELECT contract AS address FROM ev_decoded
            UNION SELECT to_addr FROM ev_decoded UNION SELECT relayer_addr FROM ev_decoded
            UNION SELECT sender FROM ev_decoded""")


_TRANSFERS_SQL = """
SELECT m.bn AS block_number, b.timestamp, m.tx_hash, m.tx_index, m.log_index, m.kind,
       m.from_id, m.to_id, m.asset_id, m.amount_hi, m.amount_lo
FROM moves_new m JOIN bts b ON b.block_number = m.bn
ORDER BY m.bn, m.tx_index, CASE WHEN m.log_index = -1 THEN 0 WHEN m.log_index < -1 THEN 1 ELSE 2 END,
         abs(m.log_index)"""

_EVENTS_SQL = """
SELECT e.bn AS block_number, b.timestamp, e.tx_hash, e.log_index, c.address_id AS contract_id, e.event,
       CASE WHEN e.event = 'tornado_deposit' THEN e.topics[2] END AS commitment,
       CASE WHEN e.event = 'tornado_withdrawal' THEN '0x' || substr(e.data, 67, 64) END AS nullifier,
       coalesce(t.address_id, -1) AS to_id, coalesce(r.address_id, -1) AS relayer_id,
       CASE WHEN e.event = 'tornado_withdrawal' THEN ('0x' || substr(e.data, 163, 16))::UBIGINT ELSE 0 END AS fee_hi,
       CASE WHEN e.event = 'tornado_withdrawal' THEN ('0x' || substr(e.data, 179, 16))::UBIGINT ELSE 0 END AS fee_lo,
       coalesce(s.address_id, -1) AS from_id,
       CASE WHEN e.event = 'tornado_deposit' THEN ('0x' || substr(e.data, 51, 16))::UBIGINT END AS leaf_index,
       CASE WHEN e.event = 'tornado_deposit' THEN ('0x' || substr(e.data, 115, 16))::UBIGINT END AS deposit_time
FROM ev_new e JOIN bts b ON b.block_number = e.bn
JOIN addr_map c ON c.address = e.contract
LEFT JOIN addr_map t ON t.address = e.to_addr LEFT JOIN addr_map r ON r.address = e.relayer_addr
LEFT JOIN addr_map s ON s.address = e.sender
ORDER BY e.bn, e.log_index"""
