"""`watch --ws` against a real ganache (which serves WebSocket on its HTTP port): a new head
announced by `eth_subscribe` wakes the watch at once, long before its next poll; with the socket
refused the watch still works by polling."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.watch.live import ETH, free_port, ganache, setup_world
from tests.watch.test_live_ganache import open_case, settings  # noqa: F401 (fixture)
from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.watch.evm import EvmAdapter
from trilateral.watch.runner import Watcher

pytestmark = pytest.mark.ganache


def first_alert_after_send(hub_settings: Settings, w, ws_url: str, poll: float, tmp: Path
                           ) -> tuple[float, Watcher]:
    """Seconds from the sweep's receipt to the watch printing its alert."""
    open_case(hub_settings, w, tmp)
    start = int(w.node.rpc("eth_blockNumber"), 16) + 1
    lines: list[tuple[float, str]] = []
    stop = threading.Event()
    with Hub.open(hub_settings) as hub:
        watcher = Watcher(hub, [EvmAdapter("ethereum", w.node.url)], from_block=start,
                          emit=lambda text: lines.append((time.monotonic(), text)), ws={"ethereum": ws_url})
        runner = threading.Thread(target=watcher.run, kwargs={"poll_seconds": poll, "stop": stop.is_set})
        runner.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (watcher.rounds >= 1 and (
                    ws_url.endswith("/") or watcher.subscriptions[0].connected.is_set())):
                time.sleep(0.05)  # subscribed (or refused) and past the first poll
            assert watcher.rounds >= 1
            w.send("thief", "hop1", 10 * ETH)
            w.send("hop1", "hot", ETH)
            sent = time.monotonic()
            while not lines and time.monotonic() < sent + 3 * poll + 10:
                time.sleep(0.02)
        finally:
            stop.set()
            watcher.new_head.set()
            runner.join(30)
    assert lines, "no alert"
    return lines[0][0] - sent, watcher


def test_new_heads_wake_the_watch_before_its_poll(settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    with ganache() as node:
        w = setup_world(node)
        delay, watcher = first_alert_after_send(settings, w, node.url.replace("http://", "ws://"), 10.0, tmp_path)
    assert watcher.subscriptions[0].heads >= 2  # both blocks were announced
    assert delay < 5.0, delay  # the poll alone would have taken up to 10 s


def test_without_the_socket_polling_still_delivers(settings: Settings, tmp_path: Path,  # noqa: F811
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    refused = f"ws://127.0.0.1:{free_port()}/"
    with ganache() as node:
        w = setup_world(node)
        delay, watcher = first_alert_after_send(settings, w, refused, 0.5, tmp_path)
    assert watcher.subscriptions[0].heads == 0 and delay < 10
    err = capfd.readouterr().err
    assert f"WebSocket {refused} unavailable" in err and "polling" in err
