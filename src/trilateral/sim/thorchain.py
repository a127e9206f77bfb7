"""THORChain swaps as a Midgard v2 `/v2/actions` response (newest first, 1e8 fixed-point amounts)."""

from __future__ import annotations

from pathlib import Path

import orjson

from trilateral.sim.eth_events import BridgeSwap


def action(swap: BridgeSwap, btc_time: int) -> dict:
    """One successful ETH.ETH -> BTC.BTC swap action; txIDs upper-case hex without 0x, as Midgard shows them."""
    liquidity, network = swap.fees
    in_height = swap.time // 6  # THORChain blocks are ~6 s
    return {
        "date": str(swap.time * 10**9),
        "height": str(in_height),
        "in": [{"address": swap.in_address, "coins": [{"amount": str(swap.wei // 10**10), "asset": "ETH.ETH"}],
                "txID": swap.in_tx[2:].upper()}],
        "metadata": {"swap": {
            "affiliateAddress": "", "affiliateFee": "0", "isStreamingSwap": False,
            "liquidityFee": str(liquidity), "memo": swap.memo,
            "networkFees": [{"amount": str(network), "asset": "BTC.BTC"}],
            "swapSlip": "3", "swapTarget": "0", "txType": "swap"}},
        "out": [{"address": swap.btc_address, "coins": [{"amount": str(swap.out_sats), "asset": "BTC.BTC"}],
                 "height": str(btc_time // 6), "txID": swap.out_tx.upper()}],
        "pools": ["ETH.ETH", "BTC.BTC"],
        "status": "success",
        "type": "swap",
    }


def write_actions(path: Path, swaps: list[BridgeSwap], btc_time_of) -> int:
    """Write every swap that was paid out; returns how many."""
    done = [s for s in swaps if s.out_tx]
    done.sort(key=lambda s: (s.time, s.in_tx), reverse=True)
    actions = [action(s, btc_time_of(s.out_height)) for s in done]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({"actions": actions, "count": str(len(actions)),
                                   "meta": {"nextPageToken": "", "prevPageToken": ""}}, option=orjson.OPT_INDENT_2))
    return len(actions)
