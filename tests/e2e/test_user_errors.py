"""Errors a new user can hit give one clear line saying what to do, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "trilateral"


def run(args: list[str], home: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRILATERAL_")}
    env.update({"TRILATERAL_HOME": str(home), **env_extra})
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_database_says_run_init(tmp_path: Path) -> None:
    assert_one_clear_line(run(["member", "list"], tmp_path / "h"), "trilateral init")
    assert not (tmp_path / "h" / "hub.sqlite3").exists(), "a read command must not create an empty hub"


def test_bad_database_url_says_what_a_url_looks_like(tmp_path: Path) -> None:
    done = run(["init"], tmp_path / "h", TRILATERAL_DATABASE_URL="mysql-ish:nonsense")
    assert_one_clear_line(done, "sqlite:///")


def test_unreachable_postgresql_names_the_setting(tmp_path: Path) -> None:
    with socket.socket() as s:  # a closed loopback port: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run(["init"], tmp_path / "h", TRILATERAL_DATABASE_URL=f"postgresql+psycopg://u:secret@127.0.0.1:{port}/x")
    assert_one_clear_line(done, "TRILATERAL_DATABASE_URL")
    assert "secret" not in done.stderr, "the password must not be printed"


def test_unwritable_home_says_choose_another(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_clear_line(run(["init"], blocker / "home"), "TRILATERAL_HOME")


def test_port_in_use_says_pass_another_port(tmp_path: Path) -> None:
    assert run(["init"], tmp_path / "h").returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert_one_clear_line(run(["serve", "--port", str(port)], tmp_path / "h"), "--port")


def test_missing_refdata_while_offline_points_to_import(tmp_path: Path) -> None:
    incident = tmp_path / "incident.json"
    incident.write_text('{"type": "bundle", "id": "bundle--8d1e2a1c-3b50-4c65-8e8b-9f6f4bd0c0a1", "objects": []}')
    assert_one_clear_line(run(["attribute", str(incident), "--json"], tmp_path / "h"), "refdata")


@pytest.mark.parametrize("args", [["trace", "--chain", "ethereum", "--from", "0x" + "ab" * 20, "--json", "-"],
                                  ["chain", "ingest", "--chain", "ethereum", "--format", "etl", "/nonexistent"]])
def test_missing_chain_data_is_one_line(tmp_path: Path, args: list[str]) -> None:
    assert_one_clear_line(run(args, tmp_path / "h"))


def test_demo_refuses_a_home_it_did_not_make(tmp_path: Path) -> None:
    home = tmp_path / "precious"
    home.mkdir()
    (home / "keep.txt").write_text("analyst notes")
    assert_one_clear_line(run(["demo", "--transfers", "5000", "--home", str(home)], tmp_path / "h"), "--home")
    assert (home / "keep.txt").read_text() == "analyst notes"


def test_screening_before_any_label_import_says_so_but_still_answers(tmp_path: Path) -> None:
    done = run(["screen", "0x" + "ab" * 20, "--json"], tmp_path / "h")
    assert done.returncode == 0 and '"hits": []' in done.stdout
    assert "labels import" in done.stderr
