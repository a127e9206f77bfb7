"""Nothing is created or lost except by the genesis faucet, token mints, coinbase and fees (re-read from files)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.sim.conftest import read_btc, read_csv
from trilateral.sim.btc_chain import SUBSIDY
from trilateral.sim.encoding import ZERO_ADDRESS

SCENARIOS = ["lazarus-bridge-hack", "peel-chain-btc", "direct-to-exchange"]


def eth_movements(eth_dir) -> list[tuple]:
    """(block, tx_index, order, from, to, asset, amount) for every native, token and internal transfer."""
    tokens = {t["address"]: t["symbol"] for t in read_csv(eth_dir / "tokens.csv")}
    index = {}
    moves = []
    for tx in read_csv(eth_dir / "transactions.csv"):
        index[tx["hash"]] = int(tx["transaction_index"])
        if int(tx["value"]):
            moves.append((int(tx["block_number"]), int(tx["transaction_index"]), -1, tx["from_address"],
                          tx["to_address"], "ETH", int(tx["value"])))
    for tt in read_csv(eth_dir / "token_transfers.csv"):
        moves.append((int(tt["block_number"]), index[tt["transaction_hash"]], int(tt["log_index"]),
                      tt["from_address"], tt["to_address"], tokens[tt["token_address"]], int(tt["value"])))
    for tr in read_csv(eth_dir / "traces.csv"):
        moves.append((int(tr["block_number"]), int(tr["transaction_index"]), 10**6 + int(tr["trace_address"]),
                      tr["from_address"], tr["to_address"], "ETH", int(tr["value"])))
    moves.sort(key=lambda m: m[:3])
    return moves


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_ethereum_account_ever_spends_more_than_it_holds(outputs, scenario):
    eth_dir = outputs[scenario] / "ethereum"
    faucet = read_csv(eth_dir / "blocks.csv")[0]["miner"]
    balance: dict = defaultdict(int)
    created = defaultdict(int)
    for _, _, _, sender, receiver, asset, amount in eth_movements(eth_dir):
        if (sender == faucet and asset == "ETH") or (sender == ZERO_ADDRESS and asset != "ETH"):
            created[asset] += amount
        else:
            balance[sender, asset] -= amount
            assert balance[sender, asset] >= 0, f"{sender} overspent {asset}"
        balance[receiver, asset] += amount
    # conservation: what exists is exactly what the faucet and the mints created
    for asset, total in created.items():
        held = sum(v for (a, s), v in balance.items() if s == asset and a not in (faucet, ZERO_ADDRESS))
        assert held == total


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_bitcoin_spends_each_output_once_and_inputs_equal_outputs_plus_fee(outputs, scenario):
    unspent: dict = {}
    fees_by_block: dict = defaultdict(int)
    coinbase_by_block: dict = {}
    for tx in read_btc(outputs[scenario] / "bitcoin" / "transactions.json"):
        assert tx["output_value"] == sum(o["value"] for o in tx["outputs"])
        if tx["is_coinbase"]:
            assert tx["inputs"] == [] and tx["fee"] == 0 and tx["index"] == 0
            coinbase_by_block[tx["block_number"]] = tx["output_value"]
        else:
            for i in tx["inputs"]:
                key = (i["spent_transaction_hash"], i["spent_output_index"])
                assert key in unspent, f"{tx['hash']} spends missing or spent output {key}"
                address, value = unspent.pop(key)
                assert i["addresses"] == [address] and i["value"] == value
            assert tx["input_value"] == sum(i["value"] for i in tx["inputs"])
            assert tx["fee"] == tx["input_value"] - tx["output_value"] >= 0
            fees_by_block[tx["block_number"]] += tx["fee"]
        for o in tx["outputs"]:
            assert o["value"] > 0
            unspent[tx["hash"], o["index"]] = (o["addresses"][0], o["value"])
    for height, value in coinbase_by_block.items():
        if height > 0:  # block 0 is the genesis allocation
            assert value == SUBSIDY + fees_by_block[height]
