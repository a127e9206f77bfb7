"""The real Bybit rows (../shared/data/bybit_trace/transfers.csv) as saved Etherscan API responses,
ingested with `trilateral chain ingest --format etherscan`: every non-zero row stored once (rows
between two hop senders are in both senders' files), and coverage names the five senders only."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.conftest import shared_data
from tests.realcases.bybit_fixture import ANCHOR, BYBIT_COLD, THEFT_TX, write_etherscan_fixture
from trilateral.chain import ChainStore
from trilateral.core.amount import join_amount, parse_units


def _unix(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


def _cli(home: Path, *args: str) -> dict:
    env = {**os.environ, "TRILATERAL_HOME": str(home)}
    out = subprocess.run([sys.executable, "-m", "trilateral", "chain", "ingest", "--chain", "ethereum",
                          "--format", "etherscan", *args, "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _stored(store: ChainStore) -> list[tuple]:
    n = store.stats()["chains"]["ethereum"]["addresses"]
    names = store.addresses("ethereum", list(range(n)))
    return sorted((r["tx_hash"], names[r["from_id"]], names[r["to_id"]], join_amount(r["amount_hi"], r["amount_lo"]))
                  for r in store.transfers("ethereum").to_pylist())


def test_bybit_rows_through_the_etherscan_format(tmp_path: Path) -> None:
    source = shared_data("bybit_trace", "transfers.csv")
    with open(source, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fixture = write_etherscan_fixture(source, tmp_path / "etherscan", with_theft=False)
    report = _cli(tmp_path / "home", str(fixture))
    assert report["bad_row_count"] == 0 and report["batches_committed"] == 1
    store = ChainStore(tmp_path / "home" / "chain")
    expected = sorted((r["hash"], r["from_address"], r["to"], parse_units(r["amount"], 18))
                      for r in rows if Decimal(r["amount"]) > 0)
    assert _stored(store) == expected  # 0-value rows move nothing; shared rows once

    senders = {r["from_address"] for r in rows}
    times: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        for who in (r["from_address"], r["to"]):
            times[who].append(_unix(r["timestamp_utc"]))
    cov = store.coverage("ethereum")
    assert set(cov.addresses) == senders
    for s in senders:  # txlist holds every tx the sender sent or received among the rows
        native = [_unix(r["timestamp_utc"]) for r in rows if s in (r["from_address"], r["to"])]
        assert cov.address_spans(s, "normal") == [(min(native), max(native))]
    receivers = {r["to"] for r in rows} - senders
    assert len(receivers) > 50
    assert not any(cov.history_complete(a, min(times[a])) for a in receivers)

    # the study pulled each sender's lists at retrieved_utc: say so, and the senders are complete
    first = min(_unix(r["timestamp_utc"]) for r in rows)
    pulled = max(_unix(r["retrieved_utc"]) for r in rows)
    again = _cli(tmp_path / "home", str(fixture), "--complete-from", str(first), "--complete-to", str(pulled))
    assert again["rows"].get("transfers", 0) == 0  # same rows, new coverage only
    cov = store.coverage("ethereum")
    assert all(cov.known_span(s) == [(first, pulled)] for s in senders)
    assert all(cov.history_complete(s, first) for s in senders)  # up to the store's last time
    assert not any(cov.history_complete(a, first) for a in receivers)
    hop2, receiver = "0xa4b2fd68593b6f34e51cb9edb66e71c1b4ab449e", sorted(receivers)[0]
    out = subprocess.run([sys.executable, "-m", "trilateral", "chain", "coverage", hop2, receiver, "--json"],
                         env={**os.environ, "TRILATERAL_HOME": str(tmp_path / "home")}, capture_output=True,
                         text=True, check=True)
    answer = {e["address"]: e["complete"] for e in json.loads(out.stdout)}
    assert answer == {hop2: [[datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              datetime.fromtimestamp(pulled, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]], receiver: []}


def test_bybit_with_theft_adds_the_theft_rows(tmp_path: Path) -> None:
    source = shared_data("bybit_trace", "transfers.csv")
    fixture = write_etherscan_fixture(source, tmp_path / "etherscan", with_theft=True)
    _cli(tmp_path / "home", str(fixture))
    store = ChainStore(tmp_path / "home" / "chain")
    theft = [r for r in _stored(store) if r[0] == THEFT_TX]
    assert theft == [(THEFT_TX, BYBIT_COLD, ANCHOR, 90_375 * 10**18), (THEFT_TX, BYBIT_COLD, ANCHOR, 401_346 * 10**18)]
    kinds = {r["kind"] for r in store.transfers("ethereum").to_pylist() if r["tx_hash"] == THEFT_TX}
    assert kinds == {"internal", "token"}
    assert store.coverage("ethereum").address_spans(ANCHOR, "internal") != []
