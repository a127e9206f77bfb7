"""Screening on Tron: a DPRK Tron address on the real OFAC list, ingested TronGrid TRC-20 data, and an
address two hops away found by exposure screening (`screen --hops 2`); OFAC currency codes map to chains."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from tests.chain.tron_data import grid, grid_trc20, hex41, taddr, txid
from tests.conftest import shared_data
from trilateral.chain.ingest import ingest
from trilateral.cli import app
from trilateral.core.settings import Settings
from trilateral.labels.model import chain_of


def _dprk_tron_address() -> str:
    flat = shared_data("ofac_sdn", "sdn_digital_currency_addresses.csv")
    with flat.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["address"].startswith("T") and "DPRK" in r["programs"]]
    assert len(rows) >= 50  # the count: 53 of the 113 DPRK addresses are on Tron
    return rows[0]["address"]


def test_ofac_currency_codes_map_to_real_chains() -> None:
    assert chain_of("USDT", "1FfmbHfnpaZjKFvyi1okTjJJusN455paPH") == "bitcoin"  # Omni layer, not a chain "usdt"
    assert chain_of("USDT", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t") == "tron"
    assert chain_of("USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7") == "ethereum"
    assert (chain_of("TRX", "T..."), chain_of("BSC", "0x1"), chain_of("ARB", "0x1")) == ("tron", "bsc", "arbitrum")


def test_tron_address_two_hops_from_a_sanctioned_one(ofac_labels, home: Path, tmp_path: Path) -> None:
    sanctioned = _dprk_tron_address()
    middle, target, clean, bystander = taddr(11), taddr(12), taddr(13), taddr(14)
    rows = [grid_trc20(txid("e", 1), 10, sanctioned, middle, 700_000_000),  # 700 USDT, hop 1
            grid_trc20(txid("e", 2), 11, clean, target, 300_000_000),  # clean money first
            grid_trc20(txid("e", 3), 12, middle, target, 100_000_000),  # hop 2: 100 of target's 400 USDT
            grid_trc20(txid("e", 4), 13, clean, bystander, 50_000_000)]
    (tmp_path / "trc20.json").write_text(json.dumps(grid(rows)))
    ingest(Settings.from_env().chain_dir, fmt="trongrid", chain="tron", source=str(tmp_path / "trc20.json"),
           show_progress=False)
    runner = CliRunner()

    def screen(*args: str) -> list[dict]:
        result = runner.invoke(app, ["screen", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # target written in hex (41…) is the same address, shown as users write it (T…)
    two = screen(hex41(target), sanctioned, bystander, "--chain", "tron", "--hops", "2")
    assert [r["address"] for r in two] == [target, sanctioned, bystander]
    assert two[0]["exposure"] == 0.25 and two[0]["hits"] == []
    assert any(h["category"] == "sanctioned" and "DPRK" in " ".join(h["programs"]) for h in two[1]["hits"])
    assert two[2]["exposure"] == 0.0
    assert screen(target, "--chain", "tron", "--hops", "1")[0]["exposure"] == 0.0
    # without --chain the T… form names the chain
    [guessed] = screen(target, "--hops", "2")
    assert guessed["chain"] == "tron" and guessed["exposure"] == 0.25
