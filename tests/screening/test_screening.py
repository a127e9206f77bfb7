"""Screening on the real OFAC list: every sanctioned address hits with its programme, clean ones do not;
exposure read from a hand-built chain store is exact; batch files; CLI output shape."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_data
from tests.screening.conftest import write_account_chain
from trilateral.cli import app
from trilateral.core.settings import Settings
from trilateral.labels.model import chain_of
from trilateral.screening.service import Screener, screen_addresses

RONIN = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"  # Lazarus Group, DPRK3 (Ronin bridge theft)
CLEAN_ETH = "0x00000000219ab540356cbb839cbe05303d7705fa"  # the beacon deposit contract
CLEAN_BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # genesis coinbase address
HIT_FIELDS = {"source", "entity", "programs", "category", "label", "confidence", "list", "entry_id", "list_date",
              "abuse", "status", "first_listed", "last_listed", "delisted_on", "history"}


def test_every_sanctioned_address_is_a_direct_hit_with_its_programmes(ofac_labels):
    screener = Screener(Settings.from_env())
    by_chain: dict[str, list[tuple[str, set[str]]]] = {}
    for (asset, address), programs in ofac_labels.items():
        by_chain.setdefault(chain_of(asset, address), []).append((address, programs))
    checked = 0
    for chain, items in by_chain.items():
        results = screener.screen([a for a, _ in items], chain=chain, hops=0)
        for (address, programs), r in zip(items, results, strict=True):
            sanctioned = [h for h in r["hits"] if h["category"] == "sanctioned" and h["source"] == "OFAC SDN"]
            assert sanctioned, (chain, address)
            assert programs <= {p for h in sanctioned for p in h["programs"]}, (address, programs, sanctioned)
            checked += 1
    assert checked == len(ofac_labels) > 700


@pytest.mark.parametrize("small_batch", [0, 1_000_000], ids=["hashed-batch", "set-probe"])
def test_published_asset_lists_hit_without_naming_the_chain(ofac_labels, monkeypatch, small_batch):
    monkeypatch.setattr("trilateral.screening.service.SMALL_BATCH", small_batch)
    lists = shared_data("ofac_sdn", "asset_lists_2025-11-19")
    addresses = sorted({line.strip() for f in lists.glob("*.txt") for line in f.read_text().splitlines()
                        if line.strip()})
    results = screen_addresses(addresses, hops=0)
    missed = [r["address"] for r in results if not any(h["category"] == "sanctioned" for h in r["hits"])]
    assert missed == [] and len(results) == len(addresses) > 700


def test_lazarus_address_hit_names_entity_and_dprk_programme(ofac_labels):
    [r] = screen_addresses([RONIN.upper().replace("0X", "0x")], hops=0)
    assert r["chain"] == "ethereum" and r["address"] == RONIN
    [hit] = r["hits"]
    assert {k: hit[k] for k in ("source", "entity", "programs", "category", "abuse", "confidence", "list",
                                "status", "delisted_on")} == {
        "source": "OFAC SDN", "entity": "Lazarus Group", "programs": ["DPRK3"], "category": "sanctioned",
        "abuse": "sanction", "confidence": 1.0, "list": "OFAC SDN", "status": "listed", "delisted_on": None}
    assert hit["label"] == f"SDN {hit['entry_id']}: Lazarus Group" and hit["entry_id"].isdigit()
    assert hit["list_date"] == hit["first_listed"] == hit["last_listed"]
    assert hit["history"] == [{"list_date": hit["list_date"], "listed": True}]


def test_clean_addresses_have_no_hits(ofac_labels):
    results = screen_addresses([CLEAN_ETH, CLEAN_BTC], hops=0)
    assert [(r["chain"], r["hits"], r["exposure"]) for r in results] == [("ethereum", [], 0.0), ("bitcoin", [], 0.0)]


def test_exposure_from_the_chain_store_is_exact(ofac_labels, home):
    a, b, target, clean = (f"0x{n:040x}" for n in (0xA, 0xB, 0xC, 0xD))
    # ids: 0 Ronin (sanctioned), 1 a, 2 b, 3 target, 4 clean
    write_account_chain(Settings.from_env().chain_dir, [RONIN, a, b, target, clean], [
        (4, 3, 0, 10**18 + 1),  # clean -> target
        (0, 1, 0, 5 * 10**18),  # Ronin -> a
        (1, 3, 0, 3 * 10**18),  # a -> target (hop 2)
        (0, 3, 0, 7),  # Ronin -> target (hop 1)
        (2, 3, 0, 2 * 10**18),  # b -> target, b never touched
    ])
    received = 10**18 + 1 + 3 * 10**18 + 7 + 2 * 10**18
    one, two = (screen_addresses([target], hops=h)[0]["exposure"] for h in (1, 2))
    assert one == float(Fraction(7, received))
    assert two == float(Fraction(3 * 10**18 + 7, received))
    assert screen_addresses([clean], hops=3)[0]["exposure"] == 0.0


def test_batch_file_and_cli_json_shape(ofac_labels, tmp_path: Path):
    f = tmp_path / "addresses.txt"
    f.write_text(f"# screened today\n{RONIN}\n\n{CLEAN_BTC}\n")
    out = CliRunner().invoke(app, ["screen", "--file", str(f), CLEAN_ETH, "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert [r["address"] for r in doc] == [CLEAN_ETH, RONIN, CLEAN_BTC]
    for r in doc:
        assert set(r) == {"address", "chain", "hits", "exposure"}
        assert all(set(h) == HIT_FIELDS for h in r["hits"])
    assert doc[1]["hits"] and not doc[0]["hits"] and not doc[2]["hits"]


def test_bitcoin_exposure_follows_spent_outputs_exactly(ofac_labels):
    from tests.screening.conftest import write_utxo_chain

    lazarus_btc = next(a for (asset, a), p in sorted(ofac_labels.items()) if asset == "XBT" and "DPRK3" in p)
    mule, target, other = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1dice8EMZmqKvrGE4Qc9bUFf9PX3xaYDp", CLEAN_BTC
    h = [f"{i:064x}" for i in range(5)]
    write_utxo_chain(Settings.from_env().chain_dir, [lazarus_btc, mule, target, other], [
        ([], [(0, 50_000)]),  # tx0: coinbase to the sanctioned address
        ([], [(3, 9_000)]),  # tx1: coinbase to a clean address
        ([(h[0], 0)], [(1, 30_000), (0, 19_000)]),  # tx2: sanctioned -> mule, change back
        ([(h[2], 0)], [(2, 29_000)]),  # tx3: mule -> target (hop 2)
        ([(h[1], 0)], [(2, 8_000)]),  # tx4: clean -> target
    ])
    one, two = (screen_addresses([target], chain="bitcoin", hops=hops)[0] for hops in (1, 2))
    assert one["exposure"] == 0.0
    assert two["exposure"] == float(Fraction(29_000, 37_000))
    [mule_result] = screen_addresses([mule], hops=1)
    assert mule_result["chain"] == "bitcoin" and mule_result["exposure"] == 1.0


def test_a_long_lived_screener_sees_labels_imported_after_it_started(home, tmp_path):
    from tests.screening.conftest import sdn_csv_from_flat_list
    from trilateral.labels import LabelStore

    screener = Screener(Settings.from_env())
    assert screener.screen([RONIN], hops=0)[0]["hits"] == []
    sdn = tmp_path / "SDN.CSV"
    sdn_csv_from_flat_list(sdn)
    LabelStore().import_file(sdn)
    assert screener.screen([RONIN], hops=0)[0]["hits"][0]["entity"] == "Lazarus Group"
