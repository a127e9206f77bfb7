"""Quarterly joint assessment (HTML + PDF, cut to the audience's TLP), incident register, action register."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trilateral.report.build import ReportResult, compute_figures, write_report
from trilateral.report.quarter import Quarter

__all__ = ["Quarter", "ReportResult", "compute_figures", "quarterly_report", "write_report"]


def quarterly_report(hub: Any, quarter: str | Quarter, audience: str, out_dir: Path,
                     prices_path: Path | None = None, pdf: bool = True, progress: Any = None) -> ReportResult:
    """`trilateral report quarterly`: read the hub as the audience, then write report.html and report.pdf."""
    from trilateral.report.amounts import Prices
    from trilateral.report.collect import collect_correlations, collect_records, resolve_audience

    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    prices = Prices.load(prices_path) if prices_path else None
    started = time.perf_counter()
    who = resolve_audience(hub, audience)
    records = collect_records(hub, who, progress)
    correlations = collect_correlations(hub, who)
    read = time.perf_counter() - started
    result = write_report(records, q, out_dir, audience=who.description, is_group=who.is_group, prices=prices,
                          correlations=correlations, pdf=pdf)
    result.seconds = {"read": read, **result.seconds}
    return result
