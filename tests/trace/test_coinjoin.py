"""Bitcoin CoinJoin (Wasabi/Whirlpool-style equal outputs): detected, taint carried by the CoinJoin
policy (haircut over the indistinguishable outputs, or poison), flagged in the findings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.errors import InputError
from trilateral.trace import FINDINGS_SCHEMA, TraceOptions, Tracer, build_findings
from trilateral.trace.roles import StaticLabels
from trilateral.trace.utxo_pass import UtxoTx, coinjoin_denomination

T0 = 1_767_225_600
BTC = 100_000_000
THIEF, P1, P2, P3, HOT, TC = "bc1qthief", "bc1qp1", "bc1qp2", "bc1qp3", "bc1qhot", "bc1qthiefchange"
MIXED = ["bc1qo1", "bc1qo2", "bc1qo3", "bc1qo4"]
LABELS = StaticLabels({("bitcoin", HOT): [("exchange", "Sakura Exchange", "JP")]})


def tx(n: int, inputs: list[tuple[int, int, str, int]], outputs: list[tuple[str, int]]) -> dict:
    return {"hash": f"{n:064x}", "block_number": n, "block_timestamp": T0 + n * 600, "is_coinbase": not inputs,
            "inputs": [{"index": i, "spent_transaction_hash": f"{h:064x}", "spent_output_index": o, "addresses": [a],
                        "value": v} for i, (h, o, a, v) in enumerate(inputs)],
            "outputs": [{"index": i, "addresses": [a], "value": v} for i, (a, v) in enumerate(outputs)]}


@pytest.fixture
def store(home: Path, tmp_path: Path) -> ChainStore:
    """The thief joins 2 BTC with three honest 1 BTC inputs into four 1 BTC outputs and its change;
    one equal output later pays an exchange."""
    rows = [tx(1, [], [(THIEF, 2 * BTC)]), tx(2, [], [(P1, BTC)]), tx(3, [], [(P2, BTC)]), tx(4, [], [(P3, BTC)]),
            tx(5, [(1, 0, THIEF, 2 * BTC), (2, 0, P1, BTC), (3, 0, P2, BTC), (4, 0, P3, BTC)],
               [*((o, BTC) for o in MIXED), (TC, BTC - 1000)]),
            tx(6, [(5, 0, MIXED[0], BTC)], [(HOT, BTC)])]
    src = tmp_path / "btc"
    src.mkdir()
    (src / "transactions.json").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ingest(home / "chain", fmt="etl", source=str(src), chain="bitcoin", show_progress=False)
    return ChainStore(home / "chain")


def findings(store: ChainStore, coinjoin: str) -> dict:
    result = Tracer(store, LABELS).trace("bitcoin", [THIEF], TraceOptions(after=T0, coinjoin=coinjoin))
    f = build_findings(result)
    jsonschema.validate(f, FINDINGS_SCHEMA)
    return f


@pytest.mark.parametrize(("policy", "credited"), [("haircut", 2 * BTC // 5), ("poison", BTC)])
def test_coinjoin_carries_taint_by_policy_and_is_flagged(store, policy, credited):
    f = findings(store, policy)
    (cj,) = f["mixer"]["coinjoins"]
    assert (cj["tx_hash"], cj["equal_outputs"], cj["input_addresses"], cj["policy"]) == (f"{5:064x}", 4, 4, policy)
    assert cj["denomination_base_units"] == str(BTC) and cj["tainted_in_base_units"] == str(2 * BTC)
    (hot,) = f["offramps"]
    assert hot["entity"] == "Sakura Exchange" and int(hot["amount_base_units"]) == credited
    assert int(hot["via_mixer_base_units"]) == credited  # marked as having crossed a mixer
    if policy == "haircut":  # value conserved: 2/5 of every output and of the fee
        assert int(cj["tainted_out_base_units"]) == 2 * BTC - 400
    else:
        assert int(cj["tainted_out_base_units"]) == 5 * BTC - 1000


def test_a_batch_payout_from_one_sender_is_not_a_coinjoin():
    batch = UtxoTx("b", T0, 1, [("x", 0, THIEF, 4 * BTC)], [(i, o, BTC) for i, o in enumerate(MIXED)])
    assert coinjoin_denomination(batch) is None
    joined = UtxoTx("j", T0, 1, [("x", i, a, BTC) for i, a in enumerate([THIEF, P1, P2])],
                    [(i, o, BTC) for i, o in enumerate(MIXED[:3])])
    assert coinjoin_denomination(joined) == (BTC, 3)


def test_unknown_coinjoin_policy_is_a_clear_error(store):
    with pytest.raises(InputError, match="--coinjoin"):
        Tracer(store, LABELS).trace("bitcoin", [THIEF], TraceOptions(after=T0, coinjoin="fifo"))
