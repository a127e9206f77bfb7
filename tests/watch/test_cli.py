"""`trilateral case …`, `member webhook` and `watch` from the command line: thin, clear on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_user_errors import assert_one_clear_line
from trilateral.cli import main

THIEF = "0x" + "11" * 20


@pytest.fixture
def run(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The `trilateral` entry point in-process (as the console script runs it), output captured."""

    def invoke(args: list[str], _home: Path | None = None) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "argv", ["trilateral", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return invoke
TX = "0x" + "ab" * 32


def test_case_lifecycle_and_webhook(run, home: Path) -> None:
    assert run(["init"], home).returncode == 0
    opened = run(["case", "open", "--name", "Bybit", "--chain", "ethereum", "--from", f"{THIEF},{TX}",
                  "--incident", "incident--1"], home)
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.splitlines()[-1]
    listed = json.loads(run(["case", "list", "--json"], home).stdout)
    assert [(c["id"], c["seeds"], c["seed_txs"], c["incident"]) for c in listed] == \
        [(int(case_id), [THIEF], [TX], "incident--1")]
    shown = json.loads(run(["case", "show", case_id, "--json"], home).stdout)
    assert shown["holdings"] == [] and shown["alerts"] == [] and shown["status"] == "open"
    hook = run(["member", "webhook", "KR", "--url", "https://exchange.example/hook"], home)
    assert hook.returncode == 0 and hook.stdout.splitlines()[-1].startswith("whsec_")
    assert run(["case", "close", case_id], home).returncode == 0
    assert json.loads(run(["case", "list", "--json"], home).stdout) == []
    assert json.loads(run(["case", "list", "--all", "--json"], home).stdout)[0]["status"] == "closed"


def test_bad_input_gives_one_clear_line(run, home: Path) -> None:
    assert run(["init"], home).returncode == 0
    assert_one_clear_line(run(["case", "open", "--name", "x", "--chain", "ethereum", "--from", "nonsense"], home),
                          "nonsense")
    assert_one_clear_line(run(["case", "open", "--name", "x", "--chain", "ethereum", "--from", THIEF,
                               "--policy", "median"], home), "policy")
    assert_one_clear_line(run(["case", "show", "42"], home), "no case 42")
    assert_one_clear_line(run(["member", "webhook", "ZZ", "--url", "https://x.example"], home), "ZZ")
    assert_one_clear_line(run(["member", "webhook", "KR", "--url", "ftp://x"], home), "https://")
    assert_one_clear_line(run(["watch", "--rpc", "ethereum"], home), "CHAIN=URL")
    assert_one_clear_line(run(["watch", "--rpc", "ethereum=http://127.0.0.1:9", "--once"], home), "127.0.0.1:9")
    assert_one_clear_line(run(["watch", "--rpc", "ethereum=http://127.0.0.1:9", "--ws", "bitcoin=ws://127.0.0.1:9"],
                              home), "CHAIN=ws://")
    assert_one_clear_line(run(["watch", "--rpc", "ethereum=http://127.0.0.1:9", "--ws", "ethereum=http://x"], home),
                          "CHAIN=ws://")


def test_case_from_a_finished_trace_starts_with_its_holdings(run, home: Path, tmp_path: Path) -> None:
    assert run(["init"]).returncode == 0
    findings = tmp_path / "findings.json"
    holder = "0x" + "22" * 20
    findings.write_text(json.dumps({"policy": "haircut", "seeds": [{"chain": "ethereum", "address": THIEF}],
                                    "offramps": [], "holdings": [
                                        {"chain": "ethereum", "address": holder, "asset": "ETH",
                                         "amount_base_units": "5000000000000000000", "confidence": 0.9}]}))
    opened = run(["case", "open", "--name", "from trace", "--chain", "ethereum", "--from-trace", str(findings)])
    assert opened.returncode == 0, opened.stderr
    shown = json.loads(run(["case", "show", opened.stdout.splitlines()[-1], "--json"]).stdout)
    assert shown["seeds"] == [THIEF]
    assert shown["holdings"] == [{"address": holder, "asset": "ETH", "amount_base_units": "5000000000000000000"}]
    findings.write_text(json.dumps({"seeds": [{"chain": "ethereum", "address": THIEF}], "holdings": [
        {"chain": "ethereum", "address": holder, "asset": "NOPE", "amount_base_units": "1"}]}))
    assert_one_clear_line(run(["case", "open", "--name", "x", "--chain", "ethereum", "--from-trace", str(findings)]),
                          "holdings[0]")
