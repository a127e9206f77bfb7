"""Labels from GraphSense TagPacks/ActorPacks, OFAC SDN (CSV, advanced XML) and OpenSanctions FtM."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.conftest import shared_data
from trilateral.core.settings import Settings
from trilateral.labels import LabelStore

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY_SDN = ("ofac_sdn", "legacy_sdn_csv_2024-05-03_dprk_cyber_crypto_rows.csv")


def store(tmp_path: Path) -> LabelStore:
    return LabelStore(Settings(home=tmp_path, database_url="sqlite://"))


def test_legacy_sdn_csv_addresses_agree_with_the_advanced_xml_list(tmp_path: Path) -> None:
    legacy = shared_data(*LEGACY_SDN)
    flat_path = shared_data("ofac_sdn", "sdn_digital_currency_addresses.csv")
    changes = shared_data("ofac_sdn", "asset_list_changes_2024-09-27_to_2025-11-19.csv")
    labels = store(tmp_path)
    report = labels.import_file(legacy)
    assert report.format == "sdn-csv" and report.labels > 250
    rows = labels.table().to_pylist()
    flat = list(csv.DictReader(flat_path.open()))
    by_uid = defaultdict(set)
    for r in flat:
        by_uid[r["sdn_uid"]].add(r["address"].lower())
    removed = {r["address"].lower() for r in csv.DictReader(changes.open()) if r["change"] == "removed"}
    uids = {int(r["label"].split(":")[0].removeprefix("SDN ")) for r in rows}
    # The CSV is from 2024-05-03, the flattened list from the 2025-11-19 XML: an address in the CSV must be
    # listed for the same SDN entry in 2025 or have been delisted in between (Tornado Cash, March 2025).
    for r in rows:
        uid = r["label"].split(":")[0].removeprefix("SDN ")
        assert r["address"].lower() in by_uid[uid] or r["address"].lower() in removed, r
    # ... and 2025 entries of those parties hold at least the addresses the 2024 CSV shows for them
    shared_uids = {str(u) for u in uids} & set(by_uid)
    assert len(shared_uids) > 50
    assert all(r["category"] == "sanctioned" and r["source"] == "OFAC SDN" and r["confidence"] == 1.0 for r in rows)
    lazarus = [r for r in rows if r["entity"] == "LAZARUS GROUP"]
    assert lazarus and all("DPRK3" in r["programs"] for r in lazarus)
    evm = [r for r in rows if r["chain"] == "ethereum"]
    assert evm and all(r["address"] == r["address"].lower() for r in evm)


def test_legacy_sdn_remarks_cut_at_1000_characters_report_the_partial_address(tmp_path: Path) -> None:
    legacy = shared_data(*LEGACY_SDN)
    report = store(tmp_path).import_file(legacy)
    cut = [line for line in csv.reader(legacy.open(newline="")) if len(line[11]) >= 1000
           and not line[11].rstrip().endswith(".") and "Digital Currency Address" in line[11]]
    assert len(report.skipped) == len(cut) > 0
    assert all("remarks cut at 1000 characters" in s for s in report.skipped)


def test_sdn_advanced_xml_gives_names_programmes_and_country(tmp_path: Path) -> None:
    labels = store(tmp_path)
    report = labels.import_file(FIXTURES / "sdn_advanced_small.xml")
    assert report.format == "sdn-xml" and report.labels == 3
    [eth] = labels.lookup("ethereum", ["0x098B716B8Aaf21512996dC57EB0615e2383E2f96"])
    assert len(eth) == 1
    assert (eth[0].entity, eth[0].programs, eth[0].jurisdiction, eth[0].category) == (
        "LAZARUS GROUP", ("DPRK3", "CYBER2"), "KP", "sanctioned")
    assert labels.lookup("bitcoin", ["1P3ZfGFLezzYGg9k5SVzQmnjyh7nrUmF2y"])[0][0].entity == "LAZARUS GROUP"
    [usdt] = labels.lookup("tron", ["TJDENsfBJs4RFETt1X1W8wMDc8M5XnJhCe"])[0]
    assert (usdt.entity, usdt.programs, usdt.jurisdiction) == ("GARANTEX EUROPE OU", ("CYBER2",), None)


def test_opensanctions_wallets_take_their_holders_name_country_and_programmes(tmp_path: Path) -> None:
    labels = store(tmp_path)
    report = labels.import_file(FIXTURES / "opensanctions_ftm.jsonl")
    assert report.format == "ftm" and report.labels == 3
    [[eth], [btc], [pep]] = [labels.lookup("ethereum", ["0x098b716b8aaf21512996dc57eb0615e2383e2f96"])[0],
                             labels.lookup("bitcoin", ["1P3ZfGFLezzYGg9k5SVzQmnjyh7nrUmF2y"])[0],
                             labels.lookup("bitcoin", ["bc1qnotsanctioned0000000000000000000000"])[0]]
    assert (eth.entity, eth.jurisdiction, eth.programs, eth.category) == (
        "LAZARUS GROUP", "KP", ("DPRK3", "CYBER2"), "sanctioned")
    assert btc.entity == "LAZARUS GROUP"
    assert (pep.entity, pep.jurisdiction, pep.category) == ("Kim Example", "KR", "user")


def _tagpacks_from_csv(tags_csv: Path, out: Path) -> list[Path]:
    """The flattened GraphSense tags, regrouped into one TagPack YAML per original pack."""
    packs: dict[str, list[dict]] = defaultdict(list)
    for row in csv.DictReader(tags_csv.open()):
        packs[row["pack"]].append(row)
    paths = []
    for name, rows in packs.items():
        tags = []
        for r in rows:
            tag = {k: r[k] for k in ("address", "currency", "label", "category", "abuse", "actor", "confidence",
                                     "source") if r[k]}
            tags.append(tag)
        doc = {"title": f"GraphSense {name}", "creator": "GraphSense", "is_public": True,
               "lastmod": rows[0]["lastmod"] or None, "tags": tags}
        path = out / f"{name.replace('/', '_')}.yaml"
        path.write_text(yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False))
        paths.append(path)
    return paths


@pytest.mark.slow
def test_all_real_graphsense_tags_import_and_look_up(tmp_path: Path) -> None:
    tags_csv = shared_data("graphsense_tagpacks", "tags.csv")
    labels = store(tmp_path / "a")
    packs = _tagpacks_from_csv(tags_csv, tmp_path)
    total = sum(labels.import_file(p).labels for p in packs)
    rows = list(csv.DictReader(tags_csv.open()))
    assert total == len(rows)
    eth = [r for r in rows if r["currency"] == "ETH"]
    found = labels.lookup("ethereum", [r["address"].upper().replace("0X", "0x") for r in eth])
    assert all(any(lab.label == r["label"] for lab in hit) for r, hit in zip(eth, found, strict=True))
    btc = [r for r in rows if r["currency"] == "BTC"]
    assert all(labels.lookup("bitcoin", [r["address"] for r in btc]))



def test_tagpack_export_round_trips_real_tags(tmp_path: Path) -> None:
    tags_csv = shared_data("graphsense_tagpacks", "tags.csv")
    labels = store(tmp_path / "a")
    packs = sorted(_tagpacks_from_csv(tags_csv, tmp_path), key=lambda p: p.stat().st_size)[:40]
    total = sum(labels.import_file(p).labels for p in packs)
    exported = tmp_path / "export.yaml"
    assert labels.export_tagpack(exported) == total > 1000
    again = store(tmp_path / "b")
    again.import_file(exported)
    key = ("chain", "address", "label", "category", "abuse", "actor", "source", "confidence")

    def norm(table):
        return sorted(tuple(str(r[k]) for k in key) for r in table.to_pylist())

    assert norm(again.table()) == norm(labels.table())


def test_actorpack_gives_jurisdiction_to_tags_of_its_actors(tmp_path: Path) -> None:
    labels = store(tmp_path)
    pack = tmp_path / "exchanges.yaml"
    pack.write_text(yaml.safe_dump({"title": "deposit addresses", "creator": "t", "currency": "ETH",
                                    "source": "https://example.org/evidence", "confidence": "forensic",
                                    "tags": [{"address": "0xAA00000000000000000000000000000000000001",
                                              "label": "Upbit deposit", "actor": "upbit"},
                                             {"address": "0xAA00000000000000000000000000000000000002",
                                              "label": "bitFlyer hot wallet", "actor": "bitflyer",
                                              "category": "exchange"}]}))
    labels.import_file(pack)
    assert labels.lookup("ethereum", ["0xaa00000000000000000000000000000000000001"])[0][0].jurisdiction is None
    report = labels.import_file(FIXTURES / "actors.yaml")
    assert report.format == "actorpack" and (report.actors, report.labels, report.addresses) == (2, 0, 0)
    assert report.tagged_addresses == 2
    up, bf = labels.lookup("ethereum", ["0xaa00000000000000000000000000000000000001",
                                        "0xaa00000000000000000000000000000000000002"])
    assert (up[0].entity, up[0].category, up[0].jurisdiction, up[0].confidence) == ("Upbit", "exchange", "KR", 0.8)
    assert (bf[0].entity, bf[0].jurisdiction) == ("bitFlyer", "JP")


def test_actorpack_import_says_it_labels_no_address_and_how_tags_reach_it(tmp_path: Path) -> None:
    # README walkthrough: `labels import sim/actors.yaml` said "11 labels on 0 addresses ()"
    labels = store(tmp_path)
    report = labels.import_file(FIXTURES / "actors.yaml")
    assert report.ok and (report.actors, report.labels) == (2, 0)
    assert report.actor_jurisdictions == {"JP": 1, "KR": 1}  # the first jurisdiction is the one tags take
    text = report.summary()
    assert "2 actors (jurisdiction: JP 1, KR 1)" in text and "labels no address itself" in text
    assert "no stored tag names them yet: import the TagPack whose tags do" in text
    assert "labels on 0 addresses" not in text
    pack = tmp_path / "tags.yaml"
    pack.write_text(yaml.safe_dump({"title": "t", "currency": "ETH", "tags": [
        {"address": "0xAA00000000000000000000000000000000000001", "label": "Upbit deposit", "actor": "upbit"},
        {"address": "0xAA00000000000000000000000000000000000002", "label": "Binance deposit", "actor": "binance"},
        {"address": "0xAA00000000000000000000000000000000000003", "label": "a wallet"}]}))
    tags = labels.import_file(pack)
    assert (tags.tags_naming_actors, tags.undescribed_actors) == (2, ["binance"])
    assert "1 actor its tags name in no imported ActorPack (binance)" in tags.summary()
    again = labels.import_file(FIXTURES / "actors.yaml")
    assert again.tagged_addresses == 1  # upbit's address; binance is not in this ActorPack
    assert again.as_dict()["actors"] == 2 and "stored tags of 1 address name them" in again.summary()


def test_reimporting_a_source_replaces_its_labels(tmp_path: Path) -> None:
    labels = store(tmp_path)
    for _ in range(2):
        labels.import_file(FIXTURES / "sdn_advanced_small.xml")
    assert labels.table().num_rows == 3


def test_bulk_lookup_marks_hits_and_misses(tmp_path: Path) -> None:
    labels = store(tmp_path)
    labels.import_file(FIXTURES / "sdn_advanced_small.xml")
    queries = [f"0x{i:040x}" for i in range(200_000)]
    queries[123_456] = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    hits = labels.lookup("ethereum", queries)
    assert [i for i, h in enumerate(hits) if h] == [123_456]


def test_labels_cli_import_and_lookup(home: Path) -> None:
    from typer.testing import CliRunner

    from trilateral.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["labels", "import", str(FIXTURES / "opensanctions_ftm.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["labels"] == 3
    result = runner.invoke(app, ["labels", "lookup", "--chain", "bitcoin", "1P3ZfGFLezzYGg9k5SVzQmnjyh7nrUmF2y"])
    out = json.loads(result.stdout)
    assert out[0]["labels"][0]["programs"] == ["DPRK3", "CYBER2"]
