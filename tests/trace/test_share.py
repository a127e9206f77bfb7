"""End to end with the real label store and hub: TagPack + ActorPack labels, `trace --share-as`
submits the AMBER bundle, members read it back; the freeze request is routed by jurisdiction."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from tests.trace.etl import Etl, address
from typer.testing import CliRunner

from trilateral.cli import app
from trilateral.hub import Hub
from trilateral.labels import LabelStore

E = 10**18
THIEF, A, HOT, VICTIM = (address(n) for n in ["thief", "a", "hot", "victim"])


def _hangang_case(home: Path, tmp_path: Path) -> str:
    """Stolen ETH that reaches Hangang Exchange (KR) through one deposit address; the theft's tx hash."""
    e = Etl()
    theft = e.send(1, VICTIM, THIEF, 10 * E)
    e.send(2, THIEF, A, 10 * E)
    e.send(3, A, HOT, 9 * E)
    e.send(4, A, address("b"), 1 * E)  # A also pays someone else: not a deposit address
    e.ingest(home)
    tags = tmp_path / "tags.yaml"
    tags.write_text(yaml.safe_dump({"title": "test", "creator": "test", "is_public": True, "tags": [
        {"address": HOT, "currency": "ETH", "label": "Hangang hot wallet", "category": "exchange",
         "actor": "hangang-exchange", "source": "https://example.org", "confidence": "service_data"}]}))
    actors = tmp_path / "actors.yaml"
    actors.write_text(yaml.safe_dump({"title": "actors", "creator": "test", "is_public": True, "actors": [
        {"id": "hangang-exchange", "label": "Hangang Exchange", "categories": ["exchange"],
         "jurisdictions": ["KR"], "uri": "https://hangang.example"}]}))
    labels = LabelStore()
    labels.import_file(actors)
    labels.import_file(tags)
    return theft


def test_trace_shares_findings_with_members(home: Path, database_url: str, tmp_path: Path):
    theft = _hangang_case(home, tmp_path)
    hub = Hub.open()
    hub.init()
    res = CliRunner().invoke(app, ["member", "profile", "KR", "--agency", "Korean National Police Agency",
                                   "--contact", "kr@police.example", "--reference-prefix", "KNPA",
                                   "--legal-basis", "Act on Reporting of Specific Financial Transaction Information",
                                   "--deadline-days", "7"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "findings.json"
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", theft, "--json", str(out),
                                   "--freeze-dir", str(tmp_path / "freeze"), "--share-as", "US",
                                   "--incident", "Test theft"])
    assert res.exit_code == 0, res.output
    letter = (tmp_path / "freeze" / "hangang-exchange.html").read_text()
    assert "Korean National Police Agency" in letter and "KNPA-" in letter and "Test theft" in letter
    findings = json.loads(out.read_text())
    assert [(o["address"], o["amount_base_units"], o["jurisdiction"]) for o in findings["offramps"]] == \
        [(HOT, str(9 * E), "KR")]
    requests = json.loads((tmp_path / "freeze" / "freeze_requests.json").read_text())["requests"]
    assert requests[0]["routed_to"] == "KR"
    kr = hub.principal("KR")
    objects = [r.object for r in hub.query(kr, types=["x-trilateral-freeze-request", "indicator"]).records]
    assert any(o["type"] == "x-trilateral-freeze-request" and o["routed_to"] == "KR" for o in objects)
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert f"[cryptocurrency-wallet:address = '{A}']" in patterns
    assert not {f"[cryptocurrency-wallet:address = '{x}']" for x in (VICTIM, HOT)} & patterns  # victim, exchange


def test_trace_share_addresses_the_freeze_request_to_the_client_exchange(home: Path, database_url: str,
                                                                        tmp_path: Path):
    # `trace --share-as` left the request unaddressed, so `intel export --as HANGANG` gave 0 objects
    theft = _hangang_case(home, tmp_path)
    hub = Hub.open()
    hub.init()
    hub.add_principal("HANGANG", "Hangang Exchange", client_of="KR")
    hub.add_principal("SAKURA", "Sakura Exchange", client_of="JP")
    res = CliRunner().invoke(app, ["trace", "--chain", "ethereum", "--from", theft, "--json",
                                   str(tmp_path / "findings.json"), "--share-as", "US"])
    assert res.exit_code == 0, res.output
    assert "freeze request to Hangang Exchange addressed to client HANGANG" in res.output
    hangang = [r.object for r in hub.query(hub.principal("HANGANG")).records]
    assert [(o["type"], o["exchange"]) for o in hangang] == [("x-trilateral-freeze-request", "Hangang Exchange")]
    assert hub.query(hub.principal("SAKURA")).records == []  # AMBER from US: not another exchange's business
    res = CliRunner().invoke(app, ["intel", "export", "--as", "HANGANG", "--out", str(tmp_path / "hangang.json")])
    assert res.exit_code == 0, res.output
    exported = json.loads((tmp_path / "hangang.json").read_text())["objects"]
    assert "x-trilateral-freeze-request" in {o["type"] for o in exported}
