"""`watch --midgard URL` against a real ganache and a local HTTP server replaying Midgard v2
`/v2/actions` answers (the real shapes of tests/chain/fixtures/midgard_actions.json, re-pointed at
the test's transactions): stolen ETH sent to a bridge is linked to the swap's destination once
Midgard reports the outbound, the destination becomes a seed of a linked case on the out chain, and
the watch follows it there; a restart neither loses nor repeats a link."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.watch.live import ETH, ganache, setup_world
from tests.watch.test_live_ganache import open_case, settings  # noqa: F401 (fixture)
from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.watch.evm import EvmAdapter
from trilateral.watch.runner import Watcher
from trilateral.watch.store import WatchStore

pytestmark = pytest.mark.ganache
ACTIONS = json.loads((Path(__file__).parents[1] / "chain" / "fixtures" / "midgard_actions.json").read_text())
BTC_OUT = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"


class FakeMidgard:
    """Answers /v2/actions?txid=: the swap is `pending` (no outbound yet) the first time it is asked."""

    def __init__(self) -> None:
        self.swaps: dict[str, dict] = {}  # txid (upper, no 0x) -> action
        self.asked: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlparse(self.path).query)
                txid = query.get("txid", [""])[0]
                fake.asked.append(txid)
                action = fake.swaps.get(txid)
                if action is not None and fake.asked.count(txid) == 1:
                    action = dict(copy.deepcopy(action), status="pending", out=[])
                body = json.dumps({"actions": [action] if action else [], "count": str(int(bool(action))),
                                   "meta": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def swap(self, tx_hash: str, sender: str, amount_1e8: int, out_asset: str, out_address: str,
             out_1e8: int) -> None:
        action = copy.deepcopy(ACTIONS["actions"][0])  # ETH.ETH -> BTC.BTC, status success
        action["in"][0].update(txID=tx_hash[2:].upper(), address=sender.upper())
        action["in"][0]["coins"] = [{"asset": "ETH.ETH", "amount": str(amount_1e8)}]
        action["out"] = [{"address": out_address, "coins": [{"asset": out_asset, "amount": str(out_1e8)}],
                          "height": "13412360", "txID": "CD" * 32}]
        self.swaps[tx_hash[2:].upper()] = action


def test_bridge_deposits_are_linked_to_their_swaps_and_followed(settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    midgard = FakeMidgard()
    with ganache() as node:
        w = setup_world(node)
        case_id = open_case(settings, w, tmp_path)
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        w.send("thief", "hop1", 10 * ETH)
        to_btc = node.send(w.a["hop1"], w.a["bridge"], 2 * ETH)["transactionHash"]
        to_eth = node.send(w.a["hop1"], w.a["bridge"], 3 * ETH)["transactionHash"]
        midgard.swap(to_btc, w.a["hop1"], 2 * 10**8, "BTC.BTC", BTC_OUT, 7_000_000)
        midgard.swap(to_eth, w.a["hop1"], 3 * 10**8, "ETH.ETH", w.a["stash"], 299_000_000)  # back to ETH
        lines: list[str] = []
        with Hub.open(settings) as hub:
            watcher = Watcher(hub, [EvmAdapter("ethereum", node.url)], from_block=start, emit=lines.append,
                              midgard=midgard.url)
            watcher.links.every = 0.0
            watcher.poll()
            assert [ln.split()[0] for ln in lines] == ["bridge", "bridge"]
            assert watcher.links.run_once() == 0  # Midgard: both swaps still pending
            assert watcher.links.run_once() == 2
            cases = {c.chain: c for c in WatchStore(hub.engine).cases("open") if c.id != case_id}
            assert cases["bitcoin"].seeds == [BTC_OUT] and cases["ethereum"].seeds == [w.a["stash"]]
            assert cases["ethereum"].name == "scripted via THORChain (ethereum)"
            links = [ln for ln in lines if ln.startswith("link ")]
            assert len(links) == 2 and f"{BTC_OUT} BTC.BTC 7000000 base units" in links[0]
            assert f"{w.a['stash']} ETH.ETH 2990000000000000000 base units" in links[1]

            w.send("stash", "hot", ETH)  # the swapped ETH reaches Upbit: an alert on the linked case
            watcher.poll()
            assert lines[-1].split()[:2] == ["exchange", f"case={cases['ethereum'].id}"]

            again = Watcher(hub, [EvmAdapter("ethereum", node.url)], emit=lines.append, midgard=midgard.url)
            again.links.every = 0.0
            assert again.links.pending() == [] and again.links.run_once() == 0  # resolved links persist
    midgard.server.shutdown()
    assert len(midgard.asked) == 4  # each swap asked twice (pending, then done), never again
