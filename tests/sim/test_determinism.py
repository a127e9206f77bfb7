"""The same seed gives byte-identical files; another seed gives other data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trilateral.core.errors import InputError
from trilateral.sim import generate


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_output_and_another_seed_does_not(tmp_path):
    generate("lazarus-bridge-hack", 5_000, 11, tmp_path / "a")
    # the second run in another process with another string-hash seed: no order may depend on hash()
    subprocess.run([sys.executable, "-m", "trilateral", "sim", "generate", "--transfers", "5000", "--seed", "11",
                    str(tmp_path / "b")], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "12345"})
    generate("lazarus-bridge-hack", 5_000, 12, tmp_path / "c")
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(a) == 12
    assert a == b
    assert a["ethereum/transactions.csv"] != c["ethereum/transactions.csv"]
    assert a["ground_truth.json"] != c["ground_truth.json"]


def test_refuses_a_non_empty_out_dir_and_leaves_nothing_half_written(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not an empty directory"):
        generate("direct-to-exchange", 5_000, 1, tmp_path / "busy")
    with pytest.raises(InputError, match="unknown scenario"):
        generate("no-such-scenario", 5_000, 1, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]


def test_start_moves_the_whole_timeline_and_keeps_the_theft_inside_it(tmp_path):
    import csv
    import json
    from datetime import datetime

    from trilateral.sim import generate

    start = 1_790_000_000
    generate("direct-to-exchange", 5_000, 3, tmp_path / "later", start=start)
    with open(tmp_path / "later" / "ethereum" / "blocks.csv") as fh:
        stamps = [int(row["timestamp"]) for row in csv.DictReader(fh)]
    assert stamps[0] == start and stamps == sorted(stamps)
    truth = json.loads((tmp_path / "later" / "ground_truth.json").read_text())
    theft = datetime.fromisoformat(truth["theft_time"].replace("Z", "+00:00")).timestamp()
    assert start <= theft <= stamps[-1]
