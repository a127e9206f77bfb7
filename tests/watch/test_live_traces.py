"""`watch --traces` against a real ganache: a contract that forwards stolen ETH by an internal call
hides it from a watch without traces; with traces (ganache answers `debug_traceTransaction` with
struct logs) the forward is followed to the exchange. Parsers of the other nodes' trace shapes are
checked on their documented JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.watch.live import ETH, ganache, setup_world
from tests.watch.test_live_ganache import open_case
from trilateral.core.settings import Settings
from trilateral.demo.live_chain import word
from trilateral.hub import Hub
from trilateral.watch.evm import EvmAdapter
from trilateral.watch.evm_traces import from_call_frame, from_parity
from trilateral.watch.runner import Watcher

# runtime: CALL(gas, to=calldata[0], value=callvalue, 0, 0, 0, 0); POP; STOP
FORWARDER = "6000600060006000346000355af15000"
# runtime: REVERT(0, 0) — a contract that refuses every payment
REFUSER = "60006000fd"


def deploy(w, runtime: str) -> str:
    init = "0x" + f"60{len(runtime) // 2:02x}80600b6000396000f3" + runtime
    return w.node.send(w.a["deployer"], data=init)["contractAddress"]


def watch_once(w, traces: bool, home: Path, monkeypatch: pytest.MonkeyPatch, start: int):
    """A fresh hub (its own database) watching from `start`: the alert lines and the case's holdings."""
    monkeypatch.setenv("TRILATERAL_HOME", str(home))
    monkeypatch.setenv("TRILATERAL_DATABASE_URL", f"sqlite:///{home / 'hub.sqlite3'}")
    settings = Settings.from_env()
    with Hub.open(settings) as hub:
        hub.init()
    case_id = open_case(settings, w, home.parent / f"labels-{traces}")
    lines: list[str] = []
    with Hub.open(settings) as hub:
        watcher = Watcher(hub, [EvmAdapter("ethereum", w.node.url, traces=traces)], from_block=start,
                          emit=lines.append)
        watcher.poll()
        return lines, watcher.core.cases[case_id].holdings()


@pytest.mark.ganache
def test_internal_forward_is_followed_only_with_traces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ganache() as node:
        w = setup_world(node)
        forwarder, refuser = deploy(w, FORWARDER), deploy(w, REFUSER)
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        w.send("thief", forwarder, 2 * ETH, "0x" + word(refuser))  # the inner call fails: ETH stays put
        w.send("thief", forwarder, 3 * ETH, "0x" + word(w.a["hot"]))  # forwarded to Upbit's hot wallet
        (tmp_path / "labels-False").mkdir()
        (tmp_path / "labels-True").mkdir()
        plain_lines, plain_hold = watch_once(w, False, tmp_path / "plain", monkeypatch, start)
        traced_lines, traced_hold = watch_once(w, True, tmp_path / "traced", monkeypatch, start)
    assert plain_lines == [] and plain_hold[(forwarder, "ETH")] == 5 * ETH  # without traces: stuck at the contract
    assert len(traced_lines) == 1 and traced_lines[0].split()[0] in ("exchange", "exchange_deposit")
    assert " 3 ETH " in traced_lines[0] and "Upbit" in traced_lines[0], traced_lines
    assert traced_hold.get((forwarder, "ETH")) == 2 * ETH  # the refused 2 ETH did not move
    assert (refuser, "ETH") not in traced_hold


def test_parity_trace_block_shape() -> None:
    tx = "0x" + "11" * 32
    traces = [
        {"transactionHash": tx, "traceAddress": [], "type": "call",
         "action": {"from": "0xA", "to": "0xB", "value": "0x5", "callType": "call"}},
        {"transactionHash": tx, "traceAddress": [0], "type": "call",
         "action": {"from": "0xB", "to": "0xC", "value": "0x3", "callType": "call"}},
        {"transactionHash": tx, "traceAddress": [1], "type": "call", "error": "Reverted",
         "action": {"from": "0xB", "to": "0xD", "value": "0x1", "callType": "call"}},
        {"transactionHash": tx, "traceAddress": [1, 0], "type": "call",
         "action": {"from": "0xD", "to": "0xE", "value": "0x1", "callType": "call"}},
        {"transactionHash": tx, "traceAddress": [2], "type": "call",
         "action": {"from": "0xB", "to": "0xF", "value": "0x7", "callType": "delegatecall"}},
        {"transactionHash": None, "traceAddress": [], "type": "reward", "action": {"author": "0xM", "value": "0x9"}},
    ]
    assert [(t.src, t.dst, t.amount) for t in from_parity(traces, "ETH")[tx]] == [("0xb", "0xc", 3)]


def test_geth_call_tracer_shape() -> None:
    frame = {"type": "CALL", "from": "0xA", "to": "0xB", "value": "0x5", "calls": [
        {"type": "CALL", "from": "0xB", "to": "0xC", "value": "0x3",
         "calls": [{"type": "CALL", "from": "0xC", "to": "0xG", "value": "0x1"}]},
        {"type": "CALL", "from": "0xB", "to": "0xD", "value": "0x1", "error": "execution reverted",
         "calls": [{"type": "CALL", "from": "0xD", "to": "0xE", "value": "0x1"}]},
        {"type": "DELEGATECALL", "from": "0xB", "to": "0xF", "value": "0x0"},
        {"type": "STATICCALL", "from": "0xB", "to": "0xH"}]}
    assert [(t.src, t.dst, t.amount) for t in from_call_frame(frame, "0x1", "ETH")] == \
        [("0xb", "0xc", 3), ("0xc", "0xg", 1)]


@pytest.mark.ganache
def test_issuer_blacklist_logs_reach_the_core() -> None:
    from tests.chain.test_rpc_ganache import _log_emitter
    from trilateral.chain.ethereum_etl import BLACKLIST_TOPICS

    topic = {name: t for t, name in BLACKLIST_TOPICS.items()}
    with ganache() as node:
        w = setup_world(node)
        tether = w.node.send(w.a["deployer"], data=_log_emitter(topic["AddedBlackList"], indexed=False))["contractAddress"]
        circle = w.node.send(w.a["deployer"], data=_log_emitter(topic["UnBlacklisted"], indexed=True))["contractAddress"]
        start = int(node.rpc("eth_blockNumber"), 16) + 1
        w.send("deployer", tether, 0, "0x" + word(w.a["stash"]))
        w.send("deployer", circle, 0, "0x" + word(w.a["fresh"]))
        adapter = EvmAdapter("ethereum", node.url)
        blocks = adapter.blocks(start, start + 1)
        adapter.close()
    assert [b.blacklists for b in blocks] == [[(tether, w.a["stash"], True)], [(circle, w.a["fresh"], False)]]
