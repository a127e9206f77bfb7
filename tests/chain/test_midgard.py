"""THORChain Midgard swaps become cross-chain links with exact base-unit amounts and parsed memos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.chain.midgard import parse_memo, to_base_units

FIXTURE = Path(__file__).parent / "fixtures" / "midgard_actions.json"


def test_swaps_become_links_with_base_units_of_each_chain(tmp_path: Path) -> None:
    ingest(tmp_path, fmt="midgard", source=str(FIXTURE), show_progress=False)
    links = ChainStore(tmp_path).crosschain_links().to_pylist()
    assert len(links) == 2  # the addLiquidity action is not a swap
    eth_btc, btc_usdt = links
    assert (eth_btc["in_chain"], eth_btc["out_chain"]) == ("ethereum", "bitcoin")
    assert eth_btc["in_amount"] == str(150_000_000 * 10**10)  # 1.5 ETH in wei
    assert eth_btc["out_amount"] == "5432100"  # satoshi as is
    assert eth_btc["in_tx"] == "0x9f0e1d2c3b4a59687766554433221100aabbccddeeff00112233445566778899"
    assert eth_btc["in_address"] == "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"
    assert eth_btc["timestamp"] == 1_700_000_000
    assert (eth_btc["memo_asset"], eth_btc["memo_destination"], eth_btc["memo_limit"],
            eth_btc["memo_affiliate"], eth_btc["memo_fee_bps"]) == (
        "BTC.BTC", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", "5400000/1/0", "t", "20")
    assert btc_usdt["out_amount"] == "12345678"  # USDT has 6 decimals: 1234567899 / 100, truncated
    assert btc_usdt["out_address"] == "0xabc0000000000000000000000000000000000001"
    assert ChainStore(tmp_path).stats()["crosschain"]["links"] == 2


def test_overlapping_pages_do_not_duplicate_links(tmp_path: Path) -> None:
    ingest(tmp_path, fmt="midgard", source=str(FIXTURE), show_progress=False)
    doc = json.loads(FIXTURE.read_text())
    doc["actions"] = doc["actions"][1:]  # a later page that repeats one swap
    page = tmp_path / "page2.json"
    page.write_text(json.dumps(doc))
    ingest(tmp_path, fmt="midgard", source=str(page), show_progress=False)
    ingest(tmp_path, fmt="midgard", source=str(FIXTURE), show_progress=False)
    assert ChainStore(tmp_path).crosschain_links().num_rows == 2


@pytest.mark.parametrize(("memo", "asset", "dest", "limit"), [
    ("SWAP:ETH.ETH:0xabc:100", "ETH.ETH", "0xabc", "100"),
    ("=:b:bc1qdest:0/1/0:t:15", "BTC.BTC", "bc1qdest", "0/1/0"),
    ("s:e:0xdef", "ETH.ETH", "0xdef", None),
])
def test_memo_forms(memo: str, asset: str, dest: str, limit: str | None) -> None:
    parsed = parse_memo(memo)
    assert (parsed["action"], parsed["asset"], parsed["destination"], parsed["limit"]) == ("swap", asset, dest, limit)
    assert parse_memo("ADD:BTC.BTC:thor1")["action"] is None


def test_fixed_point_conversion_is_exact() -> None:
    assert to_base_units("1", 18) == 10**10
    assert to_base_units("123456789", 8) == 123456789
    assert to_base_units("199", 6) == 1
