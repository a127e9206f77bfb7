"""Every command in the README runs: the walkthrough block as a bash script, the TAXII snippet
against a real `trilateral serve`, and the CLI reference's commands exist."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def _block_after(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no ```{language} block after {heading!r}"
    return match.group(1)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRILATERAL_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp_path)
    return env


@pytest.mark.slow
def test_readme_walkthrough_runs_command_by_command(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["ATTACK_BUNDLE"] = str(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    script = "set -euo pipefail\n" + _block_after("## Walkthrough", "bash")
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"walkthrough failed:\n{done.stderr[-3000:]}"
    case = tmp_path / "tri-home" / "cases" / "bridge-hack"  # where the console's Cases screen finds it
    assert (case / "findings.json").exists() and (case / "freeze" / "freeze_requests.json").exists()
    assert (tmp_path / "report-group" / "report.pdf").exists()
    assert (tmp_path / "report-hangang" / "report.html").exists()
    # the ActorPack step says what it holds (it said "11 labels on 0 addresses ()")
    assert re.search(r"sim/actors\.yaml \(actorpack\): \d+ actors \(jurisdiction: .*labels no address itself",
                     done.stderr)
    # HANGANG, a client of KR, reads the freeze request `trace --share-as US` addressed to it (it read nothing)
    hangang = json.loads((tmp_path / "hangang.json").read_text())["objects"]
    assert [o["exchange"] for o in hangang if o["type"] == "x-trilateral-freeze-request"] == ["Hangang Exchange"]
    assert "audit" in done.stdout + done.stderr or done.returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_taxii_snippet_works_against_trilateral_serve(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["TRILATERAL_HOME"] = str(tmp_path / "home")
    init = subprocess.run([str(BIN / "trilateral"), "init"], env=env, capture_output=True, text=True, check=True)
    kr_token = next(line.split(": ", 1)[1] for line in init.stdout.splitlines() if line.startswith("KR token"))
    port = _free_port()
    server = subprocess.Popen([str(BIN / "trilateral"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        snippet = _block_after("trilateral serve --host", "python")
        snippet = snippet.replace("8000", str(port)).replace("<KR token>", kr_token)
        done = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_every_command_of_the_cli_reference_exists() -> None:
    table = README.split("## CLI reference", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^\| `trilateral ([a-z-]+)(?: ([a-z-]+))?", table, re.M)
    assert len(commands) >= 15
    for group, sub in commands:
        args = [group] + ([sub] if sub and group in {"member", "intel", "audit", "chain", "labels", "sim",
                                                    "freeze", "refdata", "incidents", "actions", "report"}
                          else [])
        done = subprocess.run([str(BIN / "trilateral"), *args, "--help"], capture_output=True, text=True)
        assert done.returncode == 0, f"trilateral {' '.join(args)} --help failed: {done.stderr}"
