"""The real 2025 Bybit theft (../shared/data/bybit_trace), loaded as saved Etherscan API responses
(`--format etherscan`) with the shared Etherscan and GraphSense labels: the trace must say what is
missing on the data as shipped, follow the hops once the theft is added, leave every decoy alone,
publish neither the victim nor a DEX, and write no freeze letter below the minimum.

Labels: the rows of `etherscan_labels/evm_address_labels.csv` and `graphsense_tagpacks/tags.csv` for
the addresses in the data, imported as TagPacks into the real label store, plus the dataset's own
annotations of its DEX and token contracts (an investigator's labels; the shared files do not have
them). Decoys, from the annotations and rows: the recipients of impersonation-token rows (a
non-ASCII symbol, or an annotated impersonating token), the annotated poisoning look-alikes and
the impersonating token contracts. The data as shipped has 108 impersonation-token transfers (56 of
them sent by hop 5: the issue's "56 decoys" is that hop's count) reaching 54 recipients, plus 3
look-alikes and 3 token contracts: 58 decoy addresses. The test checks all 108 transfers and all 58
addresses.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from tests.conftest import shared_data
from tests.realcases.bybit_fixture import ANCHOR, BYBIT_COLD, THEFT_ETH, THEFT_STETH, write_etherscan_fixture
from typer.testing import CliRunner

from trilateral.chain import ChainStore
from trilateral.chain.ingest import ingest
from trilateral.cli import app
from trilateral.labels import LabelStore
from trilateral.trace import TraceOptions, Tracer, build_findings
from trilateral.trace.freeze import MIN_SHARE, freeze_plan, write_freeze_requests
from trilateral.trace.stix_export import findings_bundle, thief_addresses

ES_CATEGORY = {"dex": "defi_dex", "bridge": "bridge", "tornado-cash": "mixing_service", "exchange": "exchange"}
ANNOTATED = {"dex contract": "defi_dex", "token contract": "token"}
POLICIES = ("haircut", "poison", "fifo")


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _tagpack(path: Path, title: str, tags: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"title": title, "creator": "tests/realcases", "is_public": True,
                                    "tags": tags}, sort_keys=False))
    return path


def _labels(root: Path, addresses: set[str], notes: list[dict], out: Path) -> LabelStore:
    """The shared label files' rows for these addresses, and the annotated contracts, as TagPacks."""
    es = [{"address": r["address"].lower(), "currency": "ETH", "label": r["name_tag"] or r["labels"],
           "category": ES_CATEGORY.get(r["labels"].split("|")[0], r["labels"].split("|")[0]),
           "source": "https://github.com/brianleect/etherscan-labels"}
          for r in _read(root / "etherscan_labels" / "evm_address_labels.csv")
          if r["chain"] == "ethereum" and r["address"].lower() in addresses]
    gs = [{"address": r["address"].lower(), "currency": "ETH", "label": r["label"], "category": r["category"],
           **({"abuse": r["abuse"]} if r["abuse"] else {}), "source": r["source"] or r["pack"]}
          for r in _read(root / "graphsense_tagpacks" / "tags.csv")
          if r["currency"] == "ETH" and r["address"].lower() in addresses]
    study = [{"address": n["address"], "currency": "ETH", "label": n["annotation"][:60],
              "category": ANNOTATED[n["role_in_trace"]], "source": "bybit_trace/address_annotations.csv"}
             for n in notes if n["role_in_trace"] in ANNOTATED]
    store = LabelStore(root=out)
    for name, tags in (("etherscan", es), ("graphsense", gs), ("study", study)):
        if tags:
            store.import_file(_tagpack(out.parent / f"{name}.yaml", name, tags))
    return store


@pytest.fixture(scope="module")
def bybit(tmp_path_factory):
    data = shared_data("bybit_trace")
    rows, notes, hops = (_read(data / n) for n in ("transfers.csv", "address_annotations.csv", "hops.csv"))
    tmp = tmp_path_factory.mktemp("bybit")
    addresses = {r["to"] for r in rows} | {r["from_address"] for r in rows} | {n["address"] for n in notes} | \
        {r["contract"] for r in rows if r["contract"]} | {BYBIT_COLD}
    labels = _labels(data.parent, addresses, notes, tmp / "labels")
    stores = {}
    for with_theft in (False, True):
        home = tmp / f"home-{with_theft}"
        fixture = write_etherscan_fixture(data / "transfers.csv", tmp / f"etherscan-{with_theft}", with_theft)
        ingest(home / "chain", fmt="etherscan", source=str(fixture), chain="ethereum", show_progress=False)
        stores[with_theft] = Tracer(ChainStore(home / "chain"), labels)
    fakes = {n["address"] for n in notes if n["role_in_trace"] == "impersonating token"}
    impersonations = [r for r in rows if r["symbol_non_ascii"] == "yes" or r["contract"] in fakes]
    decoys = {r["to"] for r in impersonations} | fakes | \
        {n["address"] for n in notes if n["role_in_trace"] == "poisoning lookalike"}
    return {"impersonations": impersonations, "tracers": stores, "hops": [h["from_address"] for h in hops], "decoys": decoys, "notes": notes,
            "rows": rows, "labels": labels, "home": tmp / "home-True"}


