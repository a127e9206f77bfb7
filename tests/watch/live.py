"""Shared pieces of the live tests: a ganache node, the scripted laundering, labels, a webhook receiver."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chain.test_rpc_ganache import Node, selector, word

REPO = Path(__file__).resolve().parents[2]
GANACHE = REPO / "node_modules" / ".bin" / "ganache"
CONTRACTS = json.loads((Path(__file__).parent / "fixtures" / "contracts" / "contracts.json").read_text())
ETH = 10**18


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def ganache(accounts: int = 12, block_time: float | None = None) -> Iterator[Node]:
    if shutil.which("node") is None or not GANACHE.exists():
        pytest.skip("node or node_modules/.bin/ganache is absent (npm install ganache@7.9.2)")
    port = free_port()
    mining = ["--miner.blockTime", str(block_time)] if block_time else ["--miner.instamine", "eager"]
    proc = subprocess.Popen([str(GANACHE), "--server.port", str(port), "--server.host", "127.0.0.1",
                             "--wallet.totalAccounts", str(accounts), "--chain.chainId", "1337", *mining,
                             "--logging.quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    node = Node(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            node.rpc("eth_chainId")
            break
        except (httpx.HTTPError, RuntimeError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("ganache did not start")
            time.sleep(0.3)
    try:
        yield node
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def abi_string(text: str) -> str:
    data = text.encode().hex()
    return word(len(text)) + data.ljust(64 * max(1, (len(data) + 63) // 64), "0")


@dataclass
class World:
    """Accounts and contracts of the scripted laundering."""

    node: Node
    a: dict[str, str] = field(default_factory=dict)
    mined: dict[int, float] = field(default_factory=dict)  # block number -> when its receipt came back

    def send(self, frm: str, to: str | None = None, value: int = 0, data: str = "0x") -> dict:
        receipt = self.node.send(self.a.get(frm, frm), self.a.get(to, to) if to else None, value, data)
        self.mined.setdefault(int(receipt["blockNumber"], 16), time.time())
        assert receipt["status"] == "0x1", receipt
        return receipt


NAMES = ["deployer", "thief", "hop1", "hop2", "deposit", "hot", "fresh", "stash", "bridge", "trader", "relayer"]


def setup_world(node: Node, offset: int = 0) -> World:
    """Contracts and named accounts (eth_accounts from `offset` on) for one scripted laundering."""
    accounts = [a.lower() for a in node.rpc("eth_accounts")][offset:offset + len(NAMES)]
    w = World(node, dict(zip(NAMES, accounts, strict=True)))
    ctor = word(0x60) + word(6) + word(10**15) + abi_string("USDT")
    w.a["usdt"] = w.send("deployer", data=CONTRACTS["WatchToken"]["bytecode"] + ctor)["contractAddress"].lower()
    w.a["swap"] = w.send("deployer", data=CONTRACTS["MockSwap"]["bytecode"] + word(w.a["usdt"]) + word(3))[
        "contractAddress"].lower()
    w.a["pool"] = w.send("deployer", data=CONTRACTS["MockPool"]["bytecode"] + word(ETH))["contractAddress"].lower()
    w.send("deployer", "usdt", data="0x" + selector("transfer(address,uint256)") + word(w.a["swap"]) + word(10**14))
    return w


def write_labels(w: World, path: Path, suffix: str = "") -> tuple[Path, Path]:
    """An ActorPack (Upbit in KR) and a TagPack labelling the hot wallet, the swap and the bridge."""
    actors = path / f"actors{suffix}.yaml"
    actors.write_text("title: watch test actors\nactors:\n  - id: upbit\n    label: Upbit\n"
                      "    jurisdictions: [KR]\n    categories: [exchange]\n")
    tags = path / f"tags{suffix}.yaml"
    tags.write_text(f"""title: watch test tags
creator: tests
currency: ETH
tags:
  - address: "{w.a['hot']}"
    label: Upbit hot wallet
    category: exchange
    actor: upbit
  - address: "{w.a['swap']}"
    label: Test swap pool
    category: defi_dex
  - address: "{w.a['bridge']}"
    label: Test bridge
    category: bridge
""")
    return actors, tags


def launder(w: World, noise: bool = True) -> list[tuple[str, str, int]]:
    """The scripted laundering; returns the expected alerts in order as (kind, address, amount)."""
    transfer = "0x" + selector("transfer(address,uint256)")
    w.send("thief", "hop1", 10 * ETH)
    if noise:
        w.send("trader", "deployer", ETH)
    w.send("hop1", "hop2", 3 * ETH)
    w.send("hop2", "deposit", 3 * ETH)
    w.send("deposit", "hot", 3 * ETH)  # the sweep: deposit is Upbit's
    w.send("hop1", "pool", ETH, "0x" + selector("deposit(bytes32)") + word("0x" + "ab" * 32))
    if noise:
        w.send("trader", "pool", ETH, "0x" + selector("deposit(bytes32)") + word("0x" + "cd" * 32))
    fee = 10**16
    w.send("relayer", "pool", 0, "0x" + selector("withdraw(address,bytes32,address,uint256)") + word(w.a["fresh"])
           + word("0x" + "ef" * 32) + word(w.a["relayer"]) + word(fee))
    w.send("fresh", "bridge", ETH - fee)
    w.send("hop1", "swap", 2 * ETH, "0x" + selector("swap()"))  # 2 ETH -> 6,000,000 USDT base units
    w.send("hop1", "usdt", 0, transfer + word(w.a["stash"]) + word(6_000_000))
    if noise:
        w.send("trader", "deployer", ETH)
    # the pool links the withdrawal to the thief's deposit with 1/2 confidence (two deposits waiting)
    return [("exchange_deposit", w.a["deposit"], 3 * ETH), ("mixer", w.a["pool"], ETH),
            ("bridge", w.a["bridge"], ETH - fee), ("issuer_freeze", w.a["hop1"], 6_000_000),
            ("issuer_freeze", w.a["stash"], 6_000_000)]


def verify_snippet() -> Any:
    """The verification function exactly as docs/watch.md prints it."""
    text = (REPO / "docs" / "watch.md").read_text()
    code = re.search(r"<!-- verify-snippet -->\s*```python\n(.*?)```", text, re.S).group(1)
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/watch.md", "exec"), scope)
    return scope["verify_webhook"]


class Receiver:
    """A local webhook endpoint: verifies each POST with the documented snippet, records accepted ones."""

    def __init__(self, secrets: dict[str, str] | None = None, delay: float = 0.0) -> None:
        self.secrets = secrets or {}
        self.verify = verify_snippet()
        self.seen: dict[str, set[str]] = {}  # per endpoint: each receiver keeps its own keys
        self.accepted: list[dict] = []
        self.duplicates = 0
        self.rejected = 0
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                secret = receiver.secrets.get(self.path.strip("/"), "")
                with receiver.lock:
                    verdict = receiver.verify(secret, body, self.headers.get("Trilateral-Signature", ""),
                                              receiver.seen.setdefault(self.path, set()), self.headers.get("Idempotency-Key", ""))
                    if verdict == "accept":
                        receiver.accepted.append({"path": self.path, "at": time.time(), **json.loads(body)})
                    elif verdict == "duplicate":
                        receiver.duplicates += 1
                    else:
                        receiver.rejected += 1
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(401 if verdict == "reject" else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
