"""`trilateral demo --live`: a theft laundered as real signed transactions on a local ganache among
background traffic, followed by the live watch; alerts are printed as they come, and at the end the
time from the theft's block to the first freeze request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from trilateral.core.settings import Settings
from trilateral.demo.live_chain import DevNode, launder, setup_world, start_ganache, write_labels
from trilateral.demo.run import prepare_home

EXCHANGE_CLIENT = "KR-UPBIT"


def run_live(home: Path, say: Callable[[str], None], pause: float = 0.3, timeout: float = 60.0) -> dict:
    """Run the live demo in `home` (a fresh demo home); returns its figures."""
    from trilateral.hub import Hub
    from trilateral.labels import LabelStore
    from trilateral.trace.freeze import write_freeze_requests
    from trilateral.watch.evm import EvmAdapter
    from trilateral.watch.runner import Watcher
    from trilateral.watch.store import WatchStore

    home = home.expanduser().resolve()
    prepare_home(home)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'hub.sqlite3'}")
    with start_ganache(accounts=16) as node:
        say(f"ganache at {node.url}; deploying a USDT token, a swap pool and a mixer pool")
        w = setup_world(node)
        for path in write_labels(w, home):
            LabelStore(settings).import_file(path)
        with Hub.open(settings) as hub:
            hub.init()
            hub.add_principal(EXCHANGE_CLIENT, "Upbit", client_of="KR")
            store = WatchStore(hub.engine)
            case_id = store.open_case("Live demo theft", "ethereum", "haircut", [w.a["thief"]], [], None)
            start = int(node.rpc("eth_blockNumber"), 16) + 1
            alerts: list[tuple[float, str]] = []
            t0 = time.time()

            def emit(text: str) -> None:
                alerts.append((time.time(), text))
                say(f"[{time.time() - t0:6.2f} s] ALERT {text}")

            watcher = Watcher(hub, [EvmAdapter("ethereum", node.url)], from_block=start, emit=emit, submit_as="KR")
            watcher.warm()
            stop = threading.Event()
            watching = threading.Thread(target=watcher.run, kwargs={"poll_seconds": 0.1, "stop": stop.is_set})
            traffic = threading.Thread(target=_background, args=(DevNode(node.url), stop), daemon=True)
            watching.start()
            traffic.start()
            say(f"case {case_id} open on thief {w.a['thief']}; watching from block {start}; laundering starts")
            t0 = time.time()
            expected = launder(w, noise=True, pause=pause)
            deadline = time.monotonic() + timeout
            while len(alerts) < len(expected) and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            watching.join(30)
            traffic.join(5)
            bodies = store.alerts_of(case_id)
    theft_block = min(n for n in w.mined if n >= start)
    theft_at = w.mined[theft_block]
    freeze = [b for b in bodies if b.get("freeze_request")]
    first = next((at for at, text in alerts if text.startswith(("exchange_deposit ", "exchange "))), None)
    written = write_freeze_requests([b["freeze_request"] for b in freeze], home / "out" / "freeze-live") \
        if freeze else []
    figures = {"alerts": len(bodies), "expected": len(expected), "theft_block": theft_block,
               "first_freeze_seconds": None if first is None else round(first - theft_at, 2),
               "freeze_requests": [str(p) for p in written]}
    if first is not None:
        say(f"theft in block {theft_block}; first freeze request ({freeze[0]['entity']}, "
            f"{freeze[0]['amount']} {freeze[0]['asset']} at {freeze[0]['address']}) "
            f"{first - theft_at:.2f} s later")
    say(f"{len(bodies)} alert(s) (expected {len(expected)}); letters: {home / 'out' / 'freeze-live'}")
    return figures


def _background(node: DevNode, stop: threading.Event) -> None:
    """Unrelated traffic: the node's last accounts pay each other every 0.2 s."""
    accounts = [a.lower() for a in node.rpc("eth_accounts")][-4:]
    k = 0
    while not stop.is_set():
        node.send(accounts[k % 4], accounts[(k + 1) % 4], 10**15 + k)
        k += 1
        time.sleep(0.2)
