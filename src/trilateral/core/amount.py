"""Exact amounts in base units (wei, satoshi) and their decimal text. Never floats for value."""

from __future__ import annotations

UINT64 = 1 << 64
MAX_AMOUNT = (1 << 128) - 1  # chain store limit: two uint64 columns (amount_hi, amount_lo)


def split_amount(value: int) -> tuple[int, int]:
    """(hi, lo) uint64 words of a non-negative amount below 2**128."""
    if value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount {value} outside 0..2**128-1")
    return value >> 64, value & (UINT64 - 1)


def join_amount(hi: int, lo: int) -> int:
    return (int(hi) << 64) | int(lo)


def format_units(base_units: int, decimals: int) -> str:
    """Decimal text of `base_units` in whole units: format_units(12500000000000000000, 18) == '12.5'."""
    sign = "-" if base_units < 0 else ""
    q, r = divmod(abs(base_units), 10**decimals)
    if r == 0 or decimals == 0:
        return f"{sign}{q}"
    frac = str(r).rjust(decimals, "0").rstrip("0")
    return f"{sign}{q}.{frac}"


def parse_units(text: str, decimals: int) -> int:
    """Base units from decimal text in whole units; refuses text more precise than `decimals`.

    Parsed as digits, not through Decimal, whose default 28-digit context would round large amounts.
    """
    raw = text.strip()
    sign = -1 if raw.startswith("-") else 1
    whole, _, frac = raw.lstrip("+-").partition(".")
    if not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"{text!r} is not a decimal number")
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    return sign * (int(whole or "0") * 10**decimals + int(frac.ljust(decimals, "0") or "0"))
