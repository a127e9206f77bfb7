"""`trilateral demo` without --attack: its hint says to run `trilateral refdata update`; that must work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trilateral.cli.demo_command import attack_in_data_dir
from trilateral.refdata.update import import_attack

TINY_ATTACK = Path(__file__).resolve().parents[1] / "refdata" / "fixtures" / "tiny-attack"


def test_the_attack_data_imported_in_the_data_dir_is_found_by_its_absolute_source(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert attack_in_data_dir(tmp_path / "demo") is None  # nothing imported: the demo skips attribution
    monkeypatch.chdir(TINY_ATTACK.parent)
    import_attack(Path("tiny-attack"))  # a relative path, as a user types it
    monkeypatch.chdir(tmp_path)
    assert attack_in_data_dir(tmp_path / "demo") == TINY_ATTACK
    inside = tmp_path / "demo" / "attack"
    shutil.copytree(TINY_ATTACK, inside)
    import_attack(inside)
    assert attack_in_data_dir(tmp_path / "demo") is None  # never a source in the home the demo deletes first


@pytest.mark.slow
def test_demo_attributes_with_what_refdata_put_in_the_data_dir(tmp_path: Path) -> None:
    # the demo printed "skipped scoring: no ATT&CK data (pass --attack FILE or run `trilateral refdata
    # update`)" even after `trilateral refdata update` / `refdata import`: it only ever read --attack
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRILATERAL_")}
    env["TRILATERAL_HOME"] = str(tmp_path / "user-home")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "trilateral", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    assert cli("refdata", "import", str(TINY_ATTACK)).returncode == 0
    done = cli("demo", "--transfers", "5000", "--home", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    assert "skipped scoring" not in done.stdout
    assert f"ATT&CK data: {TINY_ATTACK}" in done.stdout
    assert "Lazarus Group (G0032), confidence" in done.stdout


def test_without_attack_data_the_demo_says_how_to_give_it_to_the_cli_and_to_make(
        home: Path, tmp_path: Path) -> None:
    import json

    from trilateral.demo.run import Demo, DemoOptions

    demo = Demo(DemoOptions(home=tmp_path / "demo"))
    demo.create_members()
    demo.sim_dir.mkdir()
    t = "2026-01-02T00:00:00.000Z"
    (demo.sim_dir / "incident.json").write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "incident", "spec_version": "2.1", "id": "incident--6c7d1a52-0000-4000-8000-000000000001",
         "created": t, "modified": t, "name": "Bridge hack"}]}))
    try:
        said = demo.attribute()
    finally:
        demo.hub.close()
    assert said.startswith("skipped scoring: no ATT&CK data (pass --attack FILE")
    assert '`make demo DEMO_ARGS="--attack FILE"`' in said
    assert "`trilateral refdata update`" in said and "`trilateral refdata import FILE`" in said


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_demo_demo_args_attack_wins_over_the_makefiles_own(tmp_path: Path) -> None:
    # the hint says `make demo DEMO_ARGS="--attack FILE"`: true only if that --attack comes last
    import typer

    from trilateral.cli import app

    root = Path(__file__).resolve().parents[2]
    shared = tmp_path / "shared"  # as ../shared/data: the Makefile passes its ATT&CK file itself
    (shared / "mitre_attack_dprk").mkdir(parents=True)
    (shared / "mitre_attack_dprk" / "dprk_enterprise_attack_v18.1_stix21.json").write_text("{}")
    mine = tmp_path / "mine.json"
    done = subprocess.run(["make", "-n", "-C", str(root), "demo", f"SHARED_DATA={shared}",
                           f"DEMO_ARGS=--attack {mine}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if "trilateral demo" in ln)
    args = line.split("trilateral demo", 1)[1].split()
    assert args.count("--attack") == 2
    command = typer.main.get_command(app).commands["demo"]  # type: ignore[attr-defined]
    assert command.make_context("demo", args).params["attack"] == mine
