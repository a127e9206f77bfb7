"""Tron ingest (I/O edge): TronGrid API responses and full-node block dumps, committed through the
set-based ethereum-etl ingest (rows converted by `tron_formats`, the pure core)."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import orjson

from trilateral.chain.common import IngestReport, fail_strict, file_fingerprint, progress_bar
from trilateral.chain.ethereum_etl import STEPS_PER_BATCH, EtlBatch, EtlIngest
from trilateral.chain.etherscan import file_groups, write_etl_batch
from trilateral.chain.tron_formats import TronRows, read_node_dump, read_trongrid, without_logged_calls
from trilateral.chain.writer import TableWriter
from trilateral.core.chains import TRON_BASE58, tron_to_base58, tron_to_hex
from trilateral.core.errors import InputError

LOG_COLUMNS = ["log_index", "transaction_hash", "block_number", "address", "data", "topics"]


def tron_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if files:
            return files
        raise InputError(f"{path}: no *.json files (TronGrid responses or node block dumps)")
    raise InputError(f"{path}: no such file or directory")


def _read(path: Path, fmt: str) -> TronRows:
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    return read_trongrid(doc, str(path)) if fmt == "trongrid" else read_node_dump(doc, str(path))


def _merge(parts: list[TronRows]) -> TronRows:
    """One batch; a transfer listed in two files (sender's and receiver's list) is one row."""
    out = TronRows("mixed")
    seen_tx: set[str] = set()
    seen_tt: set[tuple] = set()
    for p in parts:
        for t in p.transactions:
            if t["hash"] not in seen_tx:
                seen_tx.add(t["hash"])
                out.transactions.append(t)
        mine: set[tuple] = set()
        for t in p.token_transfers:
            key = (t["transaction_hash"], t["token_address"], t["from_address"], t["to_address"], t["value"],
                   t["log_index"])
            if key not in seen_tt:
                mine.add(key)
                out.token_transfers.append(t)
        seen_tt |= mine
        seen_logs = {(g["transaction_hash"], g["log_index"]) for g in out.logs}
        out.logs.extend(g for g in p.logs if (g["transaction_hash"], g["log_index"]) not in seen_logs)
        for c, v in p.tokens.items():
            out.tokens.setdefault(c, v)
        for b, v in p.blocks.items():
            if b not in out.blocks or (out.blocks[b][1] is None and v[1]):
                out.blocks[b] = v
        out.bad += p.bad
        out.estimated_blocks += p.estimated_blocks
        out.logged |= p.logged
    without_logged_calls(out, out.logged)
    blocks_of_tx = {t["hash"]: t["block_number"] for t in out.transactions}
    for t in out.token_transfers:  # a TRC-20 row's real block, when its transaction is in the batch
        real = blocks_of_tx.get(t["transaction_hash"])
        if real is not None and real != t["block_number"]:
            out.blocks.pop(t["block_number"], None)
            t["block_number"] = real
            out.estimated_blocks -= 1
    return out


def _queried(path: Path, given: str | None) -> str | None:
    """The queried address as users write it (`T…`, the form coverage is asked in)."""
    if given:
        return tron_to_base58(tron_to_hex(given))
    found = {part for part in path.stem.replace("_", "-").split("-") if TRON_BASE58.match(part)}
    return tron_to_base58(tron_to_hex(found.pop())) if len(found) == 1 else None


def ingest_tron(chain_dir: Path, path: Path, *, fmt: str, address: str | None = None, strict: bool = False,
                show_progress: bool = True) -> IngestReport:
    """Ingest Tron files under `path` in groups of files (re-runs skip committed groups)."""
    groups = file_groups(tron_files(path))
    writer = TableWriter(chain_dir, "tron", "account")
    report = IngestReport("tron", str(path))
    bar = progress_bar(f"ingest tron {fmt}", len(groups) * STEPS_PER_BATCH) if show_progress else None
    progress = bar.__enter__() if bar else None
    try:
        ingester = EtlIngest(writer, report, strict=strict, progress=progress)
        for n, group in enumerate(groups):
            prints = hashlib.sha256("|".join(file_fingerprint(f) for f in group).encode()).hexdigest()[:24]
            key = f"{fmt}:{prints}:{address or ''}"
            if writer.has_batch(key):
                report.batches += 1
                report.batches_skipped += 1
                continue
            parts, spans = [], []
            for file in group:
                rows = _read(file, fmt)
                if strict:
                    fail_strict(rows.bad)
                parts.append(rows)
                spans += _spans(file, rows, fmt, address, report)
            data = _merge(parts)
            report.add_bad(data.bad)
            if data.estimated_blocks:
                report.note(f"{data.estimated_blocks} TRC-20 transfer(s) without their transaction in the batch: "
                            "block number estimated from the time (3-second slots since genesis); ingest the "
                            "account's transactions too for real heights")
            label = str(group[0]) if len(group) == 1 else f"{group[0]} .. {group[-1].name} ({len(group)} files)"
            batch = EtlBatch(label, {}, block_coverage=fmt == "tron-node", address_spans=spans)
            scratch = writer.dir / "_spill" / f"tron-{n}"
            shutil.rmtree(scratch, ignore_errors=True)
            batch.files = _write(data, scratch)
            try:
                ingester.run([batch], keys={batch.label: key})
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    return report


def _spans(file: Path, rows: TronRows, fmt: str, address: str | None,
           report: IngestReport) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """TronGrid account lists are per-address sources, like explorer lists (docs/chain.md, Coverage)."""
    if fmt != "trongrid" or rows.kind == "events":
        return []
    who = _queried(file, address)
    if who is None:
        report.note(f"{file}: the queried address could not be told (put its T… address in the file name or "
                    "pass --address): rows stored, no coverage recorded")
        return []
    if not rows.times:
        return []
    return [(who, rows.kind, [(min(rows.times), max(rows.times))])]


def _write(data: TronRows, out: Path) -> dict[str, Path]:
    files = write_etl_batch(data, out)  # type: ignore[arg-type]  (same fields as an explorer list)
    if data.logs:
        with open(out / "logs.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(LOG_COLUMNS)
            w.writerows([g[c] for c in LOG_COLUMNS] for g in data.logs)
        files["logs"] = out / "logs.csv"
    return files