def trace(bybit, with_theft: bool, policy: str = "haircut", gaps: str = "taint"):
    tracer = bybit["tracers"][with_theft]
    return tracer.trace("ethereum", [ANCHOR], TraceOptions(policy=policy, gaps=gaps, after=1_740_000_000))


@pytest.mark.parametrize("policy", POLICIES)
def test_as_shipped_the_missing_theft_is_warned_not_silent(bybit, policy):
    findings = build_findings(trace(bybit, False, policy))
    kinds = {(w["kind"], w["address"]) for w in findings["warnings"]}
    assert ("seed_without_inflow", ANCHOR) in kinds
    assert ("outflow_exceeds_inflow", bybit["hops"][1]) in kinds  # hop 2 sends ETH it is not seen receiving
    assert any(k == "end_of_data" for k, _ in kinds)  # stolen value where the data stops following it
    assert findings["holdings"]  # and the findings say where the value sits


def test_as_shipped_with_gaps_clean_an_empty_result_says_why(bybit):
    findings = build_findings(trace(bybit, False, gaps="clean"))
    assert not findings["offramps"] and not findings["holdings"]
    assert any(w["kind"] == "nothing_found" and "no stolen value enters the seeds" in w["detail"]
               for w in findings["warnings"])


@pytest.mark.parametrize("policy", POLICIES)
def test_with_the_theft_every_hop_is_followed(bybit, policy):
    result = trace(bybit, True, policy)
    assert result.stolen[("ethereum", "ETH")] == THEFT_ETH and result.stolen[("ethereum", "stETH")] == THEFT_STETH
    for hop in bybit["hops"][1:]:
        sent = sum(int(float(r["amount"]) * 1e6) for r in bybit["rows"]
                   if r["to"] == hop and r["kind"] == "native") * 10**12
        got = sum(e.tainted for e in result.edges if e.target == hop and e.asset == "ETH")
        if sent:  # the value reaching hops 3 to 5 in ETH is not called clean
            assert got >= sent * 9 // 10, (policy, hop, got, sent)
        else:
            assert any(e.target == hop and e.tainted for e in result.edges), (policy, hop)


@pytest.mark.parametrize("with_theft", [False, True])
def test_decoys_are_untouched(bybit, with_theft):
    fake_moves = bybit["impersonations"]
    assert len(fake_moves) == 108 and sum(r["hop"] == "5" for r in fake_moves) == 56
    assert len(bybit["decoys"]) == 58
    fake_txs = {r["hash"] for r in fake_moves}
    for policy in POLICIES:
        result = trace(bybit, with_theft, policy)
        tainted = {e.target for e in result.edges if e.tainted} | {a for (_, a, _) in result.holdings}
        assert not tainted & bybit["decoys"], policy
        assert not [e for e in result.edges if e.tx_hash in fake_txs and e.tainted], policy  # none of the 108
        assert result.edges and any(e.tainted for e in result.edges), policy  # the trace did run


def test_shared_indicators_name_neither_the_victim_nor_a_dex(bybit):
    tracer = bybit["tracers"][True]
    result = trace(bybit, True)
    findings = build_findings(result)
    assert {"chain": "ethereum", "address": BYBIT_COLD} in findings["victims"]
    bundle = findings_bundle(findings, intermediaries=thief_addresses(result, tracer.services(result)))
    indicated = {o["pattern"].split("'")[1] for o in bundle["objects"] if o["type"] == "indicator"}
    services = {n["address"] for n in bybit["notes"] if n["role_in_trace"] in ANNOTATED}
    assert BYBIT_COLD not in indicated and not indicated & services and not indicated & bybit["decoys"]
    assert set(bybit["hops"]) <= indicated  # the thief's own hop addresses are shared
    assert any(o["type"] == "identity" and BYBIT_COLD in o["description"] for o in bundle["objects"])


