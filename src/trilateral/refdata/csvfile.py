"""Open a reference CSV once, the same way everywhere: one clear error when it cannot be read."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trilateral.core.errors import InputError


@contextmanager
def csv_reader(path: Path) -> Iterator[csv.DictReader]:
    """A DictReader over `path` (UTF-8, BOM tolerated); InputError naming the file when unreadable."""
    try:
        fh = Path(path).open(newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        yield csv.DictReader(fh)
