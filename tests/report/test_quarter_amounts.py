"""Quarters and exact amounts: the pieces every figure rests on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from trilateral.core.errors import InputError
from trilateral.report.amounts import AssetTotals, Prices, format_amount, format_usd
from trilateral.report.quarter import Quarter


def test_quarter_parses_both_spellings_and_has_utc_bounds() -> None:
    q = Quarter.parse("2026Q3")
    assert q == Quarter.parse("2026-q3")
    assert q.start == datetime(2026, 7, 1, tzinfo=UTC) and q.end == datetime(2026, 10, 1, tzinfo=UTC)
    assert q.months == ["2026-07", "2026-08", "2026-09"]
    assert [str(x) for x in q.trailing(4)] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert Quarter.parse("2026Q1").previous() == Quarter(2025, 4)
    with pytest.raises(InputError):
        Quarter.parse("2026Q5")


def test_totals_stay_exact_beyond_float_precision() -> None:
    totals = AssetTotals()
    wei = 123456789012345678901234567
    totals.add_entries([{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(wei)},
                        {"chain": "ethereum", "asset": "ETH", "amount_base_units": "1"}])
    assert totals.get(("ethereum", "ETH")) == wei + 1
    assert format_amount(wei + 1, "ETH") == "123456789.012345678901234568 ETH"
    assert format_amount(5, "NEWCOIN") == "5 base units of NEWCOIN"


def test_prices_file_is_exact_and_refuses_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "prices.csv"
    good.write_text("date,asset,usd\n2026-07-01,ETH,3000.25\n2026-07-15,ETH,3100\n", encoding="utf-8")
    prices = Prices.load(good)
    assert prices.usd(2 * 10**18, "ETH", date(2026, 7, 10)) == Decimal("6000.50")
    assert prices.usd(10**18, "ETH", date(2026, 8, 1)) == Decimal("3100")
    assert prices.usd(10**8, "BTC", date(2026, 8, 1)) is None        # never invented
    bad = tmp_path / "bad.csv"
    bad.write_text("date,asset,usd\n2026-07-01,ETH,lots\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv:2"):
        Prices.load(bad)
    assert format_usd(Decimal("1234567.5")) == "$1,234,568"
