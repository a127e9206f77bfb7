"""The demo end to end at a small size: every output it promises exists and says what it should."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_demo_runs_end_to_end_and_shares_only_to_the_right_readers(tmp_path: Path) -> None:
    attack = shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json")
    incidents = shared_data("dprk_incidents", "incidents.csv")
    home = tmp_path / "demo-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRILATERAL_")}
    done = subprocess.run([str(BIN / "trilateral"), "demo", "--transfers", "20000", "--home", str(home),
                           "--attack", str(attack), "--incidents", str(incidents)],
                          env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    assert "Demo finished" in done.stdout

    findings = json.loads((home / "out" / "findings.json").read_text())
    assert findings["offramps"], "the trace reached no off-ramp"
    assert all(int(o["amount_base_units"]) > 0 for o in findings["offramps"])
    requests = json.loads((home / "out" / "freeze" / "freeze_requests.json").read_text())["requests"]
    assert requests and {r["routed_to"] for r in requests} & {"US", "KR", "JP"}
    for audience in ("group", "hangang"):
        out = home / "out" / f"report-{audience}"
        assert (out / "report.html").stat().st_size > 0 and (out / "report.pdf").stat().st_size > 0

    # STIX in the hub: the AMBER findings are visible to members and to clients of the submitting member
    # (US) only; HANGANG (client of KR) must not see them, KR and JP must.
    os.environ["TRILATERAL_HOME"] = str(home)
    try:
        from trilateral.core.settings import Settings
        from trilateral.hub import Hub

        with Hub.open(Settings.from_env()) as hub:
            def trace_objects(code: str) -> int:
                page = hub.query(hub.principal(code), types=["x-trilateral-trace"], limit=100)
                return len(page.records)

            assert trace_objects("KR") == 1 and trace_objects("JP") == 1 and trace_objects("US") == 1
            assert trace_objects("HANGANG") == 0
            # ...but the freeze request addressed to Hangang Exchange reaches that client, and only it
            page = hub.query(hub.principal("HANGANG"), types=["x-trilateral-freeze-request"], limit=100)
            assert [r.object["exchange"] for r in page.records] == ["Hangang Exchange"]
            page = hub.query(hub.principal("SAKURA"), types=["x-trilateral-freeze-request"], limit=100)
            assert [r.object["exchange"] for r in page.records] == ["Sakura Exchange"]
    finally:
        os.environ.pop("TRILATERAL_HOME", None)


@pytest.mark.slow
def test_demo_serve_prints_taxii2_client_lines_that_work(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRILATERAL_")}
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(BIN / "trilateral"), "demo", "--transfers", "5000", "--home",
                                   str(tmp_path / "h"), "--serve", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        line = ""
        deadline = time.time() + 600
        while time.time() < deadline and not line:
            assert server.poll() is None, log.read_text()[-3000:]
            line = next((ln.strip() for ln in log.read_text().splitlines() if 'user="KR"' in ln), "")
            time.sleep(0.5)
        assert line, "no taxii2-client line for KR was printed"
        deadline = time.time() + 30
        while True:  # the server starts listening just after the lines are printed
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.time() < deadline, "the TAXII server did not start"
                time.sleep(0.2)
        done = subprocess.run([sys.executable, "-c", line], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Shared" in done.stdout
    finally:
        server.terminate()
        server.wait(timeout=20)
