"""The UTXO trace over an ingested bitcoin-etl file: a peel chain paying an exchange deposit address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.trace import TraceOptions, Tracer, build_findings, explain
from trilateral.trace.roles import StaticLabels

T0 = 1_767_225_600
BTC = 100_000_000
THIEF, C1, C2, DEP, HOT, OTHER = ("bc1qthief", "bc1qchange1", "bc1qchange2", "bc1qdeposit", "bc1qhot", "bc1qother")


def tx(n: int, inputs: list[tuple[str, int, str, int]], outputs: list[tuple[str, int]], coinbase: bool = False):
    return {"hash": f"{n:064x}", "block_number": n, "block_timestamp": T0 + n * 600, "is_coinbase": coinbase,
            "inputs": [{"index": i, "spent_transaction_hash": h, "spent_output_index": o, "addresses": [a],
                        "value": v} for i, (h, o, a, v) in enumerate(inputs)],
            "outputs": [{"index": i, "addresses": [a], "value": v} for i, (a, v) in enumerate(outputs)]}


@pytest.fixture
def store(home: Path, tmp_path: Path) -> ChainStore:
    rows = [
        tx(1, [], [(THIEF, 10 * BTC)], coinbase=True),  # the theft lands at THIEF
        tx(2, [(f"{1:064x}", 0, THIEF, 10 * BTC)], [(DEP, 1 * BTC), (C1, 9 * BTC - 1000)]),  # peel 1
        tx(3, [(f"{2:064x}", 1, C1, 9 * BTC - 1000)], [(OTHER, 1 * BTC), (C2, 8 * BTC - 2000)]),  # peel 2
        tx(4, [(f"{2:064x}", 0, DEP, 1 * BTC)], [(HOT, 1 * BTC - 500)]),  # the exchange sweeps its deposit
    ]
    src = tmp_path / "btc"
    src.mkdir()
    (src / "transactions.json").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(home / "chain", fmt="etl", source=str(src), chain="bitcoin", show_progress=False)
    return ChainStore(home / "chain")


LABELS = StaticLabels({("bitcoin", HOT): [("exchange", "Sakura Exchange", "JP")]})


@pytest.mark.parametrize("policy", ["haircut", "fifo", "poison"])
def test_peel_chain_pays_the_deposit_address(store, policy):
    result = Tracer(store, LABELS).trace("bitcoin", [THIEF], TraceOptions(policy=policy, after=T0))
    f = build_findings(result)
    assert [(o["address"], o["amount_base_units"], o["entity"], o["jurisdiction"]) for o in f["offramps"]] == \
        [(DEP, str(1 * BTC), "Sakura Exchange", "JP")]
    assert result.holdings[("bitcoin", C2, "BTC")] == 8 * BTC - 2000  # the chain goes on, all tainted
    steps = explain(result, DEP)[0]["steps"]
    assert [s["kind"] for s in steps] == ["peel"] or [s["to"] for s in steps] == [DEP]
