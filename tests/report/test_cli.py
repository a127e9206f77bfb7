"""The report, incidents and actions commands: thin, one-line errors, JSON only on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trilateral.cli import app
from trilateral.core.errors import InputError, TrilateralError

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_registers_and_report_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    run("init")
    counts = json.loads(run("incidents", "import", str(FIXTURES / "incidents_small.csv"), "--as", "JP", "--json"))
    assert counts == {"stored": 4, "updated": 0, "unchanged": 0}
    assert json.loads(run("incidents", "import", str(FIXTURES / "incidents_small.csv"), "--as", "JP",
                          "--json"))["unchanged"] == 4
    assert run("incidents", "add", "--name", "Manual", "--date", "2026-05-02", "--stolen",
               "ethereum:ETH:2500000000000000000", "--cluster", "TraderTraitor", "--as", "KR").strip().endswith("stored")
    action_id = run("actions", "add", "--title", "Brief exchanges", "--owner", "KR", "--due", "2026-06-30",
                    "--decided-at", "2026-04-10", "--as", "KR").strip()
    run("actions", "update", action_id, "--status", "done", "--as", "KR")
    (listed,) = json.loads(run("actions", "list", "--as", "US", "--json"))
    assert listed["id"] == action_id and listed["status"] == "done" and listed["quarter"] == "2026Q2"
    out = run("report", "quarterly", "--quarter", "2026Q2", "--audience", "group", "--out", str(tmp_path / "r"),
              "--no-pdf")
    assert "TLP:AMBER" in out and (tmp_path / "r" / "report.html").is_file()
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "KelpDAO / Layer Zero" in html and "2.5 ETH" in html and "Brief exchanges" in html


def test_bad_input_is_one_clear_error(database_url: str, tmp_path: Path) -> None:
    run("init")
    with pytest.raises(InputError, match="2026Q9"):
        CliRunner().invoke(app, ["report", "quarterly", "--quarter", "2026Q9", "--audience", "US", "--out",
                                 str(tmp_path)], catch_exceptions=False)
    with pytest.raises(TrilateralError, match="unknown principal 'XX'"):
        CliRunner().invoke(app, ["report", "quarterly", "--quarter", "2026Q2", "--audience", "XX", "--out",
                                 str(tmp_path)], catch_exceptions=False)
    with pytest.raises(InputError, match="CHAIN:ASSET:BASE_UNITS"):
        CliRunner().invoke(app, ["incidents", "add", "--name", "n", "--date", "2026-05-02", "--stolen", "ETH:1.5"],
                           catch_exceptions=False)
