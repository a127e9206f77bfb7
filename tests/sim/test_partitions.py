"""`--partition-blocks` writes ethereum-etl's export_all layout holding exactly the flat output's rows,
and the chain store ingests it partition by partition to the same transfers."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.core.errors import InputError
from trilateral.sim import generate

sim_generate = importlib.import_module("trilateral.sim.generate")  # the package re-exports the function

TABLES = ("blocks", "transactions", "token_transfers", "logs", "traces", "tokens")


def _rows(files: list[Path]) -> list[str]:
    rows: list[str] = []
    for path in files:
        rows += path.read_text().splitlines()[1:]
    return sorted(rows)


@pytest.fixture(scope="module")
def flat_and_partitioned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("partitions")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim_generate, "EVENTS_PER_CHUNK", 400)  # many chunks from a small run
        generate("lazarus-bridge-hack", 20_000, 5, root / "flat")
        generate("lazarus-bridge-hack", 20_000, 5, root / "parts", partition_blocks=40)
    return root / "flat", root / "parts"


def test_partitions_follow_the_export_all_layout_and_hold_the_same_rows(flat_and_partitioned):
    flat, parts = flat_and_partitioned
    ranges = sorted((int(m[1]), int(m[2])) for p in (parts / "ethereum" / "blocks").rglob("*.csv")
                    if (m := re.search(r"start_block=(\d+)/end_block=(\d+)/blocks_\1_\2\.csv$", p.as_posix())))
    assert len(ranges) >= 3
    assert ranges[0][0] == 0
    for (_, hi), (lo, _) in zip(ranges, ranges[1:], strict=False):
        assert lo == hi + 1  # contiguous, no gap or overlap
    for table in TABLES:
        in_parts = sorted((parts / "ethereum" / table).rglob("*.csv"))
        assert len(in_parts) == len(ranges), table
        assert _rows(in_parts) == _rows([flat / "ethereum" / f"{table}.csv"]), table
    assert not (parts / "ethereum" / ".partition").exists()


def test_partitioned_output_ingests_to_the_same_transfers(flat_and_partitioned, tmp_path):
    flat, parts = flat_and_partitioned
    for name, source in (("flat", flat), ("parts", parts)):
        ingest(tmp_path / name, fmt="etl", source=str(source / "ethereum"), chain="ethereum", show_progress=False)
    a = ChainStore(tmp_path / "flat").transfers("ethereum")
    b = ChainStore(tmp_path / "parts").transfers("ethereum")
    assert a.num_rows == b.num_rows > 20_000 * 0.8
    for column in ("amount_lo", "amount_hi"):
        assert pc.sum(a[column]).as_py() == pc.sum(b[column]).as_py()


def test_partition_blocks_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="--partition-blocks"):
        generate("lazarus-bridge-hack", 5_000, 1, tmp_path / "x", partition_blocks=0)
