"""`--format etherscan`: saved explorer API responses and CSV exports into the account-model store.

Files are read in batches (up to 64 MiB or 1000 files, fixed by the file list, so re-runs skip committed
batches); a batch's rows are merged (explorer.merge_lists: the same row in two files is one row) and
converted (explorer.py, exact integers) into an ethereum-etl batch in the store's scratch directory and committed through the same set-based ingest as `etl`,
so the two formats mean the same thing and a row already stored (from any source) is not stored
again. Coverage is per address: the queried address's list (normal | internal | token) is complete
over the time span of the file's rows, or over --complete-from/--complete-to when given. The queried
address is --address, else the one address in the file name, else the one address present in every
row; when none can be told, the rows are stored and no coverage is recorded (the report says so).
"""

from __future__ import annotations

import csv
import hashlib
import json
import operator
import shutil
from pathlib import Path
from typing import Any

from trilateral.chain.common import IngestReport, fail_strict, file_fingerprint, progress_bar
from trilateral.chain.ethereum_etl import STEPS_PER_BATCH, EtlBatch, EtlIngest
from trilateral.chain.explorer import (
    ADDRESS_RE,
    API_PAGE_LIMIT,
    ExplorerList,
    csv_kind,
    from_api,
    from_csv,
    merge_lists,
    normalise_header,
)
from trilateral.chain.writer import TableWriter
from trilateral.core.errors import InputError

GROUP_BYTES = 64 * 2**20  # explorer files per batch: up to 64 MiB of JSON/CSV ...
GROUP_FILES = 1000  # ... or this many files
TX_COLUMNS = ["hash", "block_number", "transaction_index", "from_address", "to_address", "value", "receipt_status",
              "receipt_contract_address", "block_timestamp", "block_hash"]
TT_COLUMNS = ["token_address", "from_address", "to_address", "value", "transaction_hash", "log_index", "block_number",
              "transaction_index"]
TRACE_COLUMNS = ["transaction_hash", "transaction_index", "block_number", "from_address", "to_address", "value",
                 "trace_type", "call_type", "trace_address", "status"]


def explorer_files(path: Path) -> list[Path]:
    """The file, or every *.json and *.csv under a directory (API responses first: they carry decimals)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or directory")
    files = sorted(path.rglob("*.json")) + sorted(path.rglob("*.csv"))
    if not files:
        raise InputError(f"{path}: no explorer API responses (*.json) or CSV exports (*.csv)")
    return files


def read_explorer_file(path: Path, decimals_of: dict[str, int]) -> ExplorerList:
    """Parse one saved API response or CSV export."""
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise InputError(f"{path}: empty CSV (expected an explorer export with a header row)")
            names = [normalise_header(h) for h in header]
            if not any(n in names for n in ("txhash", "transactionhash")) or "blockno" not in names:
                raise InputError(f"{path}:1: not an explorer CSV export (needs Transaction Hash/Txhash, Blockno, "
                                 "UnixTimestamp, From, To)")
            kind = csv_kind(header)
            values = ("tokenvalue", "quantity", "value") if kind == "token" else ("value_in(eth)", "value_out(eth)")
            if not any(v in names for v in values) or not {"unixtimestamp", "datetime(utc)"} & set(names):
                raise InputError(f"{path}:1: explorer {kind} export without a value column ({' or '.join(values)}) "
                                 "or a time column (UnixTimestamp, DateTime (UTC))")
            rows = [(reader.line_num, dict(zip(names, r, strict=False))) for r in reader if any(r)]
        return from_csv(rows, kind, str(path), decimals_of)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    result = doc.get("result") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and not isinstance(result, list):
        raise InputError(f"{path}: explorer error response: {doc.get('message')} {result!r}")
    if not isinstance(result, list):
        raise InputError(f"{path}: expected an explorer API response {{\"status\", \"message\", \"result\": [...]}}")
    data = from_api(result, str(path))
    if not result:  # an empty list says nothing of its kind: the file name does (tokentx, txlistinternal)
        name = path.name.lower()
        data.kind = "internal" if "internal" in name else "token" if "token" in name else "normal"
    return data


def queried_address(path: Path, data: ExplorerList, given: str | None) -> str | None:
    """--address, else the one address in the file name, else the one address in every row."""
    if given:
        if not ADDRESS_RE.fullmatch(given):
            raise InputError(f"--address {given!r} is not a 20-byte hex address")
        return given.lower()
    in_name = {a.lower() for a in ADDRESS_RE.findall(path.name)}
    if len(in_name) == 1:
        return in_name.pop()
    common = data.addresses_in_every_row or set()
    return next(iter(common)) if len(common) == 1 else None


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    pick = operator.itemgetter(*columns)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(map(pick, rows))
    return path


def write_etl_batch(data: ExplorerList, out: Path) -> dict[str, Path]:
    """The rows as an ethereum-etl directory (transactions.csv always, possibly empty)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"transactions": _write_csv(out / "transactions.csv", TX_COLUMNS, data.transactions),
             "blocks": _write_csv(out / "blocks.csv", ["number", "timestamp", "hash"],
                                  [{"number": b, "timestamp": t, "hash": h or ""}
                                   for b, (t, h) in sorted(data.blocks.items())])}
    if data.token_transfers:
        files["token_transfers"] = _write_csv(out / "token_transfers.csv", TT_COLUMNS, data.token_transfers)
        files["tokens"] = _write_csv(out / "tokens.csv", ["address", "symbol", "decimals"],
                                     [{"address": c, "symbol": s or "", "decimals": "" if d is None else d}
                                      for c, (s, d) in sorted(data.tokens.items())])
    if data.traces:
        files["traces"] = _write_csv(out / "traces.csv", TRACE_COLUMNS, data.traces)
    return files


