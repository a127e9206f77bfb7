"""The label store: one Parquet file per imported list version under home/labels/, vectorised look-up.

Each import is one version of a list (labels.lists): re-importing the same file as the same version
replaces its labels, so imports are idempotent; a newer version supersedes older ones (labels.versions).
Tags that name a GraphSense actor take the actor's jurisdiction (and category, when the tag has
none) from imported ActorPacks at look-up time, so the order of imports does not matter. Stores
written before list versions existed are read as they are (each file one undated list).
"""

from __future__ import annotations

import gc
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.labels.actors import ACTORS_SCHEMA, note_tag_actors, write_actors
from trilateral.labels.lists import (
    default_list_name,
    metadata,
    parse_day,
    stored_versions,
    version_date,
    versions_by_list,
)
from trilateral.labels.model import EVM_CHAINS, LABELS_SCHEMA, ImportReport, Label, labels_table
from trilateral.labels.versions import collapse, history

FORMATS = ("tagpack", "actorpack", "sdn-csv", "sdn-xml", "ofac-list", "address-csv", "ftm")
# what each format needs to yield a label: said when a file yields none
NEEDS = {"tagpack": "a TagPack needs `tags:` entries with an `address`",
         "actorpack": "an ActorPack needs `actors:` entries with an `id`",
         "sdn-csv": "SDN.CSV rows give labels only for 'Digital Currency Address - <CUR> <address>' in the remarks",
         "sdn-xml": "SDN_ADVANCED.XML gives labels only for 'Digital Currency Address - <CUR>' features",
         "ofac-list": "an OFAC asset list holds one address a line (.txt) or a JSON array of addresses",
         "address-csv": "an address CSV needs rows with an `address` and a chain or currency",
         "ftm": "FollowTheMoney JSON lines give labels only for CryptoWallet entities with a publicKey"}


def detect_format(path: Path) -> str:
    """Guess the format from the name and the first bytes."""
    from trilateral.labels.addresscsv import looks_like_address_csv
    from trilateral.labels.ofac import ASSET_LIST_RE

    head = path.open("rb").read(4096).decode("utf-8-sig", errors="replace")
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        return "actorpack" if "\nactors:" in "\n" + head or head.lstrip().startswith("actors:") else "tagpack"
    if ASSET_LIST_RE.search(path.name):
        return "ofac-list"
    if name.endswith(".xml") or head.lstrip().startswith("<?xml") or "<Sanctions" in head:
        return "sdn-xml"
    if head.lstrip().startswith("{"):
        return "ftm"
    if looks_like_address_csv(head):
        return "address-csv"
    if name.endswith(".csv") or head[:12].split(",")[0].strip().isdigit():
        return "sdn-csv"
    raise InputError(f"{path}: cannot tell the label format; pass --format ({', '.join(FORMATS)})")


def _atomic_write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _read_labels(path: Path, fmt: str) -> tuple[list[Label], list[str]]:
    if fmt == "sdn-csv":
        from trilateral.labels.ofac import read_sdn_csv

        return read_sdn_csv(path)
    if fmt == "sdn-xml":
        from trilateral.labels.ofac import read_sdn_advanced_xml

        return read_sdn_advanced_xml(path)
    if fmt == "ofac-list":
        from trilateral.labels.ofac import read_asset_list

        return read_asset_list(path)
    if fmt == "address-csv":
        from trilateral.labels.addresscsv import read_address_csv

        return read_address_csv(path)
    if fmt == "ftm":
        from trilateral.labels.opensanctions import read_ftm

        return read_ftm(path)
    raise InputError(f"unknown label format {fmt!r} (use {', '.join(FORMATS)})")


def _why_empty(fmt: str, skipped: list[str]) -> str:
    if skipped:
        return f"all {len(skipped):,} entries skipped (first: {skipped[0]}); {NEEDS[fmt]}"
    return f"the file holds no label; {NEEDS[fmt]}"


