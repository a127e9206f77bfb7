"""Hub indicators count as hits only as far as the caller may read them; the HTTP endpoint."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trilateral.cli import app
from trilateral.core.tlp import Tlp, tlp2_marking_definition
from trilateral.hub import Hub
from trilateral.screening.service import screen_addresses

RONIN = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
SHARED = "0x1111111111111111111111111111111111111111"  # AMBER indicator from US
SECRET = "0x2222222222222222222222222222222222222222"  # RED indicator from US, no recipients
CLEAN = "0x3333333333333333333333333333333333333333"
T = "2026-02-01T00:00:00.000Z"


def _indicator(n: int, address: str, tlp: Tlp) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--6c7d1a52-0000-4000-8000-00000000000{n}",
            "created": T, "modified": T, "name": f"Drainer wallet {n}", "pattern_type": "stix", "valid_from": T,
            "pattern": f"[cryptocurrency-wallet:address = '{address}']",
            "object_marking_refs": [tlp2_marking_definition(tlp)["id"]]}


def _hub_with_intel() -> dict[str, str]:
    hub = Hub.open()
    try:
        tokens = {p.code: token for p, token in hub.init()}
        hub.submit(hub.principal("US"), {"type": "bundle", "id": "bundle--6c7d1a52-0000-4000-8000-000000000009",
                                         "objects": [_indicator(1, SHARED, Tlp.AMBER),
                                                     _indicator(2, SECRET, Tlp.RED)]})
    finally:
        hub.close()
    return tokens


def _hub_hits(result: dict) -> list[dict]:
    return [h for h in result["hits"] if h["category"] == "indicator"]


def test_member_sees_amber_indicator_but_not_another_members_red(ofac_labels, database_url):
    _hub_with_intel()
    kr = {r["address"]: r for r in screen_addresses([SHARED, SECRET], reader_code="KR", hops=0)}
    [hit] = _hub_hits(kr[SHARED])
    assert {k: hit[k] for k in ("source", "entity", "programs", "category", "list", "status")} == {
        "source": "hub:US", "entity": "Drainer wallet 1", "programs": [], "category": "indicator", "list": "hub:US",
        "status": "listed"}
    assert hit["entry_id"].startswith("indicator--")
    assert kr[SECRET]["hits"] == []
    us = {r["address"]: r for r in screen_addresses([SHARED, SECRET], reader_code="US", hops=0)}
    assert _hub_hits(us[SECRET])  # the submitter reads its own RED object
    anonymous = screen_addresses([SHARED], hops=0)
    assert anonymous[0]["hits"] == []  # no --as: no hub intel


def test_cli_screen_as_member(ofac_labels, database_url):
    _hub_with_intel()
    out = CliRunner().invoke(app, ["screen", SHARED, "--as", "JP", "--json"])
    assert out.exit_code == 0, out.output
    assert '"source": "hub:US"' in out.stdout


def test_http_endpoint_authenticates_and_returns_the_screen_list(ofac_labels, database_url):
    from trilateral.taxii.app import create_app

    tokens = _hub_with_intel()
    client = TestClient(create_app())
    body = {"addresses": [RONIN, SHARED, CLEAN], "chain": "ethereum", "hops": 2}
    assert client.post("/api/v1/screen", json=body).status_code == 401
    auth = {"Authorization": "Basic " + base64.b64encode(f"KR:{tokens['KR']}".encode()).decode()}
    r = client.post("/api/v1/screen", json=body, headers=auth)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [d["address"] for d in doc] == [RONIN, SHARED, CLEAN]
    assert doc[0]["hits"][0]["source"] == "OFAC SDN" and "DPRK3" in doc[0]["hits"][0]["programs"]
    assert _hub_hits(doc[1]) and doc[2]["hits"] == []
    assert all(set(d) == {"address", "chain", "hits", "exposure"} for d in doc)
    bearer = {"Authorization": f"Bearer {tokens['US']}"}
    assert client.post("/api/v1/screen/", json={"addresses": [SECRET]}, headers=bearer).json()[0]["hits"]
    bad = client.post("/api/v1/screen", json={"addresses": [RONIN], "chain": "ethereum", "hops": 99}, headers=auth)
    assert bad.status_code == 400 and "hops" in bad.text  # the TAXII error handler answers 400


def test_wallets_the_hub_links_to_a_dprk_group_are_exposure_sources_for_readers(database_url):
    from tests.conftest import shared_data
    from tests.screening.conftest import write_account_chain
    from trilateral.core.settings import Settings
    from trilateral.refdata.update import import_attack

    import_attack(shared_data("mitre_attack_dprk", "dprk_enterprise_attack_v18.1_stix21.json"))
    lazarus = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"
    drainer, clean, target = SHARED, CLEAN, "0x4444444444444444444444444444444444444444"
    write_account_chain(Settings.from_env().chain_dir, [drainer, clean, target],
                        [(0, 2, 0, 10), (1, 2, 0, 30)])
    hub = Hub.open()
    try:
        hub.init()
        for n, tlp in ((1, Tlp.AMBER), (2, Tlp.RED)):
            ind = _indicator(n, drainer if n == 1 else clean, tlp)  # RED: only US reads the second link
            rel = {"type": "relationship", "spec_version": "2.1", "id": f"relationship--6c7d1a52-0000-4000-8000-00000000010{n}",
                   "created": T, "modified": T, "relationship_type": "indicates", "source_ref": ind["id"],
                   "target_ref": lazarus, "object_marking_refs": ind["object_marking_refs"]}
            hub.submit(hub.principal("US"), {"type": "bundle", "id": f"bundle--6c7d1a52-0000-4000-8000-00000000020{n}",
                                             "objects": [ind, rel]})
    finally:
        hub.close()
    assert screen_addresses([target], hops=1)[0]["exposure"] == 0.0  # no reader: labels only
    assert screen_addresses([target], hops=1, reader_code="KR")[0]["exposure"] == 0.25
    assert screen_addresses([target], hops=1, reader_code="US")[0]["exposure"] == 1.0


def test_wallet_indicators_in_every_feed_spelling_are_screening_hits(database_url):
    # `[cryptocurrency-wallet:value = ...]` (OpenCTI's spelling) was stored but never matched: only `:address` did
    spellings = [("cryptocurrency-wallet", "value"), ("x-opencti-cryptocurrency-wallet", "value"),
                 ("cryptocurrency-wallet", "address"), ("x-cryptocurrency-wallet", "address"),
                 ("x-crypto-wallet", "value")]
    wallets = [f"0xabcdef{n:034x}" for n in range(len(spellings))]
    objects = []
    for n, ((sco_type, prop), wallet) in enumerate(zip(spellings, wallets, strict=True)):
        ind = _indicator(n, wallet, Tlp.AMBER)
        ind["pattern"] = f"[{sco_type}:{prop} = '0x{wallet[2:].upper()}']"  # mixed case, as EIP-55 writes it
        objects.append(ind)
    hub = Hub.open()
    try:
        hub.init()
        hub.submit(hub.principal("US"), {"type": "bundle", "id": "bundle--6c7d1a52-0000-4000-8000-000000000301",
                                         "objects": objects})
    finally:
        hub.close()
    results = screen_addresses(wallets, reader_code="KR", hops=0)
    found = {r["address"]: [h["entity"] for h in _hub_hits(r)] for r in results}
    assert found == {w: [f"Drainer wallet {n}"] for n, w in enumerate(wallets)}
