"""The label store: one Parquet file per imported dataset under home/labels/, vectorised look-up.

Re-importing a dataset (same format and file name) replaces its labels, so imports are idempotent.
Tags that name a GraphSense actor take the actor's jurisdiction (and category, when the tag has
none) from imported ActorPacks at look-up time, so the order of imports does not matter.
"""

from __future__ import annotations

import gc
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.labels.model import EVM_CHAINS, LABELS_SCHEMA, ImportReport, Label, labels_table

ACTORS_SCHEMA = pa.schema([("id", pa.string()), ("label", pa.string()), ("uri", pa.string()),
                           ("categories", pa.list_(pa.string())), ("jurisdictions", pa.list_(pa.string())),
                           ("dataset", pa.string())])
FORMATS = ("tagpack", "actorpack", "sdn-csv", "sdn-xml", "ftm")


def detect_format(path: Path) -> str:
    """Guess the format from the name and the first bytes."""
    head = path.open("rb").read(4096).decode("utf-8", errors="replace")
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        return "actorpack" if "\nactors:" in "\n" + head or head.lstrip().startswith("actors:") else "tagpack"
    if name.endswith(".xml") or head.lstrip().startswith("<?xml") or "<Sanctions" in head:
        return "sdn-xml"
    if head.lstrip().startswith("{"):
        return "ftm"
    if name.endswith(".csv") or head[:12].split(",")[0].strip().isdigit():
        return "sdn-csv"
    raise InputError(f"{path}: cannot tell the label format; pass --format ({', '.join(FORMATS)})")


def _atomic_write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


class LabelStore:
    """Labels of addresses from every imported source."""

    def __init__(self, settings: Settings | None = None, root: Path | None = None) -> None:
        settings = settings or Settings.from_env()
        self.root = root or settings.home / "labels"
        self._index: _Index | None = None

    # ---- import / export ----------------------------------------------------------------------
    def import_file(self, path: Path | str, fmt: str = "auto") -> ImportReport:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        fmt = detect_format(path) if fmt == "auto" else fmt
        dataset = f"{fmt}:{path.name}"
        report = ImportReport(str(path), fmt, dataset)
        self.root.mkdir(parents=True, exist_ok=True)
        if fmt in ("tagpack", "actorpack"):
            from trilateral.labels.tagpack import load_yaml, read_actorpack, read_tagpack

            doc = load_yaml(path)
            if fmt == "actorpack" or ("actors" in doc and "tags" not in doc):
                actors = read_actorpack(path, doc)
                table = pa.Table.from_pylist([{**a, "dataset": dataset} for a in actors], schema=ACTORS_SCHEMA)
                _atomic_write(table, self._dataset_path(dataset, "actors"))
                report.format = "actorpack"
                report.labels = len(actors)
                self._index = None
                return report
            labels, skipped = read_tagpack(path, doc)
        elif fmt == "sdn-csv":
            from trilateral.labels.ofac import read_sdn_csv

            labels, skipped = read_sdn_csv(path)
        elif fmt == "sdn-xml":
            from trilateral.labels.ofac import read_sdn_advanced_xml

            labels, skipped = read_sdn_advanced_xml(path)
        elif fmt == "ftm":
            from trilateral.labels.opensanctions import read_ftm

            labels, skipped = read_ftm(path)
        else:
            raise InputError(f"unknown label format {fmt!r} (use {', '.join(FORMATS)})")
        _atomic_write(labels_table(labels, dataset), self._dataset_path(dataset, "labels"))
        self._index = None
        report.labels = len(labels)
        report.addresses = len({(lab.chain, lab.address) for lab in labels})
        report.skipped = skipped
        for lab in labels:
            report.by_chain[lab.chain] = report.by_chain.get(lab.chain, 0) + 1
        return report

    def _dataset_path(self, dataset: str, kind: str) -> Path:
        return self.root / f"{kind}-{hashlib.sha256(dataset.encode()).hexdigest()[:16]}.parquet"

    def is_empty(self) -> bool:
        """True when no label or sanctions list has been imported yet."""
        return not (self.root.is_dir() and any(self.root.glob("labels-*.parquet")))

    def table(self) -> pa.Table:
        """Every stored label, with actor jurisdictions/categories filled in."""
        files = sorted(self.root.glob("labels-*.parquet")) if self.root.is_dir() else []
        table = pa.concat_tables([pq.read_table(f).cast(LABELS_SCHEMA) for f in files]) if files \
            else LABELS_SCHEMA.empty_table()
        actor_files = sorted(self.root.glob("actors-*.parquet")) if self.root.is_dir() else []
        if not actor_files or table.num_rows == 0:
            return table
        actors: dict[str, dict[str, Any]] = {}
        for f in actor_files:
            for row in pq.read_table(f).to_pylist():
                actors[row["id"]] = row
        rows = table.to_pylist()
        for row in rows:
            actor = actors.get(row["actor"] or "")
            if actor:
                row["jurisdiction"] = row["jurisdiction"] or (actor["jurisdictions"] or [None])[0]
                row["category"] = row["category"] or (actor["categories"] or [None])[0]
                row["entity"] = actor["label"] or row["entity"]
        return pa.Table.from_pylist(rows, schema=LABELS_SCHEMA)

    def export_tagpack(self, path: Path | str, source: str | None = None) -> int:
        from trilateral.labels.tagpack import write_tagpack

        rows = self.table().to_pylist()
        if source:
            rows = [r for r in rows if r["source"] == source]
        return write_tagpack(Path(path), rows)

    # ---- look-up ------------------------------------------------------------------------------
    def _build_index(self) -> _Index:
        files = tuple((f.name, f.stat().st_mtime_ns) for f in sorted(self.root.glob("*.parquet"))) \
            if self.root.is_dir() else ()
        if self._index is None or self._index.files != files:
            self._index = _Index(files, self.table())
        return self._index

    def lookup(self, chain: str, addresses: list[str] | np.ndarray | pa.Array) -> list[list[Label]]:
        """Labels of each address (an empty list when none), vectorised over the whole batch."""
        index = self._build_index()
        idx = index.positions(chain, addresses)
        gc_was_on = gc.isenabled()
        gc.disable()  # a million fresh lists would otherwise trigger the cycle collector again and again
        try:
            out: list[list[Label]] = [[] for _ in range(len(idx))]
            for i in np.flatnonzero(idx >= 0).tolist():
                out[i] = index.labels(int(idx[i]))
        finally:
            if gc_was_on:
                gc.enable()
        return out

    def lookup_indices(self, chain: str, addresses: list[str] | pa.Array) -> np.ndarray:
        """For bulk screening: per address the index of its label group, -1 when unlabelled."""
        return self._build_index().positions(chain, addresses)


