"""The files are shaped exactly as ethereum-etl, bitcoin-etl, Midgard, GraphSense and STIX 2.1 write them."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.sim.conftest import ground_truth, read_btc, read_csv
from trilateral.sim.encoding import TOPIC_TORNADO_DEPOSIT, TOPIC_TORNADO_WITHDRAWAL, TOPIC_TRANSFER
from trilateral.sim.eth_tables import FILES
from trilateral.sim.world import MIXER_POOLS

ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
HASH = re.compile(r"^0x[0-9a-f]{64}$")
DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


@pytest.mark.parametrize("name", list(FILES))
def test_ethereum_etl_headers_in_ethereum_etl_order(outputs, name):
    for out in outputs.values():
        header = (out / "ethereum" / f"{name}.csv").read_text().split("\n", 1)[0]
        assert header.replace('"', "").split(",") == FILES[name]


def test_ethereum_rows_are_lower_case_hex_and_decimal_base_units(outputs):
    out = outputs["lazarus-bridge-hack"] / "ethereum"
    blocks = read_csv(out / "blocks.csv")
    assert [int(b["number"]) for b in blocks] == list(range(len(blocks)))
    assert all(b["parent_hash"] == a["hash"] for a, b in zip(blocks, blocks[1:], strict=False))
    block_hash = {b["number"]: b["hash"] for b in blocks}
    block_time = {b["number"]: b["timestamp"] for b in blocks}
    txs = read_csv(out / "transactions.csv")
    for tx in txs:
        assert HASH.match(tx["hash"]) and ADDRESS.match(tx["from_address"]) and ADDRESS.match(tx["to_address"])
        assert DECIMAL.match(tx["value"]) and tx["receipt_status"] == "1"
        assert tx["block_hash"] == block_hash[tx["block_number"]]
        assert tx["block_timestamp"] == block_time[tx["block_number"]]
    assert len({t["hash"] for t in txs}) == len(txs)
    keys = [(int(t["block_number"]), int(t["transaction_index"])) for t in txs]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for tt in read_csv(out / "token_transfers.csv"):
        assert ADDRESS.match(tt["token_address"]) and DECIMAL.match(tt["value"])
    for tr in read_csv(out / "traces.csv"):
        assert tr["trace_type"] == "call" and tr["status"] == "1" and tr["trace_address"] != ""


def test_every_token_transfer_is_a_transfer_log_of_the_same_transaction(outputs):
    out = outputs["direct-to-exchange"] / "ethereum"
    logs = {(lg["transaction_hash"], lg["log_index"]): lg for lg in read_csv(out / "logs.csv")}
    for tt in read_csv(out / "token_transfers.csv"):
        log = logs[tt["transaction_hash"], tt["log_index"]]
        topics = log["topics"].split(",")
        assert topics[0] == TOPIC_TRANSFER and log["address"] == tt["token_address"]
        assert topics[1][-40:] == tt["from_address"][2:] and topics[2][-40:] == tt["to_address"][2:]
        assert int(log["data"], 16) == int(tt["value"])


def test_tornado_events_are_abi_encoded_and_match_the_value_moved(outputs):
    out = outputs["lazarus-bridge-hack"] / "ethereum"
    txs = {t["hash"]: t for t in read_csv(out / "transactions.csv")}
    traces: dict[str, list] = {}
    for tr in read_csv(out / "traces.csv"):
        traces.setdefault(tr["transaction_hash"], []).append(tr)
    leaves: dict[str, list[int]] = {}
    withdrawals = 0
    for log in read_csv(out / "logs.csv"):
        topics = log["topics"].split(",")
        data = log["data"][2:]
        if topics[0] == TOPIC_TORNADO_DEPOSIT:
            assert len(topics) == 2 and HASH.match(topics[1]) and len(data) == 128
            tx = txs[log["transaction_hash"]]
            assert tx["to_address"] == log["address"] and MIXER_POOLS[int(tx["value"])] == log["address"]
            assert int(data[64:], 16) == int(tx["block_timestamp"])
            leaves.setdefault(log["address"], []).append(int(data[:64], 16))
        elif topics[0] == TOPIC_TORNADO_WITHDRAWAL:
            withdrawals += 1
            assert len(data) == 192
            recipient, fee = "0x" + data[24:64], int(data[128:], 16)
            relayer = "0x" + topics[1][-40:]
            paid = {(t["to_address"]): int(t["value"]) for t in traces[log["transaction_hash"]]}
            denomination = next(d for d, pool in MIXER_POOLS.items() if pool == log["address"])
            assert paid[recipient] == denomination - fee
            if fee:
                assert paid[relayer] == fee
    assert withdrawals > 0
    for pool, seen in leaves.items():
        assert seen == list(range(len(seen))), pool


def test_thorchain_router_input_carries_the_memo_and_midgard_points_at_real_btc_payouts(outputs):
    out = outputs["lazarus-bridge-hack"]
    txs = {t["hash"]: t for t in read_csv(out / "ethereum" / "transactions.csv")}
    btc = {t["hash"]: t for t in read_btc(out / "bitcoin" / "transactions.json")}
    doc = json.loads((out / "thorchain" / "actions.json").read_text())
    assert doc["count"] == str(len(doc["actions"])) and doc["actions"]
    for action in doc["actions"]:
        assert action["type"] == "swap" and action["status"] == "success" and action["date"].isdigit()
        (inbound,) = action["in"]
        (outbound,) = action["out"]
        assert inbound["txID"] == inbound["txID"].upper() and not inbound["txID"].startswith("0X")
        tx = txs["0x" + inbound["txID"].lower()]
        assert int(tx["value"]) == int(inbound["coins"][0]["amount"]) * 10**10
        memo = action["metadata"]["swap"]["memo"]
        assert memo.encode().hex() in tx["input"] and memo.endswith(outbound["address"])
        paid = btc[outbound["txID"].lower()]
        assert [o["value"] for o in paid["outputs"] if o["addresses"] == [outbound["address"]]] == [
            int(outbound["coins"][0]["amount"])]


def test_bitcoin_etl_fields(outputs):
    keys = ["hash", "size", "virtual_size", "version", "lock_time", "block_number", "block_hash", "block_timestamp",
            "is_coinbase", "index", "inputs", "outputs", "input_count", "output_count", "input_value",
            "output_value", "fee"]
    for tx in read_btc(outputs["peel-chain-btc"] / "bitcoin" / "transactions.json")[:500]:
        assert list(tx) == keys
        assert re.match(r"^[0-9a-f]{64}$", tx["hash"])
        for o in tx["outputs"]:
            assert o["type"] == "witness_v0_keyhash" and o["script_hex"] == "0014" + o["script_asm"][2:]
            assert o["addresses"][0].startswith("bc1q")


def test_labels_cover_services_but_never_deposit_or_thief_addresses(outputs):
    for out in outputs.values():
        pack = yaml.safe_load((out / "labels.yaml").read_text())
        assert {"title", "creator", "description", "is_public", "lastmod", "tags"} <= set(pack)
        labelled = {t["address"] for t in pack["tags"]}
        assert {t["category"] for t in pack["tags"]} == {"exchange", "mixing_service", "defi_dex", "bridge"}
        truth = ground_truth(out)
        assert not labelled & {o["address"] for o in truth["offramps"]}
        assert not labelled & {a for v in truth["thief_addresses"].values() for a in v}
        actors = yaml.safe_load((out / "actors.yaml").read_text())["actors"]
        assert {t["actor"] for t in pack["tags"]} <= {a["id"] for a in actors}
        jurisdictions = {j for a in actors for j in a["jurisdictions"]}
        assert {"US", "KR", "JP"} <= jurisdictions and all(re.match(r"^[A-Z]{2}$", j) for j in jurisdictions)


def test_incident_is_valid_stix_with_attack_techniques(outputs):
    import stix2
    from stix2validator import validate_string

    text = (outputs["lazarus-bridge-hack"] / "incident.json").read_text()
    assert validate_string(text).is_valid
    bundle = stix2.parse(text, allow_custom=True)
    kinds = [o.type for o in bundle.objects]
    assert kinds.count("incident") == 1
    ids = {r.external_id for o in bundle.objects if o.type == "attack-pattern" for r in o.external_references
           if r.source_name == "mitre-attack"}
    assert {"T1566.002", "T1204.002", "T1195.002", "T1059.007", "T1553.002", "T1105"} <= ids
    assert kinds.count("relationship") == kinds.count("attack-pattern")