@pytest.mark.parametrize("policy", POLICIES)
def test_no_freeze_letter_below_the_minimum(bybit, policy, tmp_path):
    result = trace(bybit, True, policy)
    findings = build_findings(result, incident="Bybit 2025-02-21")
    requests, below = freeze_plan(result, findings, ["US", "KR", "JP"])
    write_freeze_requests(requests, tmp_path, below_minimum=below)
    # the data has no labelled exchange and no stablecoin: nothing to ask (before issue 15 haircut
    # wrote a letter for 0.000000003858790685 ETH); the next test labels holders to exercise the minimum
    assert requests == [] and below == []
    assert all(r["share_of_stolen"] >= MIN_SHARE for r in requests)
    letters = {p.name for p in tmp_path.glob("*.html")}
    assert len(letters) == len(requests)
    doc = json.loads((tmp_path / "freeze_requests.json").read_text())
    assert all(b["share_of_stolen"] < MIN_SHARE for b in doc["below_minimum"])


def test_cli_prints_each_warning_on_one_stderr_line(bybit, tmp_path, monkeypatch):
    monkeypatch.setenv("TRILATERAL_HOME", str(tmp_path / "cli-home"))
    (tmp_path / "cli-home").mkdir()
    (tmp_path / "cli-home" / "chain").symlink_to(bybit["tracers"][False].store.root)
    out = tmp_path / "findings.json"
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", ANCHOR, "--after",
                                   "2025-02-21T00:00:00Z", "--json", str(out), "--incident", "Bybit 2025"])
    assert res.exit_code == 0, res.output
    findings = json.loads(out.read_text())
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(lines) == len(findings["warnings"]) > 0 and findings["incident"] == "Bybit 2025"
    assert any("seed_without_inflow" in ln for ln in lines)


def test_paths_show_where_an_asset_was_presumed_not_a_silent_jump(bybit):
    from trilateral.trace import explain

    result = trace(bybit, True)
    for hop in bybit["hops"][2:4]:
        for path in explain(result, hop, limit=3):
            steps = path["steps"]
            for before, after in zip(steps, steps[1:], strict=False):
                if before["asset"] != after["asset"]:  # a change of asset is a swap or a stated presumption
                    assert after["kind"] == "presumed" or before["kind"] == after["kind"] == "dex_swap", steps


@pytest.mark.parametrize("policy", ["haircut", "fifo"])
def test_the_minimum_decides_on_the_real_flows(bybit, policy, tmp_path):
    """The shipped data has no labelled exchange, so the test above writes no letter at all. Here two
    unlabelled holders of the real trace are labelled as exchange hot wallets (an investigator's
    hypothesis): the one holding ~2.5 % of the stolen ETH gets a letter, the one holding a few
    millionths of it does not (it is listed below the minimum instead)."""
    home = bybit["home"]
    result = trace(bybit, True, policy)
    stolen = result.stolen[("ethereum", "ETH")]
    held = sorted(((v, a) for (c, a, asset), v in result.holdings.items() if asset == "ETH"), reverse=True)
    unlabelled = [(v, a) for v, a in held if not bybit["labels"].lookup("ethereum", [a])[0]]
    big, dust = unlabelled[0], unlabelled[-1]
    assert big[0] / stolen >= 0.01 and dust[0] / stolen < MIN_SHARE / 100
    labels = LabelStore(root=tmp_path / "labels")
    for pack in sorted(home.parent.glob("*.yaml")):
        labels.import_file(pack)
    labels.import_file(_tagpack(tmp_path / "hypothesis.yaml", "hypothesis", [
        {"address": big[1], "currency": "ETH", "label": "Big Exchange hot wallet", "category": "exchange",
         "source": "test"},
        {"address": dust[1], "currency": "ETH", "label": "Dust Exchange hot wallet", "category": "exchange",
         "source": "test"}]))
    tracer = Tracer(bybit["tracers"][True].store, labels)
    result = tracer.trace("ethereum", [ANCHOR], TraceOptions(policy=policy, gaps="taint", after=1_740_000_000))
    findings = build_findings(result, incident="Bybit 2025-02-21")
    requests, below = freeze_plan(result, findings, ["US", "KR", "JP"])
    write_freeze_requests(requests, tmp_path / "letters", below_minimum=below)
    asked = {d["address"] for r in requests for d in r["deposit_addresses"]}
    refused = {d["address"] for r in below for d in r["deposit_addresses"]}
    assert big[1] in asked and dust[1] in refused and dust[1] not in asked
    assert all(r["share_of_stolen"] >= MIN_SHARE for r in requests)
    letters = sorted(p.read_text() for p in (tmp_path / "letters").glob("*.html"))
    assert len(letters) == len(requests) and not any(dust[1] in text for text in letters)
    assert any(big[1] in text for text in letters)
