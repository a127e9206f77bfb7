"""The EVM family from one table of chains: each chain's etl export ingests into its own store with its
native asset and stablecoins, Tether's blacklist is a freeze event, explorer files and traces work on
any of them, and an unknown chain is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.chain.etl_data import EtlData, addr, h32, word
from trilateral.chain import ChainStore
from trilateral.cli import app
from trilateral.core.chains import CHAINS, EVM_CHAINS
from trilateral.core.settings import Settings

FAMILY = [c for c in EVM_CHAINS if c != "ethereum"]
TETHER_BLACKLIST = "0x42e160154868087d6bfdc0ca23d96a1c1cfa32f1b72ba9ba27b69b98a0d819dc"
runner = CliRunner()


def _invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _export(chain: str, out: Path) -> tuple[str, str, int]:
    """A native payment, a stablecoin payment and the issuer blacklisting the receiver."""
    stable, (issuer, ticker, decimals) = next(iter(CHAINS[chain].tokens.items()))
    data = EtlData()
    data.block(100, 1_760_000_000)
    data.tx(100, 0, addr(1), addr(2), 3 * 10**18)
    th = data.tx(100, 1, addr(2), stable, 0)
    data.token(stable, ticker, decimals)
    data.token_transfer(th, 100, 0, stable, addr(2), addr(3), 5 * 10**decimals)
    bl = data.tx(100, 2, addr(9), stable, 0)
    data.log(bl, 100, 1, stable, [TETHER_BLACKLIST], "0x" + word(addr(3)))
    data.write(out)
    return th, ticker, decimals


@pytest.mark.parametrize("chain", FAMILY)
def test_each_chain_ingests_with_its_native_asset_and_stablecoin(chain: str, home: Path, tmp_path: Path) -> None:
    _, ticker, decimals = _export(chain, tmp_path / chain)
    report = json.loads(_invoke("chain", "ingest", "--chain", chain.upper(), "--format", "etl", str(tmp_path / chain),
                                "--json").stdout)
    assert report["chain"] == chain and report["bad_row_count"] == 0
    store = ChainStore(Settings.from_env().chain_dir)
    assets = {a["symbol"]: a["decimals"] for a in store.assets(chain).to_pylist()}
    assert assets == {CHAINS[chain].native: 18, ticker: decimals}
    stats = json.loads(_invoke("chain", "stats", "--json").stdout)["chains"]
    assert list(stats) == [chain] and stats[chain]["transfers"] == 2
    assert (stats[chain]["chain_id"], stats[chain]["native"]) == (CHAINS[chain].chain_id, CHAINS[chain].native)
    [event] = store.events(chain).to_pylist()
    assert event["event"] == "AddedBlackList" and store.addresses(chain, [event["to_id"]]) == [addr(3)]


def test_trace_on_bsc_reaches_an_exchange_in_bnb(home: Path, tmp_path: Path) -> None:
    data = EtlData()
    data.block(10, 1_760_000_000)
    data.block(11, 1_760_000_003)
    data.block(12, 1_760_000_006)
    theft = data.tx(10, 0, addr(1), addr(2), 9 * 10**18)
    data.tx(11, 0, addr(2), addr(3), 9 * 10**18)  # the deposit address ...
    data.tx(12, 0, addr(3), addr(4), 9 * 10**18)  # ... forwards to the exchange's hot wallet
    data.write(tmp_path / "bsc")
    _invoke("chain", "ingest", "--chain", "bsc", "--format", "etl", str(tmp_path / "bsc"))
    pack = {"title": "t", "creator": "test", "is_public": True, "lastmod": "2026-01-01",
            "tags": [{"address": addr(4), "currency": "BSC", "label": "Hangang Exchange hot wallet",
                      "category": "exchange", "source": "test", "confidence": "ownership"}]}
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(pack))
    _invoke("labels", "import", str(tmp_path / "labels.yaml"))
    out = tmp_path / "findings.json"
    _invoke("trace", "--chain", "bsc", "--from", theft, "--json", str(out))
    [off] = json.loads(out.read_text())["offramps"]
    assert (off["chain"], off["asset"], off["amount_base_units"]) == ("bsc", "BNB", str(9 * 10**18))
    assert off["address"] in (addr(3), addr(4))


def test_explorer_files_of_another_evm_chain(home: Path, tmp_path: Path) -> None:
    usdt = "0xc2132d05d31c914a87c6611c10748aeb04b58e8f"  # USDT on Polygon (PolygonScan answers like Etherscan)
    rows = [{"blockNumber": "5", "timeStamp": "1760000000", "hash": h32("p", 1), "from": addr(1), "to": addr(2),
             "contractAddress": usdt, "value": "1234567", "tokenName": "Tether USD", "tokenSymbol": "USDT",
             "tokenDecimal": "6", "transactionIndex": "0", "blockHash": h32("b", 5)}]
    path = tmp_path / f"tokentx-{addr(1)}.json"
    path.write_text(json.dumps({"status": "1", "message": "OK", "result": rows}))
    _invoke("chain", "ingest", "--chain", "polygon", "--format", "etherscan", str(path))
    t = ChainStore(Settings.from_env().chain_dir).transfers("polygon").to_pylist()
    assert [(r["amount_lo"], r["kind"]) for r in t] == [(1234567, "token")]


def test_unknown_chain_and_wrong_format_are_one_clear_line(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["chain", "ingest", "--chain", "dogechain", "--format", "etl", str(tmp_path)])
    assert result.exit_code != 0 and "unknown chain 'dogechain'" in str(result.exception)
    assert "tron" in str(result.exception)  # the message lists the chains there are
    result = runner.invoke(app, ["chain", "ingest", "--chain", "bsc", "--format", "tron-node", str(tmp_path)])
    assert result.exit_code != 0 and "use --chain tron" in str(result.exception)


def test_watch_knows_the_chains_of_the_table(home: Path) -> None:
    result = runner.invoke(app, ["watch", "--rpc", "dogechain=http://127.0.0.1:1", "--once"])
    assert result.exit_code != 0 and "unknown chain 'dogechain'" in str(result.exception)
    result = runner.invoke(app, ["watch", "--rpc", "tron=http://127.0.0.1:1", "--once"])
    assert result.exit_code != 0 and "not built yet" in str(result.exception)
