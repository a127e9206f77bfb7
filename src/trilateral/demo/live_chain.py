"""A scripted laundering on a local development node (ganache), as real signed transactions: the
live demo's theft and the live-watch tests' fixture. Contracts: watch_contracts.json, compiled ahead
from tests/watch/fixtures/contracts/WatchContracts.sol (solc-js 0.8.26, EVM "paris")."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from Crypto.Hash import keccak

from trilateral.core.errors import ConfigurationError

CONTRACTS = json.loads((Path(__file__).with_name("watch_contracts.json")).read_text())
ETH = 10**18
NAMES = ["deployer", "thief", "hop1", "hop2", "deposit", "hot", "fresh", "stash", "bridge", "trader", "relayer"]


def selector(signature: str) -> str:
    return keccak.new(digest_bits=256, data=signature.encode()).hexdigest()[:8]


def word(value: int | str) -> str:
    return (value[2:] if isinstance(value, str) else f"{value:x}").rjust(64, "0")


def abi_string(text: str) -> str:
    data = text.encode().hex()
    return word(len(text)) + data.ljust(64 * max(1, (len(data) + 63) // 64), "0")


class DevNode:
    """JSON-RPC to a development node that signs for its own accounts (eth_sendTransaction)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)

    def rpc(self, method: str, *params: object) -> object:
        body = self.http.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                              "params": list(params)}).json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    def send(self, frm: str, to: str | None = None, value: int = 0, data: str = "0x") -> dict:
        tx = {"from": frm, "value": hex(value), "data": data, "gas": hex(3_000_000)}
        if to:
            tx["to"] = to
        return self.rpc("eth_getTransactionReceipt", self.rpc("eth_sendTransaction", tx))


def ganache_path() -> Path | None:
    """node_modules/.bin/ganache of the checkout (or $TRILATERAL_GANACHE), if node can run it."""
    candidates = [os.environ.get("TRILATERAL_GANACHE"), Path.cwd() / "node_modules/.bin/ganache",
                  Path(__file__).resolve().parents[3] / "node_modules/.bin/ganache"]
    found = next((Path(c) for c in candidates if c and Path(c).exists()), None)
    return found if found is not None and shutil.which("node") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def start_ganache(accounts: int = 12) -> Iterator[DevNode]:
    """A fresh ganache (instamine) on a free loopback port, stopped afterwards."""
    binary = ganache_path()
    if binary is None:
        raise ConfigurationError("ganache not found: run `make install` (npm install ganache@7.9.2) in the checkout "
                                 "or set TRILATERAL_GANACHE to its path; node must be on PATH")
    port = free_port()
    proc = subprocess.Popen([str(binary), "--server.port", str(port), "--server.host", "127.0.0.1",
                             "--wallet.totalAccounts", str(accounts), "--chain.chainId", "1337", "--miner.instamine",
                             "eager", "--logging.quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    node = DevNode(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            node.rpc("eth_chainId")
            break
        except (httpx.HTTPError, RuntimeError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise ConfigurationError("ganache did not start within 60 s") from None
            time.sleep(0.3)
    try:
        yield node
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class World:
    """Accounts and contracts of one scripted laundering."""

    node: DevNode
    a: dict[str, str] = field(default_factory=dict)
    mined: dict[int, float] = field(default_factory=dict)  # block number -> when its receipt came back

    def send(self, frm: str, to: str | None = None, value: int = 0, data: str = "0x") -> dict:
        receipt = self.node.send(self.a.get(frm, frm), self.a.get(to, to) if to else None, value, data)
        self.mined.setdefault(int(receipt["blockNumber"], 16), time.time())
        if receipt["status"] != "0x1":
            raise RuntimeError(f"transaction {receipt['transactionHash']} reverted")
        return receipt


def setup_world(node: DevNode, offset: int = 0) -> World:
    """Contracts ("USDT", a swap pool, a Tornado-style pool) and named accounts from `offset` on."""
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
    actors.write_text("title: watch demo actors\nactors:\n  - id: upbit\n    label: Upbit\n"
                      "    jurisdictions: [KR]\n    categories: [exchange]\n")
    tags = path / f"tags{suffix}.yaml"
    tags.write_text(f"""title: watch demo tags
creator: trilateral
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


def launder(w: World, noise: bool = True, pause: float = 0.0) -> list[tuple[str, str, int]]:
    """The scripted laundering; returns the expected alerts in order as (kind, address, amount)."""
    transfer = "0x" + selector("transfer(address,uint256)")
    fee = 10**16
    steps = [("thief", "hop1", 10 * ETH, "0x"), ("trader", "deployer", ETH, "0x") if noise else None,
             ("hop1", "hop2", 3 * ETH, "0x"), ("hop2", "deposit", 3 * ETH, "0x"),
             ("deposit", "hot", 3 * ETH, "0x"),  # the sweep: deposit is Upbit's
             ("hop1", "pool", ETH, "0x" + selector("deposit(bytes32)") + word("0x" + "ab" * 32)),
             ("trader", "pool", ETH, "0x" + selector("deposit(bytes32)") + word("0x" + "cd" * 32)) if noise else None,
             ("relayer", "pool", 0, "0x" + selector("withdraw(address,bytes32,address,uint256)") + word(w.a["fresh"])
              + word("0x" + "ef" * 32) + word(w.a["relayer"]) + word(fee)),
             ("fresh", "bridge", ETH - fee, "0x"),
             ("hop1", "swap", 2 * ETH, "0x" + selector("swap()")),  # 2 ETH -> 6,000,000 USDT base units
             ("hop1", "usdt", 0, transfer + word(w.a["stash"]) + word(6_000_000)),
             ("trader", "deployer", ETH, "0x") if noise else None]
    for step in steps:
        if step is not None:
            w.send(*step)
            time.sleep(pause)
    # with noise, the pool links the withdrawal to the thief's deposit at 1/2 (two deposits waiting)
    return [("exchange_deposit", w.a["deposit"], 3 * ETH), ("mixer", w.a["pool"], ETH),
            ("bridge", w.a["bridge"], ETH - fee), ("issuer_freeze", w.a["hop1"], 6_000_000),
            ("issuer_freeze", w.a["stash"], 6_000_000)]
