"""A trace on Tron: seeds written as T… or 41…, addresses reported as T…, TRC-20 USDT followed to an
exchange, and Tether's AddedBlackList on Tron marking the thief's remaining USDT frozen."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from tests.chain.tron_data import grid, grid_blacklist, grid_trc20, hex41, taddr, txid
from typer.testing import CliRunner

from trilateral.chain.ingest import ingest
from trilateral.cli import app
from trilateral.core.chains import TETHER_TRON
from trilateral.core.settings import Settings

VICTIM, THIEF, DEPOSIT, HOT = taddr(21), taddr(22), taddr(23), taddr(24)


def test_usdt_on_tron_to_an_exchange_and_frozen_by_tether(home: Path, tmp_path: Path) -> None:
    theft = txid("t", 1)
    rows = [grid_trc20(theft, 100, VICTIM, THIEF, 1_000_000_000),  # 1,000 USDT stolen
            grid_trc20(txid("t", 2), 110, THIEF, DEPOSIT, 600_000_000),  # 600 to a deposit address ...
            grid_trc20(txid("t", 3), 120, DEPOSIT, HOT, 600_000_000)]  # ... swept to the exchange
    src = tmp_path / "tron"
    src.mkdir()
    (src / "trc20.json").write_text(json.dumps(grid(rows)))
    (src / "usdt-events.json").write_text(json.dumps(grid([grid_blacklist(txid("bl"), 130, THIEF)])))
    ingest(Settings.from_env().chain_dir, fmt="trongrid", chain="tron", source=str(src), show_progress=False)
    pack = {"title": "t", "creator": "test", "is_public": True, "lastmod": "2026-01-01",
            "tags": [{"address": HOT, "currency": "TRX", "label": "Sakura Exchange hot wallet", "category": "exchange",
                      "source": "test", "confidence": "ownership"}]}
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(pack))
    runner = CliRunner()
    assert runner.invoke(app, ["labels", "import", str(tmp_path / "labels.yaml")]).exit_code == 0
    for seed in (theft.upper(), hex41(THIEF)):  # a tx id as TronGrid writes it, or the thief in node hex
        out = tmp_path / "findings.json"
        args = ["trace", "--chain", "tron", "--from", seed, "--json", str(out)]
        if seed.startswith("41"):
            args += ["--after", "2023-11-14T00:00:00Z"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        findings = json.loads(out.read_text())
        [off] = findings["offramps"]
        assert (off["chain"], off["asset"], off["amount_base_units"]) == ("tron", "USDT", "600000000")
        assert off["address"] in (DEPOSIT, HOT)
        [held] = findings["holdings"]
        assert (held["address"], held["amount_base_units"], held["contract"]) == (THIEF, "400000000", TETHER_TRON)
        [frozen] = [f for f in findings["frozen"]] if isinstance(findings["frozen"], list) else \
            list(findings["frozen"].values())
        assert frozen["issuer"] == "Tether" and frozen["amount_base_units"] == "400000000"