class _Index:
    """Unique (chain, address) keys of the label table; Label objects are made only for hits."""

    def __init__(self, files: tuple, table: pa.Table) -> None:
        self.files = files
        self.table = table
        keys = pc.binary_join_element_wise(table.column("chain"), table.column("address"), "\x00")
        self.unique = pc.unique(keys)
        group_of = pc.index_in(keys, value_set=self.unique).to_numpy(zero_copy_only=False)
        self.order = np.argsort(group_of, kind="stable")
        self.starts = np.searchsorted(group_of[self.order], np.arange(len(self.unique) + 1))
        # per chain: its distinct addresses and the label group of each
        self.by_chain: dict[str, tuple[pa.Array, np.ndarray]] = {}
        chains = table.column("chain")
        for chain in pc.unique(chains).to_pylist():
            mask = pc.equal(chains, chain)
            addresses = pc.filter(table.column("address"), mask)
            groups = group_of[mask.to_numpy(zero_copy_only=False)]
            distinct = pc.unique(addresses)
            first = pc.index_in(distinct, value_set=addresses).to_numpy(zero_copy_only=False)
            self.by_chain[chain] = (distinct.combine_chunks() if hasattr(distinct, "combine_chunks") else distinct,
                                    groups[first])
        self._columns: dict[str, list] | None = None
        self._cache: dict[int, list[Label]] = {}

    def positions(self, chain: str, addresses: list[str] | np.ndarray | pa.Array) -> np.ndarray:
        """Label group of each address (-1 when it has none)."""
        query = addresses if isinstance(addresses, pa.Array | pa.ChunkedArray) else pa.array(addresses, type=pa.string())
        if chain not in self.by_chain:
            return np.full(len(query), -1, dtype=np.int64)
        if chain in EVM_CHAINS:
            query = pc.ascii_lower(query)
        distinct, groups = self.by_chain[chain]
        pos = pc.index_in(query, value_set=distinct).fill_null(-1).to_numpy(zero_copy_only=False)
        return np.where(pos >= 0, groups[pos], -1)

    def labels(self, group: int) -> list[Label]:
        cached = self._cache.get(group)
        if cached is None:
            if self._columns is None:
                self._columns = {name: self.table.column(name).to_pylist() for name in self.table.column_names}
            c = self._columns
            cached = [Label(address=c["address"][r], chain=c["chain"][r], entity=c["entity"][r],
                            category=c["category"][r], jurisdiction=c["jurisdiction"][r], source=c["source"][r],
                            confidence=c["confidence"][r], programs=tuple(c["programs"][r] or ()),
                            label=c["label"][r], actor=c["actor"][r], abuse=c["abuse"][r],
                            confidence_level=c["confidence_level"][r])
                      for r in self.order[self.starts[group]:self.starts[group + 1]].tolist()]
            self._cache[group] = cached
        return list(cached)


__all__ = ["ImportReport", "Label", "LabelStore"]
