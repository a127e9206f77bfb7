"""The price book: daily USD prices per (chain, asset), imported from CSV into TRILATERAL_HOME.

Input CSV columns: `day` (YYYY-MM-DD), `chain` (ethereum, bitcoin, ...), `asset` (a ticker such as
ETH or USDT, or a token contract address), `usd` (a decimal number, USD per whole unit). Stored as
one canonical CSV, `<home>/prices/prices.csv`, sorted by key and rewritten atomically. Importing is
idempotent; a later import of the same (day, chain, asset) replaces the earlier price. A bad row
fails the whole import with `file:line: reason` and nothing is written.

`PriceBook.usd` converts exactly with `Decimal`; when the price of that day is not in the book it
returns None (never the nearest day, never a guess).
"""

from __future__ import annotations

import csv
import os
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings

COLUMNS = ("day", "chain", "asset", "usd")
Key = tuple[date, str, str]


def normalise_asset(asset: str) -> str:
    """Contract addresses compare lower-case (EVM hex), tickers upper-case."""
    text = asset.strip()
    return text.lower() if text.lower().startswith("0x") else text.upper()


def prices_path(settings: Settings) -> Path:
    return settings.home / "prices" / "prices.csv"


def parse_rows(path: Path) -> dict[Key, Decimal]:
    """Read a price CSV; the first bad row raises InputError naming file and line."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    out: dict[Key, Decimal] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}:1: missing column(s) {', '.join(missing)} (need day, chain, asset, usd)")
        reader.fieldnames = header
        for row in reader:
            key, usd = parse_row(row, f"{path}:{reader.line_num}")
            out[key] = usd
    return out


def parse_row(row: dict[str, str | None], where: str) -> tuple[Key, Decimal]:
    day_text, chain, asset, usd_text = ((row.get(c) or "").strip() for c in COLUMNS)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise InputError(f"{where}: day {day_text!r} is not a date (YYYY-MM-DD)") from None
    if not chain:
        raise InputError(f"{where}: chain is empty")
    if not asset:
        raise InputError(f"{where}: asset is empty (a ticker or a token contract address)")
    try:
        usd = Decimal(usd_text)
    except InvalidOperation:
        raise InputError(f"{where}: usd {usd_text!r} is not a number") from None
    if not usd.is_finite() or usd < 0:
        raise InputError(f"{where}: usd {usd_text!r} is not a price (a finite number >= 0)")
    return (day, chain.lower(), normalise_asset(asset)), usd


@dataclass
class PriceImport:
    """What one import did."""

    path: str
    rows: int
    added: int
    replaced: int
    total: int

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "rows": self.rows, "added": self.added, "replaced": self.replaced,
                "total": self.total}


def _write(path: Path, prices: dict[Key, Decimal]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for (day, chain, asset), usd in sorted(prices.items()):
            writer.writerow([day.isoformat(), chain, asset, str(usd)])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def import_prices(settings: Settings, source: Path) -> PriceImport:
    """Merge `source` into the stored book (same key: the new price wins); all or nothing."""
    new = parse_rows(source)
    book = PriceBook.load(settings)
    merged = dict(book.prices)
    added = sum(1 for k in new if k not in merged)
    replaced = sum(1 for k, v in new.items() if k in merged and merged[k] != v)
    merged.update(new)
    _write(prices_path(settings), merged)
    return PriceImport(str(source), len(new), added, replaced, len(merged))


class PriceBook:
    """Daily USD prices; `usd()` is None when the day's price of that asset is not known."""

    def __init__(self, prices: dict[Key, Decimal] | None = None) -> None:
        self.prices: dict[Key, Decimal] = dict(prices or {})

    @classmethod
    def load(cls, settings: Settings) -> PriceBook:
        """The imported book (empty when nothing was imported yet)."""
        path = prices_path(settings)
        return cls(parse_rows(path)) if path.exists() else cls()

    def price(self, chain: str, asset: str, day: date) -> Decimal | None:
        """USD per whole unit of `asset` on `day`, or None."""
        return self.prices.get((day, chain.lower(), normalise_asset(asset)))

    def usd(self, chain: str, asset: str, day: date, amount_base_units: int, decimals: int) -> Decimal | None:
        """Exact USD value of an amount in base units (asset: ticker or lower-case contract address)."""
        price = self.price(chain, asset, day)
        if price is None:
            return None
        with localcontext() as ctx:
            ctx.prec = 80
            return Decimal(int(amount_base_units)).scaleb(-int(decimals)) * price

    def __len__(self) -> int:
        return len(self.prices)
