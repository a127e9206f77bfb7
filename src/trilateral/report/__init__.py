"""Quarterly joint assessment (HTML + PDF, cut to the audience's TLP), incident register, action register."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trilateral.report.build import ReportResult, compute_figures, write_report
from trilateral.report.quarter import Quarter

__all__ = ["Quarter", "ReportResult", "compute_figures", "quarterly_report", "write_report"]


def quarterly_report(hub: Any, quarter: str | Quarter, audience: str, out_dir: Path,
                     prices_path: Path | None = None, pdf: bool = True, progress: Any = None,
                     actors: Any = None) -> ReportResult:
    """`trilateral report quarterly`: read the hub as the audience, then write report.html and report.pdf.

    USD comes from `prices_path` when given, else from the price book (`trilateral prices import`);
    actors are named through the catalogue `refdata import` built (`actors`, else the data dir's)."""
    from trilateral.report.amounts import Prices
    from trilateral.report.collect import collect_correlations, collect_records, resolve_audience

    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    prices = Prices.load(prices_path) if prices_path else _price_book(hub)
    if actors is None:
        actors = _actor_catalog(hub)
    started = time.perf_counter()
    who = resolve_audience(hub, audience)
    records = collect_records(hub, who, progress)
    correlations = collect_correlations(hub, who)
    read = time.perf_counter() - started
    result = write_report(records, q, out_dir, audience=who.description, is_group=who.is_group, prices=prices,
                          correlations=correlations, pdf=pdf, actors=actors)
    result.seconds = {"read": read, **result.seconds}
    return result


def _price_book(hub: Any) -> Any:
    """The imported price book as report prices; None when nothing was imported (USD then stays unknown)."""
    from trilateral.prices.book import PriceBook, prices_path
    from trilateral.report.amounts import Prices

    settings = getattr(hub, "settings", None)
    if settings is None or not prices_path(settings).exists():
        return None
    book = PriceBook.load(settings)
    return Prices.from_book(book, f"the price book ({prices_path(settings)})") if len(book) else None


def _actor_catalog(hub: Any) -> Any:
    from trilateral.refdata.actor_store import load_actors

    settings = getattr(hub, "settings", None)
    try:
        return load_actors(settings) if settings is not None else None
    except Exception:  # an unreadable catalogue must not stop the report: names then come from the register
        return None
