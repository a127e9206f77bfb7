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