class LabelStore:
    """Labels of addresses from every imported source."""

    def __init__(self, settings: Settings | None = None, root: Path | None = None) -> None:
        settings = settings or Settings.from_env()
        self.root = root or settings.home / "labels"
        self._index: _Index | None = None
        self._table: tuple[tuple, pa.Table] | None = None

    # ---- import / export ----------------------------------------------------------------------
    def import_file(self, path: Path | str, fmt: str = "auto", *, list_name: str | None = None,
                    list_date: str | None = None) -> ImportReport:
        """Store the file as one version of its list. A file that yields no label leaves the store as it
        was (an empty version would delist everything) and says why in `nothing_imported`."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        fmt = detect_format(path) if fmt == "auto" else fmt
        report = ImportReport(str(path), fmt, f"{fmt}:{path.name}")
        doc = None
        if fmt in ("tagpack", "actorpack"):
            from trilateral.labels.tagpack import load_yaml, read_actorpack, read_tagpack

            doc = load_yaml(path)
            if fmt == "actorpack" or ("actors" in doc and "tags" not in doc):
                actors = read_actorpack(path, doc)
                report.format = "actorpack"
                if not actors:
                    report.nothing_imported = _why_empty("actorpack", [])
                    return report
                self.root.mkdir(parents=True, exist_ok=True)
                write_actors(actors, report, self._dataset_path(report.dataset, "actors"))
                self._index = None
                return report
            labels, skipped = read_tagpack(path, doc)
        else:
            labels, skipped = _read_labels(path, fmt)
        report.skipped = skipped
        if not labels:
            report.nothing_imported = _why_empty(fmt, skipped)
            return report
        name = list_name or default_list_name(fmt, path, doc, {lab.source for lab in labels})
        day, basis = (parse_day(list_date), "--list-date") if list_date else version_date(fmt, path, doc)
        report.list_name, report.list_date, report.date_basis = name, day, basis
        report.dataset = f"{name}@{day}:{path.name}"
        self._write_version(labels, report, path)
        report.labels = len(labels)
        report.addresses = len({(lab.chain, lab.address) for lab in labels})
        if fmt == "tagpack":
            note_tag_actors(labels, report, self.root)
        for lab in labels:
            report.by_chain[lab.chain] = report.by_chain.get(lab.chain, 0) + 1
        return report

    def _write_version(self, labels: list[Label], report: ImportReport, path: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        table = labels_table(labels, report.dataset, report.list_name, report.list_date)
        table = table.replace_schema_metadata(metadata({
            "dataset": report.dataset, "list": report.list_name, "list_date": report.list_date,
            "date_basis": report.date_basis, "format": report.format, "path": str(path.resolve()),
            "imported_at": datetime.now(UTC).isoformat(timespec="seconds")}))
        before = [v for v in stored_versions(self.root) if v.list_name == report.list_name]
        _atomic_write(table, self._dataset_path(report.dataset, "labels"))
        legacy = self._dataset_path(f"{report.format}:{path.name}", "labels")
        if legacy.exists() and not pq.read_schema(legacy).metadata:
            legacy.unlink()  # the same file imported before list versions: replaced, not kept as a list
        self._index = None
        dates = sorted({v.list_date or "" for v in before} - {report.list_date})
        newer = [d for d in dates if d > report.list_date]
        older = [d for d in dates if d < report.list_date]
        if newer:
            report.superseded_by = newer[-1]
        elif older:
            report.previous_version = older[-1]
            report.delisted = self._count_dropped(report.list_name, older[-1], report.list_date)

    def _count_dropped(self, list_name: str, old: str, new: str) -> int:
        """Entries of version `old` of the list that version `new` no longer has."""
        keys: dict[str, set] = {old: set(), new: set()}
        for v in stored_versions(self.root):
            if v.list_name == list_name and (v.list_date or "") in keys:
                t = _upgrade(pq.read_table(self.root / v.file))
                entry = pc.coalesce(t.column("entry_id"), t.column("label"), pa.scalar(""))
                keys[v.list_date or ""].update(zip(t.column("chain").to_pylist(), t.column("address").to_pylist(),
                                                   entry.to_pylist(), strict=True))
        return len(keys[old] - keys[new])

    def _dataset_path(self, dataset: str, kind: str) -> Path:
        return self.root / f"{kind}-{hashlib.sha256(dataset.encode()).hexdigest()[:16]}.parquet"

    def is_empty(self) -> bool:
        """True when no label or sanctions list has been imported yet."""
        return not (self.root.is_dir() and any(self.root.glob("labels-*.parquet")))

    def list_versions(self) -> dict[str, list[str]]:
        """List name -> its stored version dates, oldest first."""
        return versions_by_list(stored_versions(self.root))

    def lists(self) -> list[dict]:
        """Per list: its versions (oldest first, with their files) and how many entries are listed or
        delisted now: what `labels lists` shows an auditor."""
        table = self.table()
        counts: dict[tuple[str, str], int] = {}
        if table.num_rows:
            grouped = table.group_by(["list_name", "status"]).aggregate([([], "count_all")])
            for name, status, n in zip(*(grouped.column(c).to_pylist() for c in ("list_name", "status", "count_all")),
                                       strict=True):
                counts[(name, status)] = n
        out: dict[str, dict] = {}
        for v in sorted(stored_versions(self.root), key=lambda v: (v.list_name, v.list_date or "", v.file)):
            item = out.setdefault(v.list_name, {"list": v.list_name, "listed": counts.get((v.list_name, "listed"), 0),
                                                "delisted": counts.get((v.list_name, "delisted"), 0),
                                                "versions": []})
            item["versions"].append(v.as_dict())
        return list(out.values())

    def stored(self) -> pa.Table:
        """Every stored label row as imported (all versions), in the current schema."""
        files = sorted(self.root.glob("labels-*.parquet")) if self.root.is_dir() else []
        parts = [_upgrade(pq.read_table(f)) for f in files]
        return pa.concat_tables(parts) if parts else LABELS_SCHEMA.empty_table()

    def _stamp(self) -> tuple:
        return tuple((f.name, f.stat().st_mtime_ns) for f in sorted(self.root.glob("*.parquet"))) \
            if self.root.is_dir() else ()

    def table(self) -> pa.Table:
        """One row per list entry (versions collapsed, with status and dates), actor facts filled in;
        kept until a label file changes (Arrow tables are immutable, so sharing it is safe)."""
        stamp = self._stamp()
        if self._table is not None and self._table[0] == stamp:
            return self._table[1]
        table = collapse(self.stored(), self.list_versions())
        actor_files = sorted(self.root.glob("actors-*.parquet")) if self.root.is_dir() else []
        if actor_files and table.num_rows:
            table = _fill_actors(table, pa.concat_tables([pq.read_table(f) for f in actor_files]))
        self._table = (stamp, table)
        return table

    def export_tagpack(self, path: Path | str, source: str | None = None) -> int:
        """What the lists say now: delisted entries are left out (a TagPack cannot say "no longer")."""
        from trilateral.labels.tagpack import write_tagpack

        rows = [r for r in self.table().to_pylist() if r["status"] != "delisted"]
        if source:
            rows = [r for r in rows if r["source"] == source]
        return write_tagpack(Path(path), rows)

    # ---- look-up ------------------------------------------------------------------------------
    def _build_index(self) -> _Index:
        files = self._stamp()
        if self._index is None or self._index.files != files:
            self._index = _Index(files, self.table(), self.list_versions())
        return self._index

    def lookup(self, chain: str, addresses: list[str] | np.ndarray | pa.Array) -> list[list[Label]]:
        """Labels of each address (an empty list when none), vectorised over the whole batch."""
        index = self._build_index()
        idx = index.positions(chain, addresses)
        gc_was_on = gc.isenabled()
        gc.disable()  # a million fresh lists would otherwise trigger the cycle collector again and again
        try:
            out: list[list[Label]] = [[] for _ in range(len(idx))]
            index.materialize(idx[idx >= 0])
            for i in np.flatnonzero(idx >= 0).tolist():
                out[i] = index.labels(int(idx[i]))
        finally:
            if gc_was_on:
                gc.enable()
        return out

    def lookup_indices(self, chain: str, addresses: list[str] | pa.Array) -> np.ndarray:
        """For bulk screening: per address the index of its label group, -1 when unlabelled."""
        return self._build_index().positions(chain, addresses)


# Label's fields in order, as table columns (`extra` is not stored; `seen` becomes `history`)
LABEL_COLUMNS = ("address", "chain", "entity", "category", "jurisdiction", "source", "confidence", "programs", "label",
                 "actor", "abuse", "confidence_level", "entry_id", "list_name", "list_date", "status", "first_listed",
                 "last_listed", "delisted_on", "seen")


class _Index:
    """Unique (chain, address) keys of the label table; Label objects are made only for hits."""

    def __init__(self, files: tuple, table: pa.Table, versions: dict[str, list[str]]) -> None:
        self.files = files
        self.table = table
        self.versions = versions
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
        self._cache: dict[int, list[Label]] = {}
        self._histories: dict[tuple, tuple] = {}

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

    def materialize(self, groups: np.ndarray) -> None:
        """Make the Label objects of these groups in one take of their rows (only hits are converted,
        so a look-up of a few addresses in a large store costs a few rows, not the whole table)."""
        todo = np.array([g for g in np.unique(groups).tolist() if g not in self._cache], dtype=np.int64)
        if todo.size == 0:
            return
        starts, ends = self.starts[todo], self.starts[todo + 1]
        lengths = ends - starts
        offsets = np.cumsum(lengths) - lengths
        rows = self.order[np.arange(int(lengths.sum())) - np.repeat(offsets, lengths) + np.repeat(starts, lengths)]
        sub = self.table.take(pa.array(rows))
        made = [Label(*row[:7], tuple(row[7] or ()), *row[8:12], None, *row[12:-1],
                      self._history(row[13], row[16], row[-1]))
                for row in zip(*(sub.column(name).to_pylist() for name in LABEL_COLUMNS), strict=True)]
        for g, offset, n in zip(todo.tolist(), offsets.tolist(), lengths.tolist(), strict=True):
            self._cache[g] = made[offset:offset + n]

    def _history(self, list_name: str, first_listed: str | None, seen: list[str] | None) -> tuple:
        """Shared per (list, first listed, versions seen): most entries of a list have the same one."""
        key = (list_name, first_listed, tuple(seen or ()))
        found = self._histories.get(key)
        if found is None:
            found = self._histories[key] = history(seen, self.versions.get(list_name, []), first_listed)
        return found

    def labels(self, group: int) -> list[Label]:
        if group not in self._cache:
            self.materialize(np.array([group], dtype=np.int64))
        return list(self._cache[group])


def _upgrade(table: pa.Table) -> pa.Table:
    """A stored file in the current schema: columns added since it was written are null, and rows of a
    file from before list versions are their dataset's (undated) list."""
    for name in LABELS_SCHEMA.names:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, LABELS_SCHEMA.field(name).type))
    table = table.select(LABELS_SCHEMA.names).cast(LABELS_SCHEMA)
    if table.num_rows and table.column("list_name").null_count:
        names = pc.coalesce(table.column("list_name"), table.column("dataset"))
        table = table.set_column(LABELS_SCHEMA.get_field_index("list_name"), "list_name", names)
    return table.replace_schema_metadata(None)


def _fill_actors(table: pa.Table, actors: pa.Table) -> pa.Table:
    """A tag naming an actor takes the actor's label as entity, and its first jurisdiction and category
    where the tag has none (vectorised: one index probe, then takes)."""
    ids = actors.column("id").combine_chunks()
    first = {}
    for name in ("jurisdictions", "categories"):
        values = actors.column(name).to_pylist()
        first[name] = pa.array([(v or [None])[0] for v in values], pa.string())
    at = pc.index_in(table.column("actor"), value_set=ids)
    known = pc.is_valid(at)
    if not pc.any(known).as_py():
        return table
    label = actors.column("label").combine_chunks().take(at)
    updates = {"entity": pc.if_else(pc.and_(known, pc.is_valid(label)), label, table.column("entity")),
               "jurisdiction": pc.coalesce(table.column("jurisdiction"), first["jurisdictions"].take(at)),
               "category": pc.coalesce(table.column("category"), first["categories"].take(at))}
    for name, column in updates.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


__all__ = ["ACTORS_SCHEMA", "ImportReport", "Label", "LabelStore"]
