"""The Reports screen: the quarterly assessment for the signed-in principal as audience (the report
package reads the hub as that principal, so it contains only what it may read), kept per principal."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal

QUARTER_RE = re.compile(r"^\d{4}Q[1-4]$")


def current_quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def reports_dir(home: Path, principal: Principal) -> Path:
    return home / "console-reports" / principal.code


def parse_quarter(text: str) -> str:
    """`2026q3` -> `2026Q3`; an InputError for anything else (checked before any work is counted)."""
    quarter = text.strip().upper()
    if not QUARTER_RE.match(quarter):
        raise InputError(f"quarter {quarter!r} is not like 2026Q3")
    return quarter


def generate(hub: Any, principal: Principal, quarter: str, pdf: bool = False) -> Any:
    from trilateral.report import quarterly_report

    quarter = parse_quarter(quarter)
    out = reports_dir(hub.settings.home, principal) / quarter
    return quarterly_report(hub, quarter, principal.code, out, pdf=pdf)


def list_reports(home: Path, principal: Principal) -> list[dict[str, Any]]:
    base = reports_dir(home, principal)
    out = []
    for d in sorted(base.glob("*Q*"), reverse=True) if base.is_dir() else []:
        if (d / "report.html").is_file() and QUARTER_RE.match(d.name):
            out.append({"quarter": d.name, "pdf": (d / "report.pdf").is_file(),
                        "written": (d / "report.html").stat().st_mtime})
    return out


def report_path(home: Path, principal: Principal, quarter: str, name: str) -> Path | None:
    """A file of this principal's own report, never outside its directory."""
    if not QUARTER_RE.match(quarter):
        return None
    base = (reports_dir(home, principal) / quarter).resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path
