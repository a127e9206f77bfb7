"""The real case: Bybit (2025-02-21), publicly attributed by the FBI to TraderTraitor.

The register's own Bybit rows are left out of what the model learns (a derived register without them
is written to tmp_path), so the case tests what was learnt from the other incidents, not Bybit itself.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import shared_data
from trilateral.cli import app

BYBIT_TECHNIQUES = ("T1566.003", "T1204.002", "T1071.001", "T1583.001", "T1528", "T1550.001", "T1078.004",
                    "T1090", "T1195.002", "T1059.007", "T1565.003", "T1070", "T1657")
THEFT = "0x47666fab8bd0ac7003bce3f5c3585383f09486e2"  # Bybit direct-theft address (bybit_trace hop 1)


def _without_bybit(src: Path, dst: Path) -> Path:
    with src.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["incident"].casefold() != "bybit"]
        fields = reader.fieldnames
    with dst.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return dst


def _incident_bundle(path: Path) -> Path:
    objects = [{"type": "incident", "spec_version": "2.1", "id": "incident--6a1f3c52-0b7e-4c59-9a53-2b0a4a1f0b01",
                "created": "2025-02-21T14:13:00.000Z", "modified": "2025-02-21T14:13:00.000Z", "name": "Bybit"}]
    objects += [{"type": "attack-pattern", "spec_version": "2.1", "id": f"attack-pattern--00000000-0000-4000-8000-{i:012d}",
                 "created": "2025-02-21T14:13:00.000Z", "modified": "2025-02-21T14:13:00.000Z", "name": t,
                 "external_references": [{"source_name": "mitre-attack", "external_id": t}]}
                for i, t in enumerate(BYBIT_TECHNIQUES)]
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--6a1f3c52-0b7e-4c59-9a53-2b0a4a1f0b02",
                                "objects": objects}))
    return path


def _route_findings(path: Path) -> Path:
    """The public on-chain route: THORChain deposits (bybit_trace annotations), an eXch-like instant
    exchange, and the value leaving Ethereum for Bitcoin (bridge hops)."""
    def off(chain: str, address: str, entity: str, category: str, asset: str, base: str, amount: str) -> dict:
        return {"chain": chain, "address": address, "entity": entity, "category": category, "jurisdiction": None,
                "asset": asset, "amount": amount, "amount_base_units": base, "first_seen": "2025-02-24T10:00:00Z",
                "hops": 4, "confidence": 0.9}
    doc = {"policy": "haircut", "seeds": [{"chain": "ethereum", "address": THEFT}],
           "offramps": [off("ethereum", "0x54acab846901bdbdc553a675d97240511e4bfba2", "THORChain Router", "bridge",
                            "ETH", "454060000000000000000", "454.06"),
                        off("ethereum", "0x8b62111bd342c352daf453ccd0676833c0a31ca1", "eXch", "exchange", "ETH",
                            "10000000000000000000", "10"),
                        off("bitcoin", "bc1qexamplebybitlaunderingroute0000000000", "THORChain", "bridge", "BTC",
                            "100000000", "1")],
           "flows": {"bridge": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": "454060000000000000000"}]},
           "stats": {"transfers_scanned": 331, "seconds": 0.1}}
    path.write_text(json.dumps(doc))
    return path


def test_bybit_techniques_and_route_rank_tradertraitor_first_under_lazarus_on_all_172_groups(home, tmp_path):
    runner = CliRunner()
    sources = [shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"),  # names, aliases
               shared_data("mitre_attack_dprk", "all_groups_uses.csv"),  # then the 172-group catalogue
               shared_data("misp_galaxy_dprk", "threat-actor_dprk_subset.json"),
               _without_bybit(shared_data("dprk_incidents", "incidents.csv"), tmp_path / "incidents.csv"),
               _without_bybit(shared_data("dprk_incidents", "incident_addresses.csv"), tmp_path / "addresses.csv"),
               shared_data("graphsense_tagpacks", "actors.csv")]
    for source in sources:
        out = runner.invoke(app, ["refdata", "import", str(source)])
        assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["attribute", str(_incident_bundle(tmp_path / "bybit.json")), "--json",
                              "--trace", str(_route_findings(tmp_path / "findings.json")), "--top", "500"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    candidates = doc["candidates"]
    assert len(candidates) >= 172
    best_dprk = next(c for c in candidates if c["dprk"])
    assert best_dprk["name"] == "TraderTraitor"
    assert {"Jade Sleet", "UNC4899", "Slow Pisces"} <= set(best_dprk["aliases"])
    assert best_dprk["umbrella"] == {"id": "G0032", "name": "Lazarus Group"}
    assert any(s.startswith("misp:") for s in best_dprk["sources"])
    assert any(s.startswith("register:") for s in best_dprk["sources"])
    kinds = {e["kind"] for e in best_dprk["evidence"]}
    assert {"technique", "laundering"} <= kinds
    assert all(isinstance(e["weight"], float) for e in best_dprk["evidence"])
    assert max(c["confidence"] for c in candidates if not c["dprk"]) <= 0.2
    assert doc["dprk_probability"] is not None and doc["dprk_probability"] > 0.5
    assert set(doc["observed"]["laundering"]) == {"thorchain", "instant_exchange", "bridge"}
    assert len({c["name"] for c in candidates}) == len(candidates)  # one candidate per canonical actor
    assert not any("Silent Chollima" in n for n in doc["notes"])  # the galaxy's name of Andariel, merged


def test_sharing_an_actor_attack_has_no_object_for_writes_its_canonical_intrusion_set(home, tmp_path):
    from trilateral.attribution.engine import Attribution
    from trilateral.attribution.service import share_attribution
    from trilateral.hub import Hub

    hub = Hub.open()
    hub.init()
    hub.close()
    objects = json.loads(_incident_bundle(tmp_path / "bybit.json").read_text())["objects"]
    candidate = {"id": "misp--825abfd9-7238-4438-a9e7-c08791f4df4e", "name": "TraderTraitor", "score": 3.6,
                 "confidence": 0.88, "stix_id": None, "aliases": ["Jade Sleet", "UNC4899", "Slow Pisces"],
                 "sources": ["misp:825abfd9-7238-4438-a9e7-c08791f4df4e"]}
    relationship, _status = share_attribution(Attribution([candidate], {}), objects, "US")
    hub = Hub.open()
    try:
        sets = [r.object for r in hub.query(hub.principal("JP"), types=["intrusion-set"]).records]
    finally:
        hub.close()
    [actor] = sets
    assert actor["name"] == "TraderTraitor" and "Jade Sleet" in actor["aliases"]
    assert relationship["target_ref"] == actor["id"] and relationship["confidence"] == 88
