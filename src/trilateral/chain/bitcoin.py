"""Bitcoin into the UTXO-model store: bitcoin-etl `transactions.json` and Bitcoin Core `getblock HASH 2`.

bitcoin-etl lines are read set-based by DuckDB (inputs carry their address and value). Core JSON is
parsed with Decimal (BTC amounts become satoshi exactly, never via float); its inputs name only the
spent (txid, vout), resolved against outputs already in the store or in the same file. A spent output
the store does not hold is stored with address_id -1 and a NULL value, and counted in the report.
Outputs without a single address (OP_RETURN, non-standard, bare multisig) get a synthetic address
`nonstandard:<tx_hash>:<index>` (or `multisig:<a>,<b>,...`) so that no value disappears.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trilateral.chain.common import (
    BadRow,
    IngestReport,
    advance,
    assign_address_ids,
    connect_duckdb,
    done_filter,
    fail_strict,
    file_fingerprint,
    progress_bar,
)
from trilateral.chain.coverage import add_blocks, block_islands
from trilateral.chain.writer import TableWriter
from trilateral.core.errors import InputError

SATOSHI_PER_BTC = Decimal(100_000_000)

_ETL_COLUMNS = ("{hash: 'VARCHAR', block_number: 'BIGINT', block_hash: 'VARCHAR', block_timestamp: 'BIGINT', "
                "is_coinbase: 'BOOLEAN', "
                "inputs: 'STRUCT(\"index\" BIGINT, spent_transaction_hash VARCHAR, spent_output_index BIGINT, "
                "addresses VARCHAR[], \"value\" BIGINT, \"type\" VARCHAR)[]', "
                "outputs: 'STRUCT(\"index\" BIGINT, addresses VARCHAR[], \"value\" BIGINT, \"type\" VARCHAR)[]'}")


def _address_sql(addresses: str, tx: str, index: str) -> str:
    return (f"CASE WHEN len({addresses}) = 1 AND NOT starts_with({addresses}[1], 'nonstandard') "
            f"THEN {addresses}[1] "
            f"WHEN len({addresses}) > 1 THEN 'multisig:' || array_to_string({addresses}, ',') "
            f"ELSE 'nonstandard:' || {tx} || ':' || {index} END")


def ingest_bitcoin_etl(chain_dir: Path, path: Path, *, strict: bool = False,
                       show_progress: bool = True) -> IngestReport:
    """One transactions.json (or every transactions*.json under a directory) = one batch per file."""
    files = sorted(path.rglob("transactions*.json")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no bitcoin-etl transactions.json")
    return _ingest_files(chain_dir, path, files, "bitcoin-etl", "btc-etl", _etl_batch, strict, show_progress)


def _ingest_files(chain_dir: Path, path: Path, files: list[Path], label: str, key_prefix: str,
                  batch: Callable[..., None], strict: bool, show_progress: bool) -> IngestReport:
    """One batch per file, skipping files whose batch is already committed (idempotent re-runs)."""
    writer = TableWriter(chain_dir, "bitcoin", "utxo")
    report = IngestReport("bitcoin", str(path), batches=len(files))
    with progress_bar(f"ingest {label}", len(files)) if show_progress else _null() as progress:
        for file in files:
            key = f"{key_prefix}:{file_fingerprint(file)}"
            if writer.has_batch(key):
                report.batches_skipped += 1
            else:
                batch(writer, file, key, report, strict)
            advance(progress, file.name, 1)
    return report


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _read_etl_json(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(f"""CREATE OR REPLACE TEMP TABLE raw AS SELECT row_number() OVER () AS line, *, NULL::BIGINT AS fee
        FROM read_json('{path}', format='newline_delimited', columns={_ETL_COLUMNS})""")


def _without_bad_json_lines(path: Path, scratch: Path) -> tuple[Path, list[BadRow]]:
    """Find the lines DuckDB could not read (named by line number) and copy the rest aside."""
    scratch.mkdir(parents=True, exist_ok=True)
    good = scratch / f"{path.name}.good.jsonl"
    bad: list[BadRow] = []
    with open(path, encoding="utf-8", errors="replace") as src, open(good, "w") as dst:
        for line_no, line in enumerate(src, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                bad.append(BadRow(str(path), line_no, f"not a JSON object: {exc}"))
                continue
            dst.write(line if line.endswith("\n") else line + "\n")
    return good, bad


def _etl_batch(writer: TableWriter, file: Path, key: str, report: IngestReport, strict: bool) -> None:
    con = connect_duckdb(writer.dir / "_spill")
    staged: dict[str, Path] = {}
    bad: list[BadRow] = []
    source = file
    try:
        try:
            _read_etl_json(con, source)
        except duckdb.Error:
            source, bad_lines = _without_bad_json_lines(file, writer.dir / "_spill")
            bad.extend(bad_lines)
            if strict:
                fail_strict(bad)
            try:
                _read_etl_json(con, source)
            except duckdb.Error as exc:
                raise InputError(f"{file}: not bitcoin-etl transactions JSON lines: {str(exc).splitlines()[0]}") from exc
        for line, tx_hash in con.execute("""SELECT line, hash FROM raw WHERE hash IS NULL OR block_number IS NULL
                OR block_timestamp IS NULL OR outputs IS NULL ORDER BY line LIMIT 100""").fetchall():
            bad.append(BadRow(str(file), int(line), f"transaction {tx_hash!r} lacks hash, block_number, "
                                                    "block_timestamp or outputs"))
        if strict:
            fail_strict(bad)
        done = done_filter("block_number", writer.block_ranges())
        con.execute(f"""CREATE TEMP TABLE txs AS SELECT * FROM raw WHERE hash IS NOT NULL AND block_number IS NOT NULL
            AND block_timestamp IS NOT NULL AND outputs IS NOT NULL AND {done}""")
        con.execute(f"""CREATE TEMP TABLE outs AS SELECT hash AS tx_hash, block_number, block_timestamp AS timestamp,
            o."index" AS output_index, {_address_sql('o.addresses', 'hash', 'o."index"')} AS address,
            o."value" AS value, o."type" AS script_type
            FROM (SELECT hash, block_number, block_timestamp, unnest(outputs) AS o FROM txs)""")
        con.execute(f"""CREATE TEMP TABLE ins AS SELECT hash AS tx_hash, block_number, block_timestamp AS timestamp,
            i."index" AS input_index, i.spent_transaction_hash AS spent_tx_hash,
            i.spent_output_index AS spent_output_index,
            {_address_sql('i.addresses', 'i.spent_transaction_hash', 'i.spent_output_index')} AS address,
            i."value" AS value
            FROM (SELECT hash, block_number, block_timestamp, unnest(inputs) AS i FROM txs WHERE NOT is_coinbase)""")
        _commit_utxo(con, writer, key, staged, report, bad, str(file))
    except BaseException:
        writer.discard(staged)
        raise
    finally:
        con.close()
        if source != file:
            source.unlink(missing_ok=True)


def _commit_utxo(con: duckdb.DuckDBPyConnection, writer: TableWriter, key: str, staged: dict[str, Path],
                 report: IngestReport, bad: list[BadRow], label: str) -> None:
    """From temp tables txs/outs/ins (address strings) to committed parts with address ids."""
    con.execute("""CREATE TEMP TABLE batch_addresses AS SELECT DISTINCT address FROM (
        SELECT address FROM outs UNION ALL SELECT address FROM ins) WHERE address IS NOT NULL""")
    before = int(writer.manifest["next_address_id"])
    next_id = assign_address_ids(con, writer, staged)
    counts = {"addresses": next_id - before}
    counts["outputs"] = writer.copy_part(con, "outputs", """SELECT o.tx_hash, o.block_number, o.timestamp,
        o.output_index, m.address_id, o.value, o.script_type FROM outs o JOIN addr_map m USING (address)
        ORDER BY o.block_number, o.tx_hash, o.output_index""", staged)
    counts["inputs"] = writer.copy_part(con, "inputs", """SELECT i.tx_hash, i.block_number, i.timestamp,
        i.input_index, i.spent_tx_hash, i.spent_output_index, coalesce(m.address_id, -1) AS address_id, i.value
        FROM ins i LEFT JOIN addr_map m USING (address) ORDER BY i.block_number, i.tx_hash, i.input_index""", staged)
    counts["transactions"] = writer.copy_part(con, "transactions", """SELECT t.hash AS tx_hash, t.block_number,
        t.block_timestamp AS timestamp, t.is_coinbase,
        CASE WHEN t.is_coinbase THEN 0 ELSE coalesce(i.input_value, o.output_value + t.fee) END AS input_value,
        o.output_value,
        CASE WHEN t.is_coinbase THEN 0 ELSE coalesce(t.fee, i.input_value - o.output_value) END AS fee
        FROM txs t
        LEFT JOIN (SELECT tx_hash, sum(value) AS output_value FROM outs GROUP BY tx_hash) o ON o.tx_hash = t.hash
        LEFT JOIN (SELECT tx_hash, CASE WHEN count(value) = count(*) THEN sum(value) END AS input_value
                   FROM ins GROUP BY tx_hash) i ON i.tx_hash = t.hash
        ORDER BY t.block_number, t.hash""", staged)
    counts["blocks"] = writer.copy_part(con, "blocks", """SELECT block_number, any_value(block_timestamp) AS timestamp,
        any_value(block_hash) AS block_hash FROM txs GROUP BY block_number ORDER BY block_number""", staged)
    lo, hi, first, last = con.execute("SELECT min(block_number), max(block_number), min(block_timestamp), "
                                      "max(block_timestamp) FROM txs").fetchone()
    brange = (int(lo), int(hi)) if lo is not None else None
    writer.commit(key, staged, {"label": label, "counts": counts, "bad_rows": len(bad), "first_time": first,
                                "last_time": last, "blocks": list(brange) if brange else None},
                  next_address_id=next_id, block_range=brange,
                  coverage=lambda doc: add_blocks(doc, block_islands(con.execute(
                      "SELECT DISTINCT block_number, block_timestamp FROM txs").fetchall())))
    report.batches_committed += 1
    report.add_rows(counts)
    report.add_bad(bad)


# ---- Bitcoin Core getblock verbosity 2 ------------------------------------------------------------
def _btc_to_sat(value: Any, where: str) -> int:
    if not isinstance(value, Decimal | int):
        raise ValueError(f"{where}: value {value!r} is not a number")
    sat = Decimal(value) * SATOSHI_PER_BTC
    if sat != sat.to_integral_value() or sat < 0:
        raise ValueError(f"{where}: value {value} BTC is not a whole number of satoshi")
    return int(sat)


def _load_blocks(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        try:
            return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: not Bitcoin Core getblock JSON ({exc.msg})") from exc
    if isinstance(doc, dict) and "result" in doc:  # a raw JSON-RPC response
        doc = doc["result"]
    return doc if isinstance(doc, list) else [doc]


def _core_address(spk: dict[str, Any], txid: str, n: int) -> str:
    if spk.get("address"):
        return spk["address"]
    addresses = spk.get("addresses") or []  # Bitcoin Core before v22
    if len(addresses) == 1:
        return addresses[0]
    if len(addresses) > 1:
        return "multisig:" + ",".join(addresses)
    return f"nonstandard:{txid}:{n}"


def ingest_core_json(chain_dir: Path, path: Path, *, strict: bool = False, show_progress: bool = True) -> IngestReport:
    """One getblock output file (a block, a JSON array of blocks, or JSON lines) = one batch."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    return _ingest_files(chain_dir, path, files, "bitcoin core", "btc-core", _core_batch, strict, show_progress)


