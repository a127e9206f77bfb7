"""`lazarus-bridge-tron`: deterministic, real formats that ingest with zero bad rows, and ground truth
that says exactly what the data shows (every step a stored transfer, off-ramps what deposits received)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.amount import join_amount
from trilateral.sim import generate

SMALL = 5_000


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ChainStore]:
    root = tmp_path_factory.mktemp("multichain")
    generate("lazarus-bridge-tron", SMALL, 5, root / "sim")
    for chain, fmt in (("ethereum", "etl"), ("bsc", "etl"), ("tron", "tron-node")):
        report = ingest(root / "chain", fmt=fmt, chain=chain, source=str(root / "sim" / chain), show_progress=False)
        assert report.bad_row_count == 0 and not [n for n in report.notes if "estimated" in n], report.as_dict()
    return root / "sim", ChainStore(root / "chain")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_files(world, tmp_path: Path) -> None:
    sim, _ = world
    generate("lazarus-bridge-tron", SMALL, 5, tmp_path / "again")
    generate("lazarus-bridge-tron", SMALL, 6, tmp_path / "other")
    assert _digest(tmp_path / "again") == _digest(sim) != _digest(tmp_path / "other")


def test_every_step_is_a_stored_transfer_and_offramps_are_what_deposits_received(world) -> None:
    sim, store = world
    truth = json.loads((sim / "ground_truth.json").read_text())
    moves: dict[str, set] = {}
    received: dict[tuple[str, str], int] = defaultdict(int)
    for chain in ("ethereum", "bsc", "tron"):
        t = store.transfers(chain).to_pylist()
        ids = sorted({r["from_id"] for r in t} | {r["to_id"] for r in t})
        text = dict(zip(ids, store.addresses(chain, ids), strict=True))
        moves[chain] = {(r["tx_hash"], text[r["from_id"]], text[r["to_id"]], join_amount(r["amount_hi"], r["amount_lo"]))
                        for r in t}
        for r in t:
            received[chain, text[r["to_id"]]] += join_amount(r["amount_hi"], r["amount_lo"])
    kinds = {s["kind"] for s in truth["steps"]}
    assert {"theft", "bridge", "bridge_out", "exchange_deposit"} <= kinds
    for step in truth["steps"]:
        key = (step["tx_hash"], step["from"], step["to"], int(step["amount_base_units"]))
        assert key in moves[step["chain"]], step
    assert truth["offramps"]
    for o in truth["offramps"]:
        assert o["chain"] == "tron" and o["address"].startswith("T")
        assert received["tron", o["address"]] == int(o["amount_base_units"])
    # value is conserved along the route: off-ramps + dormant + bridge fees = stolen (in USD cents)
    stolen = sum(int(s["amount_base_units"]) for s in truth["stolen"])  # USDT, 6 decimals
    out = sum(int(o["amount_base_units"]) for o in truth["offramps"]) + \
        sum(int(d["amount_base_units"]) // (10**12 if d["chain"] == "bsc" else 1) for d in truth["dormant"])
    assert 0.99 * stolen <= out <= stolen
