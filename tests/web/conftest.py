"""Console fixtures: a hub with members, clients (one revoked) and their tokens; an in-process app;
sign-in helpers; and a small case (findings + freeze requests) in the data directory."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.hub.conftest import T0
from trilateral.core.settings import Settings
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub import Hub

CLIENTS = (("US", "US-BANK"), ("KR", "KR-UPBIT"), ("JP", "JP-BITFLYER"))
REVOKED = "KR-GONE"


@pytest.fixture
def console_hub(home: Path, database_url: str) -> Iterator[tuple[Hub, dict[str, str]]]:
    """An initialised hub (SQLite, and PostgreSQL when configured) and every principal's token."""
    hub = Hub.open(Settings.from_env())
    tokens = {p.code: t for p, t in hub.init()}
    for member, client in CLIENTS:
        tokens[client] = hub.add_principal(client, client.title(), client_of=member)[1]
    tokens[REVOKED] = hub.add_principal(REVOKED, "Gone exchange", client_of="KR")[1]
    yield hub, tokens
    hub.close()


@pytest.fixture
def app_client(console_hub: tuple[Hub, dict[str, str]]) -> Iterator[TestClient]:
    from trilateral.taxii.app import create_app

    hub, _ = console_hub
    with TestClient(create_app(hub.settings, hub=hub), base_url="http://testserver") as client:
        yield client


def login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, code: str, token: str) -> str:
    """Sign in through the form; returns the session's CSRF token (from the page)."""
    res = client.post("/login", data={"code": code, "token": token, "csrf": login_csrf(client)},
                      follow_redirects=False)
    assert res.status_code == 303, res.text
    return page_csrf(client)


def page_csrf(client: TestClient) -> str:
    return re.search(r'data-csrf="([^"]+)"', client.get("/intel").text).group(1)


def write_case(home: Path, name: str = "lazarus-2026", **extra: Any) -> Path:
    """A case directory: findings.json (DESIGN.md §4 shape) and freeze/freeze_requests.json."""
    case = home / "cases" / name
    (case / "freeze").mkdir(parents=True)
    seed, hop, dep = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40
    findings = {"policy": "haircut", "seeds": [{"chain": "ethereum", "address": seed}],
                "offramps": [{"chain": "ethereum", "address": dep, "entity": "Upbit", "category": "exchange",
                              "jurisdiction": "KR", "asset": "ETH", "amount": "1.5",
                              "amount_base_units": "1500000000000000000", "first_seen": "2026-03-01T00:00:00Z",
                              "hops": 2, "confidence": 0.9}],
                "holdings": [{"chain": "ethereum", "address": "0x" + "d" * 40, "asset": "ETH",
                              "amount_base_units": "500000000000000000", "confidence": 0.8,
                              "since": "2026-03-01T00:00:00Z"}],
                "warnings": [], "stats": {"transfers_scanned": 10, "seconds": 0.1}, **extra}
    step = {"chain": "ethereum", "time": "2026-03-01T00:00:00Z", "tx_hash": "0x" + "1" * 64, "asset": "ETH",
            "kind": "transfer", "confidence": 0.9, "amount": "1.5", "amount_base_units": "1500000000000000000"}
    request = {"id": "freeze-upbit-1", "exchange": "Upbit", "jurisdiction": "KR", "routed_to": "KR", "routing": "KR",
               "policy": "haircut", "seeds": findings["seeds"], "requested_at": "2026-03-02T00:00:00Z",
               "status": "requested", "frozen": [],
               "deposit_addresses": [{"chain": "ethereum", "address": dep, "asset": "ETH", "amount": "1.5",
                                      "amount_base_units": "1500000000000000000",
                                      "first_seen": "2026-03-01T00:00:00Z", "confidence": 0.9,
                                      "evidence": [{"hops": 2, "confidence": 0.9, "steps": [
                                          {**step, "from": seed, "to": hop}, {**step, "from": hop, "to": dep}]}]}]}
    (case / "findings.json").write_text(json.dumps(findings))
    (case / "freeze" / "freeze_requests.json").write_text(json.dumps({"requests": [request]}))
    return case


def watch_alert(name: str = "Bybit", amount: int = 3 * 10**18) -> dict:
    """The webhook body the watch builds for an exchange deposit at Upbit (KR), addressed to KR and KR-UPBIT."""
    from trilateral.watch.alerts import alert_body
    from trilateral.watch.model import Alert

    a = Alert(case_id=1, kind="exchange_deposit", chain="ethereum", block_number=23, block_hash="0x" + "ab" * 32,
              timestamp=int(time.time()), tx_hash="0x" + uuid.uuid4().hex * 2, address="0x" + "4d" * 20,
              asset="ETH", asset_key="ETH", decimals=18, amount=amount, confidence=0.9, seq=0, entity="Upbit",
              category="exchange", jurisdiction="KR", hot_wallet="0x" + "a1" * 20)
    raised = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return alert_body(a, {"id": 1, "name": name}, ["KR", "KR-UPBIT"], raised, None)


def incident_and_attribution(tlp: Tlp) -> list[dict]:
    """An incident, the actor and the attributed-to relationship `trilateral attribute` shares."""
    marks = {"object_marking_refs": [TLP2_MARKING_IDS[tlp]]}
    base = {"spec_version": "2.1", "created": T0, "modified": T0, **marks}
    incident = {"type": "incident", "id": f"incident--{uuid.uuid4()}", "name": "Exchange hot wallet drained",
                "description": "Victim report of the March theft", **base}
    actor = {"type": "intrusion-set", "id": f"intrusion-set--{uuid.uuid4()}", "name": "Lazarus Group", **base}
    rel = {"type": "relationship", "id": f"relationship--{uuid.uuid4()}", "relationship_type": "attributed-to",
           "source_ref": incident["id"], "target_ref": actor["id"], "confidence": 82, "x_trilateral_score": 0.82,
           "description": "Trilateral attribution: Lazarus Group (G0032)", **base}
    return [incident, actor, rel]


def store_drawn_objects(hub: Hub, codes: list[str] | tuple[str, ...], objects: list, value: str = "203.0.113.7"
                        ) -> tuple[list[str], dict[str, dict[str, set[str]]]]:
    """Submit objects drawn from the hub policy tests' `object_st` ((submitter, [(tlp, recipients)...])
    as versions of fresh indicators; their ids and, per code, the versions `may_read` lets it read."""
    from tests.hub.conftest import bundle, indicator
    from trilateral.hub.policy import ObjectMeta, may_read

    people = {c: hub.principal(c) for c in codes}
    expected: dict[str, dict[str, set[str]]] = {c: {} for c in codes}
    ids = []
    for submitter, versions in objects:
        stix_id = f"indicator--{uuid.uuid4()}"
        ids.append(stix_id)
        payload = []
        for n, (tlp, recipients) in enumerate(versions):
            modified = f"2026-03-0{n + 1}T00:00:00.000Z"
            payload.append(indicator(value, tlp, stix_id=stix_id, modified=modified, recipients=recipients))
            meta = ObjectMeta(Tlp.AMBER_STRICT if tlp is None else tlp, submitter, people[submitter].member_code,
                              frozenset(recipients))
            for code in codes:
                if may_read(people[code], meta):
                    expected[code].setdefault(stix_id, set()).add(modified)
        assert not hub.submit(people[submitter], bundle(*payload)).failed
    return ids, expected
