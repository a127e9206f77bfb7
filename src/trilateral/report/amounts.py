"""Exact totals per (chain, asset) in base units, their text, and USD only from a user-given prices file."""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from trilateral.core.amount import format_units
from trilateral.core.errors import InputError

# Decimals of assets the trace and simulator name; an entry may also carry its own `decimals`.
KNOWN_DECIMALS: dict[str, int] = {
    "ETH": 18, "WETH": 18, "STETH": 18, "METH": 18, "CMETH": 18, "DAI": 18, "BNB": 18, "MATIC": 18,
    "AVAX": 18, "ARB": 18, "FTM": 18, "BTC": 8, "WBTC": 8, "LTC": 8, "BCH": 8, "DOGE": 8, "RUNE": 8,
    "USDT": 6, "USDC": 6, "TRX": 6, "XRP": 6, "SOL": 9, "TON": 9, "XMR": 12,
}

AssetKey = tuple[str, str]  # (chain, asset ticker)


def decimals_of(asset: str, hint: Any = None) -> int | None:
    """Decimals of `asset`: the entry's own hint, else the known table; None when unknown."""
    if hint is not None:
        try:
            return int(hint)
        except (TypeError, ValueError):
            return None
    return KNOWN_DECIMALS.get(asset.upper())


def format_amount(base_units: int, asset: str, decimals: int | None = None) -> str:
    """'12.5 ETH' exactly (trilateral.core.amount.format_units); base units when decimals are unknown."""
    dec = decimals if decimals is not None else decimals_of(asset)
    if dec is None:
        return f"{base_units} base units of {asset}"
    return f"{format_units(base_units, dec)} {asset}"


def base_units_of(entry: Mapping[str, Any]) -> int:
    """The integer amount of a {chain, asset, amount_base_units} entry; refuses non-integers."""
    raw = entry.get("amount_base_units")
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InputError(f"amount_base_units {raw!r} of {entry.get('asset')!r} is not an integer") from None
    if value < 0:
        raise InputError(f"amount_base_units {raw!r} of {entry.get('asset')!r} is negative")
    return value


@dataclass
class AssetTotals:
    """Sums of base units per (chain, asset), exact."""

    totals: dict[AssetKey, int] = field(default_factory=lambda: defaultdict(int))

    def add_entries(self, entries: Iterable[Mapping[str, Any]] | None) -> None:
        for entry in entries or ():
            self.totals[(str(entry.get("chain", "")), str(entry.get("asset", "")))] += base_units_of(entry)

    def add(self, key: AssetKey, amount: int) -> None:
        self.totals[key] += amount

    def get(self, key: AssetKey) -> int:
        return self.totals.get(key, 0)

    def assets(self) -> list[AssetKey]:
        return sorted(k for k, v in self.totals.items() if v)

    def rows(self) -> list[dict[str, Any]]:
        return [{"chain": c, "asset": a, "base_units": self.totals[(c, a)],
                 "text": format_amount(self.totals[(c, a)], a)} for c, a in self.assets()]

    def __bool__(self) -> bool:
        return any(self.totals.values())


@dataclass(frozen=True)
class PriceUse:
    asset: str
    price_date: date
    usd: Decimal


class Prices:
    """USD prices the user supplied (CSV: date,asset,usd). Nothing here is ever estimated."""

    def __init__(self, rows: Iterable[tuple[date, str, Decimal]] = (), source: str = "") -> None:
        self.source = source
        self._by_asset: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for day, asset, usd in rows:
            self._by_asset[asset.upper()].append((day, usd))
        for series in self._by_asset.values():
            series.sort()
        self.used: dict[tuple[str, date], PriceUse] = {}

    def __bool__(self) -> bool:
        return bool(self._by_asset)

    @classmethod
    def load(cls, path: Path) -> Prices:
        """Read the prices CSV; one bad row is an error naming the line (nothing half-loaded)."""
        rows: list[tuple[date, str, Decimal]] = []
        try:
            handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read prices file {path}: {exc.strerror}") from None
        with handle:
            reader = csv.DictReader(handle)
            missing = {"date", "asset", "usd"} - {(h or "").strip().lower() for h in reader.fieldnames or []}
            if missing:
                raise InputError(f"{path}: header must have date,asset,usd (missing {', '.join(sorted(missing))})")
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                try:
                    day = date.fromisoformat(row["date"][:10])
                    usd = Decimal(row["usd"])
                except (ValueError, InvalidOperation):
                    raise InputError(f"{path}:{line}: date must be YYYY-MM-DD and usd a number "
                                     f"(got {row['date']!r}, {row['usd']!r})") from None
                if not row["asset"] or usd < 0:
                    raise InputError(f"{path}:{line}: asset is empty or usd negative")
                rows.append((day, row["asset"], usd))
        return cls(rows, source=str(path))

    @classmethod
    def from_book(cls, book: Any, source: str) -> Prices:
        """The price book of `trilateral prices import` (day, chain, asset -> USD), per asset ticker."""
        rows = [(day, asset, usd) for (day, _chain, asset), usd in getattr(book, "prices", {}).items()]
        return cls(rows, source=source)

    def price(self, asset: str, on: date) -> PriceUse | None:
        """The price on `on` or the latest before it; else the earliest after it; None if no price."""
        series = self._by_asset.get(asset.upper())
        if not series:
            return None
        pos = bisect.bisect_right(series, (on, Decimal("Infinity")))
        day, usd = series[pos - 1] if pos > 0 else series[0]
        use = PriceUse(asset.upper(), day, usd)
        self.used[(use.asset, day)] = use
        return use

    def usd(self, base_units: int, asset: str, on: date, decimals: int | None = None) -> Decimal | None:
        dec = decimals if decimals is not None else decimals_of(asset)
        use = self.price(asset, on) if dec is not None else None
        if use is None or dec is None:
            return None
        return Decimal(base_units).scaleb(-dec) * use.usd


def format_usd(value: Decimal | int | None) -> str:
    """'$1,234,567' (whole dollars, rounded half-even); '—' when unknown."""
    if value is None:
        return "—"
    return f"${Decimal(value).quantize(Decimal(1)):,}"
