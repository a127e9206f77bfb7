"""List versions on the real files: OFAC SDN rows of 2024 and 2025 (Tornado Cash delisted in March
2025), the OFAC per-asset lists of two dates against their published changes, GraphSense TagPacks,
Etherscan labels; empty imports exit non-zero and leave the store as it was; old stores still read."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import shared_data
from trilateral.cli import app
from trilateral.core.settings import Settings
from trilateral.labels import LabelStore
from trilateral.labels.model import LABELS_SCHEMA

LEGACY_SDN = ("ofac_sdn", "legacy_sdn_csv_2024-05-03_dprk_cyber_crypto_rows.csv")
SDN_2025 = ("ofac_sdn", "sdn_digital_currency_addresses.csv")  # every address row of the 2025-11-19 XML
RONIN = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"  # Lazarus Group, SDN 27307
TORNADO_ROUTER = "0xd90e2f925da726b50c4ed8d0fb90ad053324f31b"


def store(home: Path) -> LabelStore:
    return LabelStore(Settings(home=home, database_url="sqlite://"))


def removed_between_asset_lists() -> set[str]:
    path = shared_data("ofac_sdn", "asset_list_changes_2024-09-27_to_2025-11-19.csv")
    return {r["address"].lower() for r in csv.DictReader(path.open()) if r["change"] == "removed"}


def test_sdn_2024_then_2025_delists_tornado_cash_and_collapses_the_rest(tmp_path: Path) -> None:
    labels = store(tmp_path)
    old = labels.import_file(shared_data(*LEGACY_SDN))
    assert (old.list_name, old.list_date, old.date_basis) == ("OFAC SDN", "2024-05-03", "file path")
    new = labels.import_file(shared_data(*SDN_2025), list_date="2025-11-19")
    assert (new.list_name, new.format, new.previous_version) == ("OFAC SDN", "address-csv", "2024-05-03")
    rows = labels.table().to_pylist()
    delisted = [r for r in rows if r["status"] == "delisted"]
    # the only entry of 2024 gone by 2025 is Tornado Cash (the legacy row is cut at 1,000 characters,
    # so 12 of its addresses are in it), and each of those is among the published removals
    assert {r["entity"] for r in delisted} == {"TORNADO CASH"} and len(delisted) == new.delisted == 12
    assert {r["address"] for r in delisted} <= removed_between_asset_lists()
    assert all((r["first_listed"], r["last_listed"], r["delisted_on"]) == ("2024-05-03", "2024-05-03", "2025-11-19")
               for r in delisted)
    [[tornado]] = labels.lookup("ethereum", [delisted[0]["address"]])
    assert tornado.history_dicts() == [{"list_date": "2024-05-03", "listed": True},
                                       {"list_date": "2025-11-19", "listed": False}]
    # one row per entry: the 2024 rows of entries still listed in 2025 collapse into their 2025 row
    entries = {(r["chain"], r["address"], r["entry_id"]) for r in labels.stored().to_pylist()}
    assert len(rows) == len(entries) < labels.stored().num_rows
    [[ronin]] = labels.lookup("ethereum", [RONIN])
    assert (ronin.entity, ronin.entry_id, ronin.status, ronin.first_listed, ronin.last_listed, ronin.list_date) == (
        "Lazarus Group", "27307", "listed", "2024-05-03", "2025-11-19", "2025-11-19")
    assert ronin.history_dicts() == [{"list_date": "2024-05-03", "listed": True},
                                     {"list_date": "2025-11-19", "listed": True}]


def test_screening_shows_one_auditable_hit_per_entry_and_the_delisting(home: Path) -> None:
    from trilateral.screening.service import screen_addresses

    legacy = LabelStore().import_file(shared_data(*LEGACY_SDN))
    LabelStore().import_file(shared_data(*SDN_2025), list_date="2025-11-19")
    tornado = next(r["address"] for r in LabelStore().table().to_pylist() if r["status"] == "delisted")
    ronin, gone = screen_addresses([RONIN, tornado], hops=0)
    [hit] = ronin["hits"]  # not one per imported version
    assert (hit["status"], hit["list"], hit["entry_id"], hit["list_date"], hit["abuse"], hit["confidence"]) == (
        "listed", "OFAC SDN", "27307", "2025-11-19", "sanction", 1.0)
    assert [h["listed"] for h in hit["history"]] == [True, True]
    [was] = gone["hits"]
    assert (was["entity"], was["status"], was["delisted_on"], was["label"]) == (
        "TORNADO CASH", "delisted", "2025-11-19", "SDN 39796: TORNADO CASH")
    assert legacy.list_date == was["first_listed"] == was["last_listed"]
    text = CliRunner().invoke(app, ["screen", tornado, RONIN, "--hops", "0"]).stdout.splitlines()
    assert "DELISTED by 2025-11-19 (listed 2024-05-03..2024-05-03)" in text[0] and "entry 39796" in text[0]
    assert "DELISTED" not in text[1] and "entry 27307, 2025-11-19" in text[1]


def test_importing_an_older_version_after_a_newer_one_is_kept_as_history(tmp_path: Path) -> None:
    labels = store(tmp_path)
    labels.import_file(shared_data(*SDN_2025), list_date="2025-11-19")
    report = labels.import_file(shared_data(*LEGACY_SDN))
    assert report.superseded_by == "2025-11-19" and report.previous_version is None
    statuses = defaultdict(set)
    for r in labels.table().to_pylist():
        statuses[r["entity"]].add(r["status"])
    assert statuses["TORNADO CASH"] == {"delisted"} and statuses["Lazarus Group"] == {"listed"}


def test_ofac_asset_lists_of_two_dates_delist_exactly_the_published_removals(tmp_path: Path) -> None:
    labels = store(tmp_path)
    for day in ("2024-09-27", "2025-11-19"):
        files = sorted(shared_data("ofac_sdn", f"asset_lists_{day}").glob("*.txt"))
        reports = [labels.import_file(f) for f in files]
        assert {(r.format, r.list_name, r.list_date) for r in reports} == {("ofac-list", "OFAC SDN", day)}
    assert labels.list_versions()["OFAC SDN"] == ["2024-09-27", "2025-11-19"]
    [ofac] = labels.lists()
    assert (ofac["list"], ofac["delisted"], len(ofac["versions"])) == ("OFAC SDN", 90, 17 + 19)
    assert {v["list_date"] for v in ofac["versions"]} == {"2024-09-27", "2025-11-19"}
    assert all(v["date_basis"] == "file path" and v["format"] == "ofac-list" for v in ofac["versions"])
    rows = labels.table().to_pylist()
    delisted = {r["address"].lower() for r in rows if r["status"] == "delisted"}
    assert delisted == removed_between_asset_lists() and len(delisted) == 90
    assert TORNADO_ROUTER in delisted
    [[router]] = labels.lookup("ethereum", [TORNADO_ROUTER])
    assert (router.first_listed, router.last_listed, router.delisted_on) == ("2024-09-27", "2024-09-27", "2025-11-19")


def test_reimporting_a_version_replaces_it(tmp_path: Path) -> None:
    labels = store(tmp_path)
    for _ in range(2):
        report = labels.import_file(shared_data(*LEGACY_SDN))
    assert report.previous_version is None and report.delisted == 0
    assert labels.stored().num_rows == report.labels and labels.list_versions() == {"OFAC SDN": ["2024-05-03"]}


def _tagpack(path: Path, pack: str, lastmod: str, keep=lambda row: True) -> Path:
    rows = [r for r in csv.DictReader(shared_data("graphsense_tagpacks", "tags.csv").open())
            if r["pack"] == pack and keep(r)]
    tags = [{k: r[k] for k in ("address", "currency", "label", "category", "abuse", "actor", "confidence", "source")
             if r[k]} for r in rows]
    path.write_text(yaml.safe_dump({"title": f"GraphSense {pack}", "creator": "GraphSense", "lastmod": lastmod,
                                    "tags": tags}))
    return path


def test_tagpack_hits_carry_label_abuse_confidence_and_the_pack_version(home: Path) -> None:
    from trilateral.screening.service import screen_addresses

    rows = [r for r in csv.DictReader(shared_data("graphsense_tagpacks", "tags.csv").open()) if r["pack"] == "lazarus"]
    eth = next(r for r in rows if r["currency"] == "ETH")
    report = LabelStore().import_file(_tagpack(home.parent / "lazarus.yaml", "lazarus", rows[0]["lastmod"]))
    assert (report.list_name, report.list_date, report.date_basis) == ("GraphSense lazarus", "2022-04-15", "lastmod")
    [hit] = screen_addresses([eth["address"]], hops=0)[0]["hits"]
    assert (hit["label"], hit["abuse"], hit["category"], hit["confidence"], hit["source"], hit["list"]) == (
        eth["label"], "sanction", "user", 0.95, eth["source"], "GraphSense lazarus")


def test_newer_tagpack_version_without_some_tags_delists_them(tmp_path: Path) -> None:
    labels = store(tmp_path)
    labels.import_file(_tagpack(tmp_path / "tc-2022.yaml", "tornado_cash", "2022-08-10"))
    half = {r["address"] for i, r in enumerate(csv.DictReader(shared_data("graphsense_tagpacks", "tags.csv").open()))
            if r["pack"] == "tornado_cash" and i % 2}
    report = labels.import_file(_tagpack(tmp_path / "tc-2025.yaml", "tornado_cash", "2025-03-21",
                                         keep=lambda r: r["address"] not in half))
    assert report.previous_version == "2022-08-10" and report.delisted == len(half) > 10
    rows = labels.table().to_pylist()
    # 39 tags, one of them twice in the pack (same address and label): 38 entries
    assert len(rows) == 38 and {r["address"] for r in rows if r["status"] == "delisted"} == {a.lower() for a in half}
    assert all(r["delisted_on"] == "2025-03-21" for r in rows if r["status"] == "delisted")
    exported = tmp_path / "export.yaml"  # what the pack says now: the delisted tags are not exported
    assert labels.export_tagpack(exported) == 38 - len(half)
    assert {t["address"] for t in yaml.safe_load(exported.read_text())["tags"]} & {a.lower() for a in half} == set()


@pytest.mark.slow
def test_etherscan_labels_import_and_a_newer_scrape_collapses_with_history(tmp_path: Path) -> None:
    real = shared_data("etherscan_labels", "evm_address_labels.csv")
    labels = store(tmp_path)
    old = labels.import_file(real, list_name="Etherscan", list_date="2023-06-30")
    assert old.format == "address-csv" and old.labels > 44_000 and not old.nothing_imported
    assert all("no address" in s for s in old.skipped)  # the scrape's "Sum of N Accounts" summary rows
    with real.open(newline="") as fh:
        all_rows = list(csv.DictReader(fh))
    tornado = [r for r in all_rows if "tornado-cash" in r["labels"].split("|")]
    newer = tmp_path / "etherscan-2025.csv"
    with newer.open("w", newline="") as fh:  # the same scrape after Etherscan dropped its Tornado Cash tags
        writer = csv.DictWriter(fh, fieldnames=list(all_rows[0]))
        writer.writeheader()
        writer.writerows(r for r in all_rows if r not in tornado)
    new = labels.import_file(newer, list_name="Etherscan", list_date="2025-04-01")
    # an entry is (chain, address, label text): a Tornado row whose address and text also sit on a kept row
    # is still listed
    entry = lambda r: (r["chain"], r["address"].lower(), r["name_tag"] or r["labels"].replace("|", ", "))  # noqa: E731
    dropped = {entry(r) for r in tornado if r["address"]} - {entry(r) for r in all_rows if r not in tornado}
    assert new.previous_version == "2023-06-30" and new.delisted == len(dropped) > 50
    [[gone], [kept]] = labels.lookup("ethereum", [tornado[0]["address"], all_rows[0]["address"]])
    assert (gone.status, gone.category, gone.delisted_on, gone.confidence_level) == (
        "delisted", "mixing_service", "2025-04-01", "web_crawl")
    assert (kept.status, kept.first_listed, kept.last_listed) == ("listed", "2023-06-30", "2025-04-01")
    # the newer scrape is a subset of the older: one row per entry of the older, collapsed
    assert labels.table().num_rows == len({entry(r) for r in all_rows if r["address"]}) < labels.stored().num_rows


def test_empty_imports_exit_non_zero_say_why_and_keep_the_previous_version(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    legacy = shared_data(*LEGACY_SDN)
    assert runner.invoke(app, ["labels", "import", str(legacy)]).exit_code == 0
    before = LabelStore().table().num_rows
    # the real SDN.CSV rows that hold no digital-currency address: a later version of the list on paper
    no_address = tmp_path / "sdn_2025-01-01.csv"
    no_address.write_bytes(b"".join(line for line in legacy.read_bytes().splitlines(keepends=True)
                                    if b"Digital Currency Address" not in line))
    header_only = tmp_path / "etherscan.csv"
    header_only.write_text(shared_data("etherscan_labels", "evm_address_labels.csv").open().readline())
    empty_pack = tmp_path / "pack.yaml"
    empty_pack.write_text(yaml.safe_dump({"title": "GraphSense lazarus", "lastmod": "2025-01-01", "tags": []}))
    result = runner.invoke(app, ["labels", "import", str(no_address), str(header_only), str(empty_pack)])
    assert result.exit_code == 1
    err = result.stderr
    assert f"{no_address} (sdn-csv): nothing imported: all 694 entries skipped" not in err  # rows are not errors
    assert f"{no_address} (sdn-csv): nothing imported: the file holds no label; SDN.CSV rows give labels only " \
           "for 'Digital Currency Address" in err
    assert f"{header_only} (address-csv): nothing imported" in err and f"{empty_pack} (tagpack): nothing" in err
    assert "3 of 3 file(s) gave no label" in err
    assert LabelStore().table().num_rows == before and LabelStore().list_versions() == {"OFAC SDN": ["2024-05-03"]}
    [listed] = json.loads(runner.invoke(app, ["labels", "lists", "--json"]).stdout)
    assert (listed["list"], listed["listed"], listed["delisted"]) == ("OFAC SDN", before, 0)
    assert [v["path"] for v in listed["versions"]] == [str(legacy.resolve())]
    # --json reports why as well, and a mixed run still fails
    result = runner.invoke(app, ["labels", "import", str(legacy), str(header_only), "--json"])
    assert result.exit_code == 1
    docs = json.loads(result.stdout)
    assert [d["nothing_imported"] is None for d in docs] == [True, False] and docs[0]["list_date"] == "2024-05-03"


def test_a_store_written_before_list_versions_still_reads_and_is_replaced_on_reimport(tmp_path: Path) -> None:
    labels = store(tmp_path)
    labels.import_file(shared_data(*LEGACY_SDN))
    [new_file] = labels.root.glob("labels-*.parquet")
    # rewrite it as the store wrote it before: no list columns, no footer metadata, dataset = format:file name
    old_schema = pa.schema([f for f in LABELS_SCHEMA if f.name not in ("entry_id", "list_name", "list_date")])
    table = pq.read_table(new_file).select(old_schema.names).replace_schema_metadata(None)
    dataset = f"sdn-csv:{LEGACY_SDN[1]}"
    table = table.set_column(table.schema.get_field_index("dataset"), "dataset",
                             pa.array([dataset] * table.num_rows, pa.string()))
    new_file.unlink()
    pq.write_table(table.cast(old_schema), labels._dataset_path(dataset, "labels"))
    fresh = store(tmp_path)
    [[ronin]] = fresh.lookup("ethereum", [RONIN])
    assert (ronin.entity, ronin.list_name, ronin.status, ronin.list_date) == ("LAZARUS GROUP", dataset, "listed", None)
    fresh.import_file(shared_data(*LEGACY_SDN))
    assert fresh.list_versions() == {"OFAC SDN": ["2024-05-03"]}
    assert fresh.stored().num_rows == table.num_rows
