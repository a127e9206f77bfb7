"""What every ingester shares: the run report, bad-row bookkeeping, DuckDB set-up, address ids."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trilateral.chain.writer import TableWriter
from trilateral.core.errors import InputError

MAX_REPORTED_BAD_ROWS = 100
U64_MASK = "18446744073709551615::UHUGEINT"
HASH_RE = "'0x[0-9a-fA-F]{64}'"
ADDR_RE = "'0x[0-9a-fA-F]{40}'"
UINT_RE = "'[0-9]{1,39}'"


@dataclass
class BadRow:
    """One input row that was not stored: where it is and why."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass
class IngestReport:
    """What an ingest run did; `chain ingest` prints it as its summary."""

    chain: str
    source: str
    batches: int = 0
    batches_committed: int = 0
    batches_skipped: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_row_count: int = 0
    notes: list[str] = field(default_factory=list)

    def add_rows(self, counts: dict[str, int]) -> None:
        for k, v in counts.items():
            self.rows[k] = self.rows.get(k, 0) + int(v)

    def add_bad(self, rows: list[BadRow], total: int | None = None) -> None:
        self.bad_row_count += len(rows) if total is None else total
        room = MAX_REPORTED_BAD_ROWS - len(self.bad_rows)
        self.bad_rows.extend(rows[: max(room, 0)])

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "source": self.source, "batches": self.batches,
                "batches_committed": self.batches_committed, "batches_skipped": self.batches_skipped,
                "rows": self.rows, "bad_row_count": self.bad_row_count,
                "bad_rows": [str(b) for b in self.bad_rows], "notes": self.notes}


def fail_strict(bad: list[BadRow]) -> None:
    """--strict: the first bad row fails the batch (nothing of it is committed)."""
    if bad:
        raise InputError(f"{bad[0]} (batch not committed; fix the row or run without --strict to skip it)")


def file_fingerprint(path: Path) -> str:
    """Cheap identity of an input file: name, size and hashes of its first and last 64 KiB."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(f"{path.name}\0{size}\0".encode())
    with open(path, "rb") as fh:
        h.update(fh.read(65536))
        if size > 65536:
            fh.seek(max(size - 65536, 65536))
            h.update(fh.read())
    return h.hexdigest()[:24]


def connect_duckdb(spill_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a bounded memory budget that spills to the store's disk."""
    spill_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{os.environ.get('TRILATERAL_DUCKDB_MEMORY', '2GB')}'")
    con.execute(f"SET temp_directory='{spill_dir}'")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")  # stdout belongs to --json output
    return con


def assign_address_ids(con: duckdb.DuckDBPyConnection, writer: TableWriter, staged: dict[str, Path]) -> int:
    """Map temp table `batch_addresses(address)` to ids in temp table `addr_map(address, address_id)`.

    Known addresses keep their id; new ones get the next dense ids in address order (deterministic,
    so a batch redone after a crash assigns the same ids). Returns the new next_address_id.
    """
    next_id = int(writer.manifest["next_address_id"])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE addr_known AS
        SELECT d.address, d.address_id FROM {writer.scan_sql('addresses')} d
        WHERE d.address IN (SELECT address FROM batch_addresses)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE addr_new AS
        SELECT address, {next_id} + row_number() OVER (ORDER BY address) - 1 AS address_id
        FROM (SELECT address FROM batch_addresses EXCEPT SELECT address FROM addr_known)""")
    added = writer.copy_part(con, "addresses", "SELECT address_id, address FROM addr_new ORDER BY address_id",
                             staged)
    con.execute("CREATE OR REPLACE TEMP TABLE addr_map AS SELECT * FROM addr_known UNION ALL "
                "SELECT * FROM addr_new")
    return next_id + added


def done_filter(column: str, ranges: list[tuple[int, int]]) -> str:
    """SQL predicate: `column` is outside every block range already committed."""
    if not ranges:
        return "true"
    return "NOT (" + " OR ".join(f"({column} BETWEEN {lo} AND {hi})" for lo, hi in ranges) + ")"


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A rich progress bar on stderr (never stdout, which --json output owns)."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[stage]}"), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=False)
    with progress:
        progress.add_task(description, total=total, stage="")
        yield progress


def advance(progress: Progress | None, stage: str = "", steps: float = 0) -> None:
    if progress is not None:
        task = progress.task_ids[0]
        progress.update(task, advance=steps, stage=stage)
