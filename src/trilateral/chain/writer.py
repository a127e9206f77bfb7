"""Crash-safe batch commits into the chain store: temp parts, atomic renames, then the manifest.

A batch writes each table's new rows to `<table>/part-*.parquet.tmp`, renames them into place and
only then replaces `_manifest.json` (the commit point). Readers use the files the manifest lists;
a run that finds parts the manifest does not list (a crash between rename and commit) deletes them
before it starts, so a killed ingest leaves nothing half-visible and the next run redoes the batch.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from trilateral.chain.schema import ASSETS, NATIVE_ASSET, tables_of
from trilateral.core.errors import ConfigurationError

MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1


def read_manifest(chain_root: Path) -> dict[str, Any] | None:
    path = chain_root / MANIFEST
    if not path.exists():
        return None
    return json.loads(path.read_text())


def sql_list(items: list[str]) -> str:
    """A DuckDB list literal of strings (file paths)."""
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """One writer at a time per store (an advisory lock file under the chain root)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(f"another ingest holds {root / '.lock'}; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class TableWriter:
    """The write side of one chain (or of `crosschain`): batches, address ids, assets, manifest."""

    def __init__(self, root: Path, name: str, model: str) -> None:
        self.root = root
        self.name = name
        self.dir = root / name
        self.model = model
        self.tables = tables_of(model)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.manifest = read_manifest(self.dir) or self._new_manifest()
        if self.manifest.get("model") != model:
            raise ConfigurationError(f"{self.dir} holds a {self.manifest.get('model')} store, not {model}")
        self._recover()

    def _new_manifest(self) -> dict[str, Any]:
        return {"version": MANIFEST_VERSION, "name": self.name, "model": self.model, "next_address_id": 0,
                "next_asset_id": 1, "tables": {t: [] for t in self.tables}, "batches": {},
                "block_ranges": [], "sequence": 0}

    def _recover(self) -> None:
        """Delete temp files and parts no committed batch lists (left by a killed run)."""
        listed = {f for files in self.manifest["tables"].values() for f in files}
        for table in self.tables:
            tdir = self.dir / table
            tdir.mkdir(exist_ok=True)
            for path in tdir.iterdir():
                rel = f"{table}/{path.name}"
                if path.name.endswith(".tmp") or (path.suffix == ".parquet" and rel not in listed):
                    path.unlink()
        for path in self.dir.glob("*.tmp"):
            path.unlink()
        if self.model != "crosschain":
            self._recover_assets()

    # ---- reading committed state -------------------------------------------------------------
    def files(self, table: str) -> list[str]:
        return [str(self.dir / f) for f in self.manifest["tables"][table]]

    def scan_sql(self, table: str) -> str:
        """SQL for the committed rows of `table` (an empty typed relation when there are none)."""
        from trilateral.chain.schema import empty_select

        files = self.files(table)
        if not files:
            return f"({empty_select(self.tables[table])})"
        return f"read_parquet({sql_list(files)})"

    def has_batch(self, key: str) -> bool:
        return key in self.manifest["batches"]

    def block_ranges(self) -> list[tuple[int, int]]:
        return [(int(lo), int(hi)) for lo, hi in self.manifest["block_ranges"]]

    # ---- assets (small: one file rewritten per batch) ----------------------------------------
    def _assets_path(self) -> Path:
        return self.dir / "assets.parquet"

    def _recover_assets(self) -> None:
        path = self._assets_path()
        symbol, decimals = NATIVE_ASSET[self.name]
        if not path.exists():
            self.write_assets([{"asset_id": 0, "contract": None, "symbol": symbol, "decimals": decimals}])
            return
        rows = pq.read_table(path).to_pylist()
        keep = [r for r in rows if r["asset_id"] < self.manifest["next_asset_id"]]
        if len(keep) != len(rows):
            self.write_assets(keep)

    def read_assets(self) -> list[dict[str, Any]]:
        return pq.read_table(self._assets_path()).to_pylist()

    def write_assets(self, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["asset_id"]), schema=ASSETS)
        tmp = self.dir / f"assets.{uuid.uuid4().hex[:8]}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self._assets_path())

    # ---- one batch ---------------------------------------------------------------------------
    def new_part(self, table: str) -> tuple[Path, str]:
        """(temporary path to write, final relative name) for a new part of `table`."""
        self.manifest["sequence"] += 1
        final = f"{table}/part-{self.manifest['sequence']:08d}-{uuid.uuid4().hex[:8]}.parquet"
        return self.dir / (final + ".tmp"), final

    def copy_part(self, con: duckdb.DuckDBPyConnection, table: str, sql: str, staged: dict[str, Path]) -> int:
        """Write the rows of `sql` (columns in the table's order) as a staged part; returns the row count."""
        from trilateral.chain.schema import select_list

        tmp, final = self.new_part(table)
        n = con.execute(f"COPY (SELECT {select_list(self.tables[table])} FROM ({sql})) TO '{tmp}' "
                        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)").fetchone()[0]
        if n == 0:
            tmp.unlink(missing_ok=True)
            return 0
        staged[final] = tmp
        return int(n)

    def write_arrow_part(self, table: str, data: pa.Table, staged: dict[str, Path]) -> int:
        if data.num_rows == 0:
            return 0
        tmp, final = self.new_part(table)
        pq.write_table(data.select(self.tables[table].names).cast(self.tables[table]), tmp, compression="zstd")
        staged[final] = tmp
        return data.num_rows

    def commit(self, key: str, staged: dict[str, Path], info: dict[str, Any], *,
               next_address_id: int | None = None, block_range: tuple[int, int] | None = None,
               block_ranges: list[tuple[int, int]] | None = None,
               coverage: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Rename staged parts into place, then commit the manifest (the atomic step)."""
        for final, tmp in staged.items():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.dir / final)
        for table in {f.split("/")[0] for f in staged}:
            _fsync_dir(self.dir / table)
        for final in sorted(staged):
            self.manifest["tables"][final.split("/")[0]].append(final)
        if next_address_id is not None:
            self.manifest["next_address_id"] = next_address_id
        ranges = ([block_range] if block_range is not None else []) + list(block_ranges or [])
        if ranges:
            self.manifest["block_ranges"] = _merge_ranges(self.block_ranges() + ranges)
        if coverage is not None:
            coverage(self.manifest.setdefault("coverage", {"blocks": [], "addresses": {}}))
        self.manifest["batches"][key] = {"committed_at": int(time.time()), **info}
        _fsync_write(self.dir / MANIFEST, json.dumps(self.manifest, indent=1).encode())

    def discard(self, staged: dict[str, Path]) -> None:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out
