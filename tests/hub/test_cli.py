"""`trilateral init`, `member ...`, `intel import/export`, `audit verify` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from trilateral.cli import app
from trilateral.core.errors import TrilateralError
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub

from .conftest import bundle, indicator

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=True)


def test_init_then_members_and_tokens(database_url: str) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    tokens = dict(line.split(" token: ") for line in result.output.splitlines() if " token: " in line)
    assert set(tokens) == {"US", "KR", "JP"}
    added = run("member", "add", "KR-UPBIT", "--name", "Upbit", "--client-of", "KR")
    client_token = added.output.strip().splitlines()[-1]
    rotated = run("member", "rotate-token", "KR-UPBIT").output.strip().splitlines()[-1]
    listing = run("member", "list", "--json")
    rows = {r["code"]: r for r in json.loads(listing.output)}
    assert rows["KR-UPBIT"]["sponsor"] == "KR" and rows["US"]["kind"] == "member"
    assert run("member", "revoke", "KR-UPBIT").exit_code == 0
    with Hub.open() as hub:
        assert hub.authenticate(tokens["US"]).code == "US"
        for dead in (client_token, rotated):
            try:
                hub.authenticate(dead)
                raise AssertionError("revoked or rotated token accepted")
            except TrilateralError:
                pass
    assert "already exist" in run("init").output


def test_import_export_and_audit_verify(database_url: str, tmp_path: Path) -> None:
    run("init")
    red = indicator(tlp=Tlp.RED, recipients=["JP"])
    green = indicator()
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(bundle(red, green, {"type": "nope"})))
    result = run("intel", "import", str(feed), "--as", "US", "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert len(report["stored"]) == 2 and report["failed"][0]["id"] is None
    exported = run("intel", "export", "--as", "KR")
    ids = {o["id"] for o in json.loads(exported.stdout)["objects"]}
    assert green["id"] in ids and red["id"] not in ids
    out = tmp_path / "jp.json"
    assert run("intel", "export", "--as", "JP", "--out", str(out)).exit_code == 0
    assert red["id"] in {o["id"] for o in json.loads(out.read_text())["objects"]}
    assert run("audit", "verify").exit_code == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'JP' WHERE seq = 4"))
    engine.dispose()
    broken = run("audit", "verify")
    assert isinstance(broken.exception, TrilateralError) and "entry 4" in str(broken.exception)


def test_errors_are_one_line_on_stderr(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle", "objects": [')
    env = dict(os.environ)
    assert run("init").exit_code == 0
    proc = subprocess.run([sys.executable, "-m", "trilateral", "intel", "import", str(bad), "--as", "US"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "bad.json: malformed JSON" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    unknown = run("intel", "export", "--as", "ZZ")
    assert isinstance(unknown.exception, TrilateralError) and "unknown principal 'ZZ'" in str(unknown.exception)
