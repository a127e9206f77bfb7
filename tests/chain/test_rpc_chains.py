"""The RPC path on ganache configured with each EVM chain's id: blocks land in that chain's store with
its native asset; a node of another chain is refused before anything is written."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.chains import CHAINS, EVM_CHAINS
from trilateral.core.errors import InputError

pytestmark = pytest.mark.ganache
GANACHE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "ganache"


def _rpc(url: str, method: str, *params: object) -> object:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                      timeout=30).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


FAMILY = [c for c in EVM_CHAINS if c != "ethereum"]


@pytest.fixture(scope="module")
def nodes() -> Iterator[dict[str, str]]:
    """One ganache per chain id, started together (start-up is most of the cost)."""
    if shutil.which("node") is None or not GANACHE.exists():
        pytest.skip("node or node_modules/.bin/ganache is absent (npm install ganache@7.9.2)")
    procs, urls = [], {}
    try:
        for chain in FAMILY:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            procs.append(subprocess.Popen(
                [str(GANACHE), "--server.port", str(port), "--server.host", "127.0.0.1", "--wallet.totalAccounts",
                 "2", "--chain.chainId", str(CHAINS[chain].chain_id), "--miner.instamine", "eager", "--logging.quiet"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls[chain] = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        for proc, url in zip(procs, urls.values(), strict=True):
            while True:
                try:
                    _rpc(url, "eth_chainId")
                    break
                except (httpx.HTTPError, RuntimeError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"ganache did not start: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
                    time.sleep(0.3)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize("chain", FAMILY)
def test_rpc_ingest_on_a_node_with_the_chains_id(chain: str, nodes: dict[str, str], tmp_path: Path) -> None:
    spec, url = CHAINS[chain], nodes[chain]
    assert int(_rpc(url, "eth_chainId"), 16) == spec.chain_id  # type: ignore[arg-type]
    a0, a1 = _rpc(url, "eth_accounts")  # type: ignore[misc]
    tx = _rpc(url, "eth_sendTransaction", {"from": a0, "to": a1, "value": hex(7 * 10**17)})
    report = ingest(tmp_path, fmt="rpc", chain=chain, source=url, show_progress=False)
    assert report.chain == chain and not report.bad_row_count
    if chain != "polygon":
        # the wrong chain's node is refused, nothing written
        other = "polygon"
        with pytest.raises(InputError, match=f"eth_chainId {spec.chain_id}"):
            ingest(tmp_path, fmt="rpc", chain=other, source=url, show_progress=False)
        assert other not in ChainStore(tmp_path).chains()
    store = ChainStore(tmp_path)
    [move] = store.transfers(chain).to_pylist()
    assert (move["tx_hash"], move["amount_lo"], move["asset_id"]) == (tx, 7 * 10**17, 0)
    assert store.assets(chain).to_pylist()[0]["symbol"] == spec.native
    assert store.addresses(chain, [move["from_id"], move["to_id"]]) == [a0.lower(), a1.lower()]
