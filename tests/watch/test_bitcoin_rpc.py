"""The Bitcoin Core adapter against replayed `getblock HASH 2` responses (no bitcoind package exists
here): a tiny local JSON-RPC server answers getblockcount/getblockhash/getblock from real-shaped
blocks; the watch follows a seed transaction's outputs to an exchange."""

from __future__ import annotations

import copy
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from trilateral.core.settings import Settings
from trilateral.hub import Hub
from trilateral.labels import LabelStore
from trilateral.watch.bitcoin import BitcoinAdapter
from trilateral.watch.runner import Watcher
from trilateral.watch.store import WatchStore

FIXTURE = Path(__file__).resolve().parents[1] / "chain" / "fixtures" / "bitcoin_core_getblock_800002.json"
EXCHANGE = "bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h"


class CoreReplay:
    """Answers Bitcoin Core JSON-RPC from a list of getblock documents, as bitcoind would."""

    def __init__(self, blocks: list[dict]) -> None:
        by_height = {b["height"]: b for b in blocks}
        by_hash = {b["hash"]: b for b in blocks}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                method, params = req["method"], req.get("params", [])
                if method == "getblockcount":
                    result, error = max(by_height), None
                elif method == "getblockhash" and params[0] in by_height:
                    result, error = by_height[params[0]]["hash"], None
                elif method == "getblock" and params[0] in by_hash and params[1] == 2:
                    result, error = by_hash[params[0]], None
                else:
                    result, error = None, {"code": -8, "message": "Block height out of range"}
                body = json.dumps({"result": result, "error": error, "id": req.get("id")},
                                  default=lambda d: float(d) if isinstance(d, Decimal) else d).encode()
                # Core prints amounts as plain decimals (8 places), never in exponent form
                body = body.replace(b"5e-05", b"0.00005000").replace(b"1e-05", b"0.00001000")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


def next_block(block: dict, spend_txid: str) -> dict:
    """Block 800003: spends output 0 of `spend_txid` (1.9996 BTC) to an exchange and to change."""
    nxt = copy.deepcopy(block)
    nxt["height"], nxt["previousblockhash"] = block["height"] + 1, block["hash"]
    nxt["hash"] = "00000000000000000002" + "ab" * 22
    spend = copy.deepcopy(block["tx"][1])
    spend["txid"] = spend["hash"] = "7d" * 32
    spend["vin"] = [{"txid": spend_txid, "vout": 0, "scriptSig": {"asm": "", "hex": ""}, "sequence": 4294967293}]
    spend["vout"] = [
        {"value": Decimal("1.5"), "n": 0, "scriptPubKey": {"address": EXCHANGE, "type": "witness_v0_keyhash"}},
        {"value": Decimal("0.4995"), "n": 1, "scriptPubKey": {"address": "bc1qchangechangechange", "type": "x"}}]
    spend["fee"] = Decimal("0.0001")
    nxt["tx"] = [block["tx"][0], spend]
    return nxt


def test_seed_outputs_followed_to_an_exchange_over_core_rpc(home: Path, tmp_path: Path) -> None:
    block = json.loads(FIXTURE.read_text(), parse_float=Decimal)
    seed = block["tx"][1]["txid"]
    server = CoreReplay([block, next_block(block, seed)])
    tags = tmp_path / "tags.yaml"
    tags.write_text(f"title: t\ncreator: t\ncurrency: BTC\ntags:\n  - address: {EXCHANGE}\n    label: Some Exchange\n"
                    "    category: exchange\n")
    settings = Settings.from_env()
    LabelStore(settings).import_file(tags)
    lines: list[str] = []
    with Hub.open(settings) as hub:
        hub.init()
        store = WatchStore(hub.engine)
        case_id = store.open_case("btc", "bitcoin", "haircut", [], [seed], None)
        Watcher(hub, [BitcoinAdapter("bitcoin", server.url)], from_block=800002, emit=lines.append).run(once=True)
        [alert] = store.alerts_of(case_id)
        assert store.cursor("bitcoin") == (800003, "00000000000000000002" + "ab" * 22)
    server.server.shutdown()
    # haircut: the spent output was all stolen, the fee took its share: 1.5 of 1.9996 go to the exchange
    assert (alert["kind"], alert["address"], alert["asset"], alert["amount_base_units"]) == \
        ("exchange", EXCHANGE, "BTC", "150000000")
    assert lines == [lines[0]] and "Some Exchange" in lines[0]
