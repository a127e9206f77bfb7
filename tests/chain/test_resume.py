"""A SIGKILLed ingest leaves a consistent store; the next run completes it with no duplicate and no gap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chain.synthetic_etl import generate_etl
from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest

pytestmark = pytest.mark.slow


def _committed_batches(home: Path) -> int:
    manifest = home / "chain" / "ethereum" / "_manifest.json"
    try:
        return len(json.loads(manifest.read_text())["batches"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def _run_ingest(home: Path, src: Path) -> subprocess.Popen:
    env = {**os.environ, "TRILATERAL_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", "ethereum",
                             "--format", "etl", str(src)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_ingest(tmp_path: Path) -> None:
    src = tmp_path / "export"
    counts = generate_etl(src, 240_000, partitions=6, addresses=30_000, threads=1)
    killed_home = tmp_path / "killed"
    proc = _run_ingest(killed_home, src)
    deadline = time.monotonic() + 120
    while _committed_batches(killed_home) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed: make the input bigger"
    time.sleep(0.3)  # well inside the next batch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = _committed_batches(killed_home)
    assert 2 <= done_at_kill < 6
    partial = ChainStore(killed_home / "chain")
    rows = partial.transfers("ethereum", columns=["tx_hash", "log_index"]).to_pylist()
    assert len(rows) == len({(r["tx_hash"], r["log_index"]) for r in rows})  # what is visible is whole batches

    report = ingest(killed_home / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)
    assert report.batches_skipped == done_at_kill and report.batches_committed == 6 - done_at_kill
    clean_home = tmp_path / "clean"
    ingest(clean_home / "chain", fmt="etl", chain="ethereum", source=str(src), show_progress=False)

    resumed, clean = ChainStore(killed_home / "chain"), ChainStore(clean_home / "chain")
    assert resumed.transfers("ethereum").equals(clean.transfers("ethereum"))
    assert resumed.blocks("ethereum").equals(clean.blocks("ethereum"))
    n = clean.stats()["chains"]["ethereum"]["addresses"]
    assert resumed.addresses("ethereum", list(range(n))) == clean.addresses("ethereum", list(range(n)))
    assert resumed.stats()["chains"]["ethereum"]["transfers"] == counts["native"] + counts["token"]
    leftovers = [p for p in (killed_home / "chain" / "ethereum").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
