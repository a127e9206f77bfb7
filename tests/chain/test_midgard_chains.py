"""Midgard swaps on THORChain's BSC and Avalanche pools: links onto the right chains, token amounts in
the decimals of the token's own chain (BSC USDT has 18)."""

from __future__ import annotations

import json
from pathlib import Path

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest

BSC_USDT = "0x55d398326f99059ff775485246999027b3197955"


def _swap(in_asset: str, in_amount: str, in_addr: str, out_asset: str, out_amount: str, out_addr: str, n: int) -> dict:
    return {"date": str(1_700_000_000_000_000_000 + n), "height": str(100 + n), "type": "swap", "status": "success",
            "in": [{"address": in_addr, "coins": [{"amount": in_amount, "asset": in_asset}], "txID": f"{n:064X}"}],
            "out": [{"address": out_addr, "coins": [{"amount": out_amount, "asset": out_asset}],
                     "txID": f"{n + 1000:064X}", "height": str(101 + n)}],
            "pools": [in_asset, out_asset], "metadata": {"swap": {"memo": f"=:{out_asset}:{out_addr}", "txType": "swap"}}}


def test_bsc_and_avalanche_pools(tmp_path: Path) -> None:
    eth_thief, bsc_thief, avax_user = "0x" + "AB" * 20, "0x" + "CD" * 20, "0x" + "EF" * 20
    doc = {"actions": [_swap("ETH.ETH", "250000000", eth_thief, f"BSC.USDT-{BSC_USDT.upper()}", "612345678901",
                             bsc_thief, 1),
                       _swap("AVAX.AVAX", "1000000000", avax_user, "BSC.BNB", "3000000", bsc_thief, 2)],
           "count": "2", "meta": {"nextPageToken": "", "prevPageToken": ""}}
    (tmp_path / "actions.json").write_text(json.dumps(doc))
    ingest(tmp_path / "store", fmt="midgard", source=str(tmp_path / "actions.json"), show_progress=False)
    eth_bsc, avax_bsc = ChainStore(tmp_path / "store").crosschain_links().to_pylist()
    assert (eth_bsc["in_chain"], eth_bsc["out_chain"], avax_bsc["in_chain"], avax_bsc["out_chain"]) == (
        "ethereum", "bsc", "avalanche", "bsc")
    assert eth_bsc["in_amount"] == str(250_000_000 * 10**10)  # 2.5 ETH in wei
    assert eth_bsc["out_amount"] == str(612_345_678_901 * 10**10)  # 6,123.45678901 USDT, 18 decimals on BSC
    assert eth_bsc["out_address"] == bsc_thief.lower() and eth_bsc["out_tx"] == "0x" + f"{1001:064x}"
    assert (avax_bsc["in_amount"], avax_bsc["out_amount"]) == (str(10 * 10**18), str(3_000_000 * 10**10))
    assert avax_bsc["confidence"] is None  # THORChain states its links
