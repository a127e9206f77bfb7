"""Live EVM JSON-RPC ingest against a real ganache node: every transfer arrives exactly once."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from Crypto.Hash import keccak

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount

pytestmark = pytest.mark.ganache

REPO = Path(__file__).resolve().parents[2]
GANACHE = REPO / "node_modules" / ".bin" / "ganache"
CONTRACTS = json.loads((Path(__file__).parent / "fixtures" / "contracts" / "contracts.json").read_text())


def selector(signature: str) -> str:
    return keccak.new(digest_bits=256, data=signature.encode()).hexdigest()[:8]


def word(value: int | str) -> str:
    return (value[2:] if isinstance(value, str) else f"{value:x}").rjust(64, "0")


class Node:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)

    def rpc(self, method: str, *params: object) -> object:
        answer = self.http.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        body = answer.json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    def send(self, frm: str, to: str | None = None, value: int = 0, data: str = "0x") -> dict:
        tx = {"from": frm, "value": hex(value), "data": data, "gas": hex(3_000_000)}
        if to:
            tx["to"] = to
        tx_hash = self.rpc("eth_sendTransaction", tx)
        return self.rpc("eth_getTransactionReceipt", tx_hash)


@pytest.fixture(scope="module")
def ganache() -> Iterator[Node]:
    if shutil.which("node") is None or not GANACHE.exists():
        pytest.skip("node or node_modules/.bin/ganache is absent (npm install ganache@7.9.2)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(GANACHE), "--server.port", str(port), "--server.host", "127.0.0.1",
                             "--wallet.totalAccounts", "3", "--chain.chainId", "1337", "--miner.instamine", "eager",
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
                pytest.fail(f"ganache did not start: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
            time.sleep(0.3)
    try:
        yield node
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_eth_token_and_mixer_transfers_arrive_exactly_once(ganache: Node, tmp_path: Path) -> None:
    a0, a1, a2 = ganache.rpc("eth_accounts")
    supply = 10**15
    token = ganache.send(a0, data=CONTRACTS["TestToken"]["bytecode"] + word(supply))["contractAddress"]
    mixer = ganache.send(a0, data=CONTRACTS["MockMixer"]["bytecode"])["contractAddress"]
    big = 123_456_789_012_345_678_901  # above 2**64 wei
    expected_native = {}
    for frm, to, value in ((a0, a1, 10**18), (a1, a2, 5 * 10**17), (a0, a2, big)):
        r = ganache.send(frm, to, value)
        expected_native[r["transactionHash"]] = (frm, to, value)
    transfer = selector("transfer(address,uint256)")
    ganache.send(a0, token, data="0x" + transfer + word(a1) + word(1_000_000))
    ganache.send(a1, token, data="0x" + transfer + word(a2) + word(250_000))
    failed = ganache.send(a0, token, value=1)  # no payable fallback: reverts, moves nothing
    assert failed["status"] == "0x0"
    commitment = "0x" + "ab" * 32
    dep = ganache.send(a1, mixer, 10**18, "0x" + selector("deposit(bytes32)") + word(commitment))
    expected_native[dep["transactionHash"]] = (a1, mixer, 10**18)
    nullifier = "0x" + "cd" * 32
    ganache.send(a0, mixer, data="0x" + selector("withdraw(address,bytes32,address,uint256)") + word(a2)
                 + word(nullifier) + word(a1) + word(10**16))

    chain_dir = tmp_path / "chain"
    ingest(chain_dir, fmt="rpc", chain="ethereum", source=ganache.url, show_progress=False, batch_blocks=4)
    store = ChainStore(chain_dir)
    rows = store.transfers("ethereum").to_pylist()
    ids = sorted({r["from_id"] for r in rows} | {r["to_id"] for r in rows})
    name = dict(zip(ids, store.addresses("ethereum", ids), strict=True))
    native = {r["tx_hash"]: (name[r["from_id"]], name[r["to_id"]], join_amount(r["amount_hi"], r["amount_lo"]))
              for r in rows if r["kind"] == "native"}
    assert native == expected_native
    assert len([r for r in rows if r["kind"] == "native"]) == len(expected_native)
    tokens = sorted((name[r["from_id"]], name[r["to_id"]], join_amount(r["amount_hi"], r["amount_lo"]))
                    for r in rows if r["kind"] == "token")
    zero = "0x" + "0" * 40
    assert tokens == sorted([(zero, a0, supply), (a0, a1, 1_000_000), (a1, a2, 250_000)])
    assets = {a["contract"]: a for a in store.assets("ethereum").to_pylist()}
    assert (assets[token]["symbol"], assets[token]["decimals"]) == ("TTD", 6)
    events = {e["event"]: e for e in store.events("ethereum").to_pylist()}
    assert events["tornado_deposit"]["commitment"] == commitment
    wd = events["tornado_withdrawal"]
    assert wd["nullifier"] == nullifier and join_amount(wd["fee_hi"], wd["fee_lo"]) == 10**16
    assert store.addresses("ethereum", [wd["to_id"], wd["relayer_id"], wd["contract_id"]]) == [a2, a1, mixer]

    before = store.transfers("ethereum")
    ingest(chain_dir, fmt="rpc", chain="ethereum", source=ganache.url, from_block=0, show_progress=False)
    assert store.transfers("ethereum").equals(before)

    late = ganache.send(a2, a0, 7)
    ingest(chain_dir, fmt="rpc", chain="ethereum", source=ganache.url, show_progress=False)
    after = store.transfers("ethereum").to_pylist()
    assert len(after) == len(rows) + 1
    assert [r["tx_hash"] for r in after].count(late["transactionHash"]) == 1
    head = int(str(ganache.rpc("eth_blockNumber")), 16)
    assert store.stats()["chains"]["ethereum"]["block_ranges"] == [[0, head]]


def test_follow_mode_picks_up_new_blocks_until_interrupted(ganache: Node, tmp_path: Path) -> None:
    import os
    import signal
    import sys

    a0, a1, _ = ganache.rpc("eth_accounts")
    home = tmp_path / "home"
    env = {**os.environ, "TRILATERAL_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", "ethereum", "--format",
                             "rpc", "--follow", ganache.url], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        store = ChainStore(home / "chain")
        sent = [ganache.send(a0, a1, 1000 + i)["transactionHash"] for i in range(3)]
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            if store.chains():
                seen = store.transfers("ethereum", columns=["tx_hash"]).column("tx_hash").to_pylist()
                if set(sent) <= set(seen):
                    break
            time.sleep(0.3)
        assert set(sent) <= set(seen) and len(seen) == len(set(seen))
    finally:
        proc.send_signal(signal.SIGTERM)  # SIGINT may be ignored when the test runner itself runs in background
        proc.wait(30)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 130, err[-800:]  # stopped like Ctrl-C: "error: interrupted"


def _log_emitter(topic0: str, indexed: bool) -> str:
    """Init code of a contract that emits one issuer blacklist event for the address in its calldata:
    Tether's shape (LOG1, the address in data) or Circle's (LOG2, the address indexed)."""
    if indexed:  # LOG2(0, 0, topic0, calldata[0])
        runtime = "600035" + "7f" + topic0[2:] + "6000" + "6000" + "a2" + "00"
    else:  # mstore(0, calldata[0]); LOG1(0, 32, topic0)
        runtime = "600035" + "600052" + "7f" + topic0[2:] + "6020" + "6000" + "a1" + "00"
    size = len(runtime) // 2
    return "0x" + f"60{size:02x}80600b6000396000f3" + runtime


def test_issuer_blacklist_events_are_stored(ganache: Node, tmp_path: Path) -> None:
    from trilateral.chain.ethereum_etl import BLACKLIST_TOPICS

    a0, a1, a2 = ganache.rpc("eth_accounts")
    topic = {name: t for t, name in BLACKLIST_TOPICS.items()}
    tether = ganache.send(a0, data=_log_emitter(topic["AddedBlackList"], indexed=False))["contractAddress"]
    circle = ganache.send(a0, data=_log_emitter(topic["Blacklisted"], indexed=True))["contractAddress"]
    first = int(str(ganache.rpc("eth_blockNumber")), 16) + 1
    added = ganache.send(a0, tether, data="0x" + word(a1))["transactionHash"]
    listed = ganache.send(a0, circle, data="0x" + word(a2))["transactionHash"]
    chain_dir = tmp_path / "chain"
    ingest(chain_dir, fmt="rpc", chain="ethereum", source=ganache.url, show_progress=False, from_block=first)
    store = ChainStore(chain_dir)
    events = [e for e in store.events("ethereum").to_pylist() if e["event"] in topic]
    got = {(e["event"], e["tx_hash"], *store.addresses("ethereum", [e["to_id"], e["contract_id"]])) for e in events}
    assert got == {("AddedBlackList", added, a1, tether), ("Blacklisted", listed, a2, circle)}
