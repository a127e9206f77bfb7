"""ground_truth.json says exactly what the written chain data shows."""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml

from tests.sim.conftest import ground_truth, read_btc, read_csv
from tests.sim.test_conservation import SCENARIOS, eth_movements


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_step_is_a_transfer_in_the_data(outputs, scenario):
    out = outputs[scenario]
    truth = ground_truth(out)
    eth_dir = out / "ethereum"
    tx_of = {r["hash"]: r for r in read_csv(eth_dir / "transactions.csv")}
    eth = {(m[3], m[4], m[5], m[6]) for m in eth_movements(eth_dir)}
    btc_out = {}
    btc_in = defaultdict(set)
    for tx in read_btc(out / "bitcoin" / "transactions.json"):
        for o in tx["outputs"]:
            btc_out[tx["hash"], o["addresses"][0], o["value"]] = True
        for i in tx["inputs"]:
            btc_in[tx["hash"]].add(i["addresses"][0])
    assert truth["steps"]
    for step in truth["steps"]:
        amount = int(step["amount_base_units"])
        if step["chain"] == "ethereum":
            assert step["tx_hash"] in tx_of
            assert (step["from"], step["to"], step["asset"], amount) in eth, step
        else:
            assert (step["tx_hash"], step["to"], amount) in btc_out, step
            assert step["from"] in btc_in[step["tx_hash"]], step


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_offramp_amounts_equal_what_the_deposit_addresses_received(outputs, scenario):
    out = outputs[scenario]
    truth = ground_truth(out)
    received: dict = defaultdict(int)
    swept_to: dict = defaultdict(set)
    for _, _, _, sender, receiver, asset, amount in eth_movements(out / "ethereum"):
        received["ethereum", receiver, asset] += amount
        swept_to["ethereum", sender].add(receiver)
    for tx in read_btc(out / "bitcoin" / "transactions.json"):
        for o in tx["outputs"]:
            received["bitcoin", o["addresses"][0], "BTC"] += o["value"]
        for i in tx["inputs"]:
            swept_to["bitcoin", i["addresses"][0]].update(o["addresses"][0] for o in tx["outputs"])
    claimed: dict = defaultdict(int)
    for o in truth["offramps"]:
        claimed[o["chain"], o["address"], o["asset"]] += int(o["amount_base_units"])
    assert claimed
    pack = yaml.safe_load((out / "labels.yaml").read_text())
    actor_label = {a["id"]: a["label"] for a in yaml.safe_load((out / "actors.yaml").read_text())["actors"]}
    hot_wallet_of = {t["address"]: actor_label[t["actor"]] for t in pack["tags"] if t["category"] == "exchange"}
    for key, amount in claimed.items():
        assert received[key] == amount, key
    for o in truth["offramps"]:
        swept = {hot_wallet_of.get(a) for a in swept_to[o["chain"], o["address"]]} - {None}
        assert swept in (set(), {o["entity"]})  # swept (if the sweep fell inside the period) to its exchange


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_stolen_seeds_and_dormant_balances_match_the_data(outputs, scenario):
    out = outputs[scenario]
    truth = ground_truth(out)
    thefts = defaultdict(int)
    for step in truth["steps"]:
        if step["kind"] == "theft":
            thefts[step["chain"], step["asset"]] += int(step["amount_base_units"])
    assert {(s["chain"], s["asset"]): int(s["amount_base_units"]) for s in truth["stolen"]} == dict(thefts)
    assert truth["seeds"] and truth["theft_time"].endswith("Z")
    # balances of thief addresses computed from the files equal the dormant list
    balance: dict = defaultdict(int)
    for _, _, _, sender, receiver, asset, amount in eth_movements(out / "ethereum"):
        balance["ethereum", sender, asset] -= amount
        balance["ethereum", receiver, asset] += amount
    unspent = {}
    for tx in read_btc(out / "bitcoin" / "transactions.json"):
        for i in tx["inputs"]:
            unspent.pop((i["spent_transaction_hash"], i["spent_output_index"]))
        for o in tx["outputs"]:
            unspent[tx["hash"], o["index"]] = (o["addresses"][0], o["value"])
    for address, value in unspent.values():
        balance["bitcoin", address, "BTC"] += value
    thieves = {(c, a) for c, v in truth["thief_addresses"].items() for a in v}
    held = {k: v for k, v in balance.items() if (k[0], k[1]) in thieves and v}
    dormant = {(d["chain"], d["address"], d["asset"]): int(d["amount_base_units"]) for d in truth["dormant"]}
    assert held == dormant


def test_lazarus_has_mixed_and_unmixed_offramps_direct_has_no_mixer(outputs):
    lazarus = ground_truth(outputs["lazarus-bridge-hack"])
    assert {o["via_mixer"] for o in lazarus["offramps"]} == {True, False}
    assert {o["chain"] for o in lazarus["offramps"]} == {"ethereum", "bitcoin"}
    kinds = {s["kind"] for s in lazarus["steps"]}
    assert {"dex_swap", "mixer_deposit", "mixer_withdrawal", "bridge", "bridge_out", "peel", "coinjoin",
            "gas_funding", "exchange_deposit", "exchange_sweep", "fan_out"} <= kinds
    assert len({o["jurisdiction"] for o in lazarus["offramps"]}) >= 3
    direct = ground_truth(outputs["direct-to-exchange"])
    assert not any(o["via_mixer"] for o in direct["offramps"])
    assert not {s["kind"] for s in direct["steps"]} & {"mixer_deposit", "mixer_withdrawal", "coinjoin", "bridge"}
