"""One small generated output per scenario, shared by the sim tests (generation is the slow part)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from trilateral.sim import SCENARIOS, generate

SMALL = 8_000


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sim")
    return {name: _make(root / name, name) for name in SCENARIOS}


def _make(path: Path, scenario: str) -> Path:
    generate(scenario, SMALL, 7, path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def read_btc(path: Path) -> list[dict]:
    with path.open() as f:
        return [json.loads(line) for line in f]


def ground_truth(out: Path) -> dict:
    return json.loads((out / "ground_truth.json").read_text())
