"""kill -9 of a real `trilateral watch` process mid-run, then a restart: every alert reaches the
webhook receiver exactly once in effect (same idempotency key on any re-send), and the hub holds
each STIX alert once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.watch.live import Receiver, ganache, setup_world, write_labels
from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.labels import LabelStore
from trilateral.watch.store import WatchStore

pytestmark = pytest.mark.ganache
ROUNDS = (6, 6, 6)  # bridge payments sent before the kill, while down, after the restart


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_kill_9_and_restart_deliver_every_alert_exactly_once(home: Path, tmp_path: Path) -> None:
    receiver = Receiver(delay=0.15)  # the watch is mid-POST most of the time: a kill lands there
    settings = Settings.from_env()
    with ganache() as node:
        w = setup_world(node)
        for path in write_labels(w, tmp_path):
            LabelStore(settings).import_file(path)
        with Hub.open(settings) as hub:
            hub.init()
            store = WatchStore(hub.engine)
            case_id = store.open_case("crash", "ethereum", "haircut", [w.a["thief"]], [], None)
            receiver.secrets = {"us": store.add_webhook("US", receiver.url("us"))}
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        cmd = [sys.executable, "-m", "trilateral", "watch", "--rpc", f"ethereum={node.url}", "--from-block",
               str(start), "--poll", "0.05", "--as", "US"]
        env = dict(os.environ, TRILATERAL_HOME=str(home))
        out = [(tmp_path / f"watch{n}.out").open("w") for n in (1, 2)]
        proc = subprocess.Popen(cmd, env=env, stdout=out[0], stderr=subprocess.STDOUT)
        sent = 0
        try:
            for _ in range(ROUNDS[0]):
                sent += 1
                w.send("thief", "bridge", 1_000 + sent)
            wait_for(lambda: len(receiver.accepted) >= 3)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            for _ in range(ROUNDS[1]):
                sent += 1
                w.send("thief", "bridge", 1_000 + sent)
            proc = subprocess.Popen(cmd, env=env, stdout=out[1], stderr=subprocess.STDOUT)
            for _ in range(ROUNDS[2]):
                sent += 1
                w.send("thief", "bridge", 1_000 + sent)
            wait_for(lambda: len(receiver.accepted) >= sent, timeout=90)
            time.sleep(0.5)  # anything more would arrive now
        finally:
            proc.terminate()
            proc.wait(10)
            for fh in out:
                fh.close()
    receiver.close()
    amounts = sorted(int(a["amount_base_units"]) for a in receiver.accepted)
    assert amounts == [1_000 + n for n in range(1, sent + 1)]  # every alert, none twice
    assert len({a["id"] for a in receiver.accepted}) == sent and receiver.rejected == 0
    with Hub.open(settings) as hub:
        stix = [o for o in hub.export(hub.principal("KR"))["objects"] if o["type"] == "x-trilateral-watch-alert"]
        assert sorted(int(o["amount_base_units"]) for o in stix) == amounts
        assert len(WatchStore(hub.engine).alerts_of(case_id)) == sent
        assert WatchStore(hub.engine).outbox_counts() == {"delivered": 2 * sent}
    printed = [ln for n in (1, 2) for ln in (tmp_path / f"watch{n}.out").read_text().splitlines()
               if ln.startswith("bridge ")]
    assert len(printed) >= sent - 1  # a kill between the commit and the print can lose one line, not an alert
    print(f"re-sent after the kill (same key, dropped by the receiver): {receiver.duplicates}")
