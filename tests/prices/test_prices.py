"""trilateral prices import: exact USD values, replacement by key, bad rows named, nothing guessed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.prices import PriceBook, import_prices

USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("day,chain,asset,usd\n" + "".join(r + "\n" for r in rows))
    return path


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"TRILATERAL_HOME": str(tmp_path / "home")})


def test_usd_is_exact_and_unknown_is_none(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    import_prices(s, _csv(tmp_path / "p.csv", ["2025-02-21,ethereum,ETH,2743.17", f"2025-02-21,ethereum,{USDT},1.0002"]))
    book = PriceBook.load(s)
    wei = 401_346 * 10**18 + 1
    assert book.usd("ethereum", "ETH", date(2025, 2, 21), wei, 18) == Decimal(f"{wei * 274317}E-20")  # exact
    assert book.usd("ethereum", USDT.lower(), date(2025, 2, 21), 1_500_000, 6) == Decimal("1.5003")
    assert book.usd("ethereum", "eth", date(2025, 2, 21), 10**18, 18) == Decimal("2743.17")  # tickers any case
    assert book.usd("ethereum", "ETH", date(2025, 2, 22), 10**18, 18) is None  # no nearest-day guess
    assert book.usd("bitcoin", "ETH", date(2025, 2, 21), 10**18, 18) is None


def test_reimport_is_idempotent_and_later_price_replaces(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    first = _csv(tmp_path / "a.csv", ["2025-02-21,ethereum,ETH,2743.17", "2025-02-22,ethereum,ETH,2800"])
    r1 = import_prices(s, first)
    r2 = import_prices(s, first)
    assert (r1.added, r2.added, r2.replaced, r2.total) == (2, 0, 0, 2)
    r3 = import_prices(s, _csv(tmp_path / "b.csv", ["2025-02-22,Ethereum,eth,2810.5"]))
    assert (r3.added, r3.replaced, r3.total) == (0, 1, 2)
    assert PriceBook.load(s).price("ethereum", "ETH", date(2025, 2, 22)) == Decimal("2810.5")


@pytest.mark.parametrize(("row", "reason"), [
    ("2025-13-01,ethereum,ETH,1", "is not a date"),
    ("2025-02-21,ethereum,ETH,abc", "is not a number"),
    ("2025-02-21,ethereum,ETH,-1", "is not a price"),
    ("2025-02-21,,ETH,1", "chain is empty"),
    ("2025-02-21,ethereum,,1", "asset is empty"),
])
def test_bad_row_names_file_and_line_and_writes_nothing(tmp_path: Path, row: str, reason: str) -> None:
    s = _settings(tmp_path)
    path = _csv(tmp_path / "bad.csv", ["2025-02-21,ethereum,ETH,2743.17", row])
    with pytest.raises(InputError, match=rf"bad\.csv:3: .*{reason}"):
        import_prices(s, path)
    assert len(PriceBook.load(s)) == 0


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("day,chain,usd\n2025-02-21,ethereum,1\n")
    with pytest.raises(InputError, match="missing column.*asset"):
        import_prices(_settings(tmp_path), path)


def test_cli_import_json(tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", ["2025-02-21,ethereum,ETH,2743.17"])
    env = {**os.environ, "TRILATERAL_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "trilateral", "prices", "import", str(path), "--json"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["added"] == 1
    bad = _csv(tmp_path / "bad.csv", ["2025-02-21,ethereum,ETH,x"])
    fail = subprocess.run(cmd[:-2] + [str(bad)], env=env, capture_output=True, text=True)
    assert fail.returncode != 0 and "bad.csv:2:" in fail.stderr and len(fail.stderr.strip().splitlines()) == 1
