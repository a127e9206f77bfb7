"""Live-watch latency: ganache mines the scripted laundering (several rounds, one case each) among
background transactions while a real `trilateral watch` process follows it; per alert, the time
from the block being available at the node (its receipt returned) to (a) the signed webhook
received and (b) the STIX alert readable over TAXII by the exchange's client principal.

    .venv/bin/python bench/watch_latency.py --rounds 6

Last line: `watch latency p50=… p99=… alerts=N missed=0 duplicates=0`, over every delivery
measured (webhook and TAXII together).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.watch.live import NAMES, Receiver, World, free_port, ganache, launder, setup_world, write_labels  # noqa: E402

from trilateral.core.settings import Settings  # noqa: E402
from trilateral.hub import Hub  # noqa: E402
from trilateral.labels import LabelStore  # noqa: E402
from trilateral.watch.store import WatchStore  # noqa: E402

CLIENT = "KR-UPBIT"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"trilateral serve did not start: {log.read_text()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--poll", type=float, default=0.1, help="watch --poll")
    ap.add_argument("--ws", action="store_true", help="watch --ws (new heads by eth_subscribe; --poll the fallback)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="watch-latency-"))
    env = dict(os.environ, TRILATERAL_HOME=str(tmp / "home"))
    env.pop("TRILATERAL_DATABASE_URL", None)
    settings = Settings.from_env(env)
    receiver = Receiver()
    with ganache(accounts=len(NAMES) * args.rounds + 4) as node:
        worlds = [setup_world(node, offset=len(NAMES) * r) for r in range(args.rounds)]
        with Hub.open(settings) as hub:
            tokens = {p.code: t for p, t in hub.init()}
            _, tokens[CLIENT] = hub.add_principal(CLIENT, "Upbit", client_of="KR")
            store = WatchStore(hub.engine)
            for r, w in enumerate(worlds):
                for path in write_labels(w, tmp, suffix=f"-{r}"):
                    LabelStore(settings).import_file(path)
                store.open_case(f"round {r}", "ethereum", "haircut", [w.a["thief"]], [], None)
            receiver.secrets = {"us": store.add_webhook("US", receiver.url("us"))}
        port = free_port()
        server = serve(env, port, tmp / "serve.log")
        seen_taxii: dict[str, float] = {}
        stop = threading.Event()

        def poll_taxii() -> None:
            url = f"http://127.0.0.1:{port}/api/v1/collections/shared/objects/"
            with httpx.Client(auth=(CLIENT, tokens[CLIENT]), timeout=10,
                              headers={"Accept": "application/taxii+json;version=2.1"}) as http:
                while not stop.is_set():
                    answer = http.get(url, params={"match[type]": "x-trilateral-watch-alert"})
                    now = time.time()
                    for obj in answer.json().get("objects", []):
                        seen_taxii.setdefault(obj["alert_id"], now)
                    time.sleep(0.05)

        background = World(node, {"a": node.rpc("eth_accounts")[-1].lower(), "b": node.rpc("eth_accounts")[-2].lower()})

        def noise() -> None:
            while not stop.is_set():
                background.send("a", "b", 10**15)
                time.sleep(0.05)

        start = int(node.rpc("eth_blockNumber"), 16) + 1
        watch = subprocess.Popen([sys.executable, "-m", "trilateral", "watch", "--rpc", f"ethereum={node.url}",
                                  "--from-block", str(start), "--poll", str(args.poll), "--as", "US",
                                  *(["--ws", "ethereum=" + node.url.replace("http://", "ws://")] if args.ws else [])],
                                 env=env,
                                 stdout=(tmp / "watch.out").open("w"), stderr=subprocess.STDOUT)
        threads = [threading.Thread(target=poll_taxii, daemon=True), threading.Thread(target=noise, daemon=True)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while "watching" not in (tmp / "watch.out").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)  # the watch process is up ...
        time.sleep(1.0)  # ... and following the tip
        expected = 0
        deposits = 0
        for w in worlds:
            expected += len(launder(w, noise=False))
            deposits += 1
        deadline = time.monotonic() + 60
        while (len({a["id"] for a in receiver.accepted}) < expected or len(seen_taxii) < deposits) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(10)
        watch.terminate()
        watch.wait(10)
        server.terminate()
        server.wait(10)
    receiver.close()
    mined = {n: t for w in worlds for n, t in w.mined.items()}
    hooks = [a["at"] - mined[a["block"]["number"]] for a in receiver.accepted]
    ids = {a["id"]: a for a in receiver.accepted}
    taxii = [at - mined[ids[i]["block"]["number"]] for i, at in seen_taxii.items() if i in ids]
    every = hooks + taxii
    missed = expected - len(ids) + (deposits - len(seen_taxii))
    duplicates = receiver.duplicates + len(receiver.accepted) - len(ids)
    print(f"rounds {args.rounds}, watch --poll {args.poll}{' --ws' if args.ws else ''}, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"(a) webhook: {len(hooks)} alerts, p50 {statistics.median(hooks):.3f} s, p99 {percentile(hooks, 0.99):.3f} s, "
          f"max {max(hooks):.3f} s")
    print(f"(b) TAXII as {CLIENT}: {len(taxii)} alerts, p50 {statistics.median(taxii):.3f} s, "
          f"p99 {percentile(taxii, 0.99):.3f} s (polled every 50 ms)")
    print(f"watch latency p50={statistics.median(every):.3f}s p99={percentile(every, 0.99):.3f}s alerts={len(ids)} "
          f"missed={missed} duplicates={duplicates}")


if __name__ == "__main__":
    main()
