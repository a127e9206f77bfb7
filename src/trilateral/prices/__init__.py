"""Offline USD prices: a CSV imported once, looked up by day, chain and asset; absent means unknown."""

from trilateral.prices.book import PriceBook, PriceImport, import_prices

__all__ = ["PriceBook", "PriceImport", "import_prices"]