def file_groups(files: list[Path], max_bytes: int | None = None, max_files: int | None = None) -> list[list[Path]]:
    """Consecutive files up to max_bytes / max_files per batch (fixed by the file list alone, so a
    re-run cuts the same batches and skips those committed)."""
    max_bytes = GROUP_BYTES if max_bytes is None else max_bytes
    max_files = GROUP_FILES if max_files is None else max_files
    groups: list[list[Path]] = []
    size = 0
    for file in files:
        n = file.stat().st_size
        if not groups or size + n > max_bytes or len(groups[-1]) >= max_files:
            groups.append([])
            size = 0
        groups[-1].append(file)
        size += n
    return groups


def ingest_etherscan(chain_dir: Path, path: Path, *, address: str | None = None, complete_from: int | None = None,
                     complete_to: int | None = None, token_decimals: dict[str, int] | None = None,
                     strict: bool = False, show_progress: bool = True, chain: str = "ethereum") -> IngestReport:
    """Ingest explorer files under `path`, in batches of files (re-runs skip committed batches).

    Every EVM chain's explorer (BscScan, PolygonScan, Arbiscan, Snowtrace, …) answers in Etherscan's
    shape, so one reader serves the family; `chain` names the store the rows go to."""
    groups = file_groups(explorer_files(path))
    writer = TableWriter(chain_dir, chain, "account")
    report = IngestReport(chain, str(path))
    decimals_of = {a["contract"]: int(a["decimals"]) for a in writer.read_assets()
                   if a["contract"] and a["decimals"] is not None}
    decimals_of.update({k.lower(): v for k, v in (token_decimals or {}).items()})
    options = json.dumps([address, complete_from, complete_to], sort_keys=True)
    suffix = hashlib.sha256(options.encode()).hexdigest()[:12]
    bar = progress_bar("ingest explorer data", len(groups) * STEPS_PER_BATCH) if show_progress else None
    progress = bar.__enter__() if bar else None
    try:
        ingester = EtlIngest(writer, report, strict=strict, progress=progress)
        for n, group in enumerate(groups):
            prints = hashlib.sha256("|".join(file_fingerprint(f) for f in group).encode()).hexdigest()[:24]
            key = f"etherscan:{prints}:{suffix}"
            if writer.has_batch(key):
                report.batches += 1
                report.batches_skipped += 1
                continue
            lists, spans = [], []
            for file in group:
                data = read_explorer_file(file, decimals_of)
                if strict:
                    fail_strict(data.bad)
                decimals_of.update({c: d for c, (_, d) in data.tokens.items() if d is not None})
                spans += _spans(file, data, address, complete_from, complete_to, report)
                lists.append(data)
            data = merge_lists(lists)
            report.add_bad(data.bad)
            label = str(group[0]) if len(group) == 1 else f"{group[0]} .. {group[-1].name} ({len(group)} files)"
            batch = EtlBatch(label, {}, block_coverage=False, address_spans=spans)
            scratch = writer.dir / "_spill" / f"explorer-{n}"
            shutil.rmtree(scratch, ignore_errors=True)
            batch.files = write_etl_batch(data, scratch)
            try:
                ingester.run([batch], keys={batch.label: key})
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    return report


def _spans(file: Path, data: ExplorerList, address: str | None, complete_from: int | None,
           complete_to: int | None, report: IngestReport) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """The coverage this file gives: (queried address, list kind, [span]) or nothing."""
    who = queried_address(file, data, address)
    if len(data.times) >= API_PAGE_LIMIT:
        report.note(f"{file}: {len(data.times):,} rows, the explorer API's page limit: rows beyond it may be "
                    "missing; coverage is the span of the rows present")
    if who is None:
        report.note(f"{file}: the queried address could not be told (name it in the file name or pass --address): "
                    "rows stored, no coverage recorded")
        return []
    lo = complete_from if complete_from is not None else min(data.times, default=None)
    hi = complete_to if complete_to is not None else max(data.times, default=None)
    if lo is None or hi is None:
        report.note(f"{file}: no rows and no --complete-from/--complete-to: no coverage recorded for {who}")
        return []
    return [(who, data.kind, [(int(lo), int(hi))])]
