"""Which list an imported file is a version of, and that version's date.

A *list* is what a publisher keeps up to date (the OFAC SDN list, one TagPack, one explorer scrape);
each import is one *version* of it, dated by the file itself where it says (SDN_ADVANCED.XML
`DateOfIssue`, TagPack `lastmod`), else by a date in its path (`asset_lists_2025-11-19/...`), else
by the file's modification day. Files of the same list and date are parts of one version (the OFAC
per-asset lists); the newest version decides what is listed now (labels.versions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from trilateral.core.errors import InputError

META_PREFIX = "trilateral."
DATE_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
XML_DATE_RE = re.compile(r"<DateOfIssue>\s*<Year>(\d{4})</Year>\s*<Month>(\d{1,2})</Month>\s*<Day>(\d{1,2})</Day>")
OFAC_FORMATS = ("sdn-csv", "sdn-xml", "ofac-list")


@dataclass(frozen=True)
class ListVersion:
    """One stored import: its list, version date (ISO day, or None for stores made before versions)."""

    list_name: str
    list_date: str | None
    date_basis: str | None
    dataset: str
    format: str | None
    path: str | None
    imported_at: str | None
    file: str

    def as_dict(self) -> dict[str, Any]:
        return {"list": self.list_name, "list_date": self.list_date, "date_basis": self.date_basis,
                "dataset": self.dataset, "format": self.format, "path": self.path, "imported_at": self.imported_at}


def parse_day(text: str) -> str:
    """An ISO day from YYYY-MM-DD (or a longer ISO timestamp); InputError otherwise."""
    try:
        return date.fromisoformat(str(text).strip()[:10]).isoformat()
    except ValueError:
        raise InputError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def default_list_name(fmt: str, path: Path, doc: dict[str, Any] | None, sources: set[str]) -> str:
    """OFAC formats share the list "OFAC SDN"; a TagPack is its title; other files are named by the one
    source their labels give, else by the file's stem."""
    if fmt in OFAC_FORMATS:
        return "OFAC SDN"
    if doc and doc.get("title"):
        return str(doc["title"])
    if len(sources) == 1:
        return next(iter(sources))
    return path.stem


def version_date(fmt: str, path: Path, doc: dict[str, Any] | None) -> tuple[str, str]:
    """(ISO day, where it came from) of the version this file is."""
    if fmt == "sdn-xml":
        with path.open("rb") as fh:
            match = XML_DATE_RE.search(fh.read(8192).decode("utf-8", errors="replace"))
        if match:
            y, m, d = (int(g) for g in match.groups())
            return date(y, m, d).isoformat(), "DateOfIssue"
    if doc and doc.get("lastmod"):
        try:
            return parse_day(str(doc["lastmod"])), "lastmod"
        except InputError:
            pass
    for part in reversed(path.resolve().parts):
        match = DATE_RE.search(part)
        if match:
            try:
                return date(*(int(g) for g in match.groups())).isoformat(), "file path"
            except ValueError:
                continue
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    return modified, "file modification day"


def metadata(version: dict[str, str | None]) -> dict[bytes, bytes]:
    return {(META_PREFIX + k).encode(): (v or "").encode() for k, v in version.items()}


def stored_versions(root: Path) -> list[ListVersion]:
    """Every stored label file, from its Parquet footer (no rows read). Files written before list
    versions existed count as one undated version of a list named by their dataset."""
    out = []
    for f in sorted(root.glob("labels-*.parquet")) if root.is_dir() else ():
        raw = {k.decode(): v.decode() for k, v in (pq.read_schema(f).metadata or {}).items()}
        meta = {k.removeprefix(META_PREFIX): v or None for k, v in raw.items() if k.startswith(META_PREFIX)}
        dataset = meta.get("dataset") or _legacy_dataset(f)
        out.append(ListVersion(meta.get("list") or dataset, meta.get("list_date"), meta.get("date_basis"), dataset,
                               meta.get("format"), meta.get("path"), meta.get("imported_at"), f.name))
    return out


def _legacy_dataset(f: Path) -> str:
    """The dataset a pre-version file holds (its rows all carry it)."""
    col = pq.read_table(f, columns=["dataset"]).column("dataset")
    return str(col[0].as_py()) if len(col) else f.stem


def versions_by_list(versions: list[ListVersion]) -> dict[str, list[str]]:
    """List name -> its distinct version dates, oldest first (undated first)."""
    out: dict[str, set[str]] = {}
    for v in versions:
        out.setdefault(v.list_name, set()).add(v.list_date or "")
    return {name: sorted(dates) for name, dates in out.items()}
