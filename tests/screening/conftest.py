"""Screening fixtures: the real OFAC addresses in the official SDN.CSV form, and a hand-built chain."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import shared_data


def sdn_csv_from_flat_list(out: Path) -> dict[tuple[str, str], set[str]]:
    """Write ../shared/data's flattened 2025-11-19 SDN address list in Treasury's legacy SDN.CSV layout
    (one row per address, 12 columns, programmes as 'A] [B', address in the remarks) so the labels
    package's own SDN parser reads it. Returns (asset, address) -> expected programmes."""
    flat = shared_data("ofac_sdn", "sdn_digital_currency_addresses.csv")
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    with flat.open(newline="") as src, out.open("w", newline="") as dst:
        writer = csv.writer(dst)
        for row in csv.DictReader(src):
            programs = row["programs"].split("|")
            expected[(row["asset"], row["address"])].update(programs)
            writer.writerow([row["sdn_uid"], row["sdn_name"], "-0- " if row["party_type"] == "Entity" else
                             "individual", "] [".join(programs), "-0- ", "-0- ", "-0- ", "-0- ", "-0- ",
                             "-0- ", "-0- ", f"Digital Currency Address - {row['asset']} {row['address']};"])
    return dict(expected)


@pytest.fixture
def ofac_labels(home: Path, tmp_path: Path) -> dict[tuple[str, str], set[str]]:
    """The real OFAC addresses imported into the label store of `home`."""
    from trilateral.labels import LabelStore

    path = tmp_path / "SDN.CSV"
    expected = sdn_csv_from_flat_list(path)
    report = LabelStore().import_file(path)
    assert report.format == "sdn-csv" and not report.skipped
    return expected


def write_account_chain(chain_dir: Path, addresses: list[str], rows: list[tuple[int, int, int, int]]) -> None:
    """An ethereum store of `rows` (from_id, to_id, asset_id, amount) in chain order, one per block."""
    from trilateral.chain.schema import TRANSFERS
    from trilateral.chain.writer import TableWriter

    writer = TableWriter(chain_dir, "ethereum", "account")
    staged: dict[str, Path] = {}
    writer.write_arrow_part("addresses", pa.table({"address_id": list(range(len(addresses))),
                                                   "address": addresses}), staged)
    n = len(rows)
    table = pa.table({
        "block_number": list(range(1, n + 1)), "timestamp": [1_700_000_000 + 12 * i for i in range(n)],
        "tx_hash": [f"0x{i:064x}" for i in range(n)], "tx_index": [0] * n, "log_index": [-1] * n,
        "kind": ["native"] * n, "from_id": [r[0] for r in rows], "to_id": [r[1] for r in rows],
        "asset_id": [r[2] for r in rows], "amount_hi": [r[3] >> 64 for r in rows],
        "amount_lo": [r[3] & (2**64 - 1) for r in rows]}, schema=TRANSFERS)
    writer.write_arrow_part("transfers", table, staged)
    writer.commit("hand-built", staged, {}, next_address_id=len(addresses), block_range=(1, n))


def write_utxo_chain(chain_dir: Path, addresses: list[str], txs: list[tuple[list[tuple[str, int]],
                                                                          list[tuple[int, int]]]]) -> None:
    """A bitcoin store: each tx is (inputs [(spent tx hash, output index)], outputs [(address id, sat)]);
    tx i has hash f"{i:064x}" and sits in block i + 1."""
    from trilateral.chain.schema import INPUTS, OUTPUTS
    from trilateral.chain.writer import TableWriter

    writer = TableWriter(chain_dir, "bitcoin", "utxo")
    staged: dict[str, Path] = {}
    writer.write_arrow_part("addresses", pa.table({"address_id": list(range(len(addresses))),
                                                   "address": addresses}), staged)
    outputs, inputs = [], []
    by_hash: dict[str, list[tuple[int, int]]] = {}
    for i, (ins, outs) in enumerate(txs):
        h = f"{i:064x}"
        by_hash[h] = outs
        for k, (addr, value) in enumerate(outs):
            outputs.append({"tx_hash": h, "block_number": i + 1, "timestamp": 1_700_000_000 + 600 * i,
                            "output_index": k, "address_id": addr, "value": value, "script_type": "pubkeyhash"})
        for k, (spent, index) in enumerate(ins):
            addr, value = by_hash[spent][index]
            inputs.append({"tx_hash": h, "block_number": i + 1, "timestamp": 1_700_000_000 + 600 * i,
                           "input_index": k, "spent_tx_hash": spent, "spent_output_index": index,
                           "address_id": addr, "value": value})
    writer.write_arrow_part("outputs", pa.Table.from_pylist(outputs, schema=OUTPUTS), staged)
    writer.write_arrow_part("inputs", pa.Table.from_pylist(inputs, schema=INPUTS), staged)
    writer.commit("hand-built", staged, {}, next_address_id=len(addresses), block_range=(1, len(txs)))