def _core_batch(writer: TableWriter, file: Path, key: str, report: IngestReport, strict: bool) -> None:
    txs: list[dict[str, Any]] = []
    outs: list[dict[str, Any]] = []
    ins: list[dict[str, Any]] = []
    bad: list[BadRow] = []
    done = writer.block_ranges()
    for bi, block in enumerate(_load_blocks(file)):
        try:
            height, ts, bhash = int(block["height"]), int(block["time"]), block["hash"]
            block_txs = block["tx"]
            if block_txs and not isinstance(block_txs[0], dict):
                raise ValueError("tx holds only ids: use getblock HASH 2 (verbosity 2)")
        except (KeyError, TypeError, ValueError) as exc:
            bad.append(BadRow(str(file), None, f"block #{bi}: {exc}"))
            continue
        if any(lo <= height <= hi for lo, hi in done):
            continue
        for tx in block_txs:
            try:
                txid = tx["txid"]
                tx_outs = [{"tx_hash": txid, "block_number": height, "timestamp": ts, "output_index": int(o["n"]),
                            "address": _core_address(o.get("scriptPubKey", {}), txid, int(o["n"])),
                            "value": _btc_to_sat(o["value"], f"block {height} tx {txid} vout {o['n']}"),
                            "script_type": o.get("scriptPubKey", {}).get("type")} for o in tx["vout"]]
                coinbase = bool(tx["vin"]) and "coinbase" in tx["vin"][0]
                tx_ins = [] if coinbase else [
                    {"tx_hash": txid, "block_number": height, "timestamp": ts, "input_index": k,
                     "spent_tx_hash": v["txid"], "spent_output_index": int(v["vout"])}
                    for k, v in enumerate(tx["vin"])]
                fee = None if coinbase or "fee" not in tx else _btc_to_sat(tx["fee"], f"block {height} tx {txid} fee")
            except (KeyError, TypeError, ValueError) as exc:
                bad.append(BadRow(str(file), None, f"block {height} tx {tx.get('txid', '?')}: {exc}"))
                continue
            txs.append({"hash": txid, "block_number": height, "block_timestamp": ts, "block_hash": bhash,
                        "is_coinbase": coinbase, "fee": fee})
            outs.extend(tx_outs)
            ins.extend(tx_ins)
    if strict:
        fail_strict(bad)
    con = connect_duckdb(writer.dir / "_spill")
    staged: dict[str, Path] = {}
    try:
        con.register("txs_a", pa.Table.from_pylist(txs, schema=pa.schema([
            ("hash", pa.string()), ("block_number", pa.int64()), ("block_timestamp", pa.int64()),
            ("block_hash", pa.string()), ("is_coinbase", pa.bool_()), ("fee", pa.int64())])))
        con.register("outs_a", pa.Table.from_pylist(outs, schema=pa.schema([
            ("tx_hash", pa.string()), ("block_number", pa.int64()), ("timestamp", pa.int64()),
            ("output_index", pa.int32()), ("address", pa.string()), ("value", pa.int64()),
            ("script_type", pa.string())])))
        con.register("ins_a", pa.Table.from_pylist(ins, schema=pa.schema([
            ("tx_hash", pa.string()), ("block_number", pa.int64()), ("timestamp", pa.int64()),
            ("input_index", pa.int32()), ("spent_tx_hash", pa.string()), ("spent_output_index", pa.int32())])))
        con.execute("CREATE TEMP TABLE txs AS SELECT * FROM txs_a")
        con.execute("CREATE TEMP TABLE outs AS SELECT * FROM outs_a")
        # resolve each spent output: same file first, then the outputs already committed
        con.execute(f"""CREATE TEMP TABLE stored_prev AS SELECT o.tx_hash, o.output_index, o.value, a.address
            FROM {writer.scan_sql('outputs')} o JOIN {writer.scan_sql('addresses')} a ON a.address_id = o.address_id
            WHERE o.tx_hash IN (SELECT spent_tx_hash FROM ins_a)""")
        con.execute("""CREATE TEMP TABLE ins AS SELECT i.*, coalesce(b.address, s.address) AS address,
                coalesce(b.value, s.value) AS value
            FROM ins_a i
            LEFT JOIN outs b ON b.tx_hash = i.spent_tx_hash AND b.output_index = i.spent_output_index
            LEFT JOIN stored_prev s ON s.tx_hash = i.spent_tx_hash AND s.output_index = i.spent_output_index""")
        unknown = con.execute("SELECT count(*) FROM ins WHERE value IS NULL").fetchone()[0]
        if unknown:
            report.note(f"{unknown} input(s) spend outputs not in the store: stored with address_id -1 and "
                        "value NULL (ingest the earlier blocks first to resolve them)")
        _commit_utxo(con, writer, key, staged, report, bad, str(file))
    except BaseException:
        writer.discard(staged)
        raise
    finally:
        con.close()
