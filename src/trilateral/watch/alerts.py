"""What an alert says and to whom: webhook JSON, the ready freeze request, the STIX bundle for the
hub, and the principals it is addressed to (no I/O)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from trilateral.core.amount import format_units
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp, tlp2_marking_definition
from trilateral.hub.recipients import with_recipients
from trilateral.trace.findings import iso
from trilateral.trace.freeze import DEFAULT_MEMBERS, freeze_plan
from trilateral.trace.model import Edge, TraceResult
from trilateral.watch.model import Alert

SCHEMA_VERSION = 1
NAMESPACE = uuid.UUID("3b0f6f0e-8a55-4f7c-9a3e-1c2d4e5f6a7b")


def _norm(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "", (text or "").lower())


def route(alert: Alert, principals: Sequence[Any]) -> list[str]:
    """Principal codes the alert is for: clients whose name or code names the alert's entity (the
    exchange, or the stablecoin's issuer), their sponsoring members, and the member of the entity's
    jurisdiction. Empty: nobody in particular (the members read it as TLP:AMBER)."""
    entity = _norm(alert.entity)
    active = [p for p in principals if not p.revoked]
    codes: set[str] = set()
    if entity:
        for p in active:
            if p.kind == "client" and entity in (_norm(p.name), _norm(p.code), _norm(p.code.split("-", 1)[-1])):
                codes.add(p.code)
                if p.sponsor:
                    codes.add(p.sponsor)
    members = {p.code for p in active if p.kind == "member"}
    if alert.jurisdiction and alert.jurisdiction.upper() in members:
        codes.add(alert.jurisdiction.upper())
    return sorted(codes)


def freeze_request(alert: Alert, seeds: list[dict[str, str]], policy: str, edges: Iterable[tuple],
                   symbols: dict[str, str], members: Iterable[str] = DEFAULT_MEMBERS) -> dict[str, Any]:
    """The freeze request `trace --freeze-dir` would write for this deposit, with evidence paths
    from the case's tainted edges."""
    result = TraceResult(policy)
    result.seeds = seeds
    result.decimals[(alert.chain, alert.asset)] = alert.decimals
    for ts, tx, src, dst, asset, amount, tainted, conf, kind in edges:
        result.edges.append(Edge(alert.chain, ts, tx, src, dst, symbols.get(asset, asset), int(amount), int(tainted),
                                 conf, "exchange" if kind in ("exchange", "deposit") else kind))
    offramp = {"chain": alert.chain, "address": alert.address, "entity": alert.entity, "category": alert.category,
               "jurisdiction": alert.jurisdiction, "asset": alert.asset,
               "amount": format_units(alert.amount, alert.decimals), "amount_base_units": str(alert.amount),
               "first_seen": iso(alert.timestamp), "hops": 0, "confidence": alert.confidence}
    seed_addresses = {s["address"] for s in seeds if "address" in s}
    seed_txs = {s["tx_hash"] for s in seeds if "tx_hash" in s}
    stolen: dict[str, int] = {}
    for e in result.edges:  # what left the seeds is the case's stolen value: the minimum is a share of it
        if e.source in seed_addresses or e.tx_hash in seed_txs:
            stolen[e.asset] = stolen.get(e.asset, 0) + e.tainted
    totals = [{"chain": alert.chain, "asset": a, "stolen_base_units": str(v), "presumed_base_units": "0"}
              for a, v in stolen.items()]
    findings = {"policy": policy, "seeds": seeds, "offramps": [offramp], "totals": totals}
    requests, below = freeze_plan(result, findings, members, datetime.fromtimestamp(alert.timestamp, UTC))
    [request] = requests or below
    request["below_minimum"] = not requests  # the alert still says where the money went; no letter is due
    return request


def alert_body(alert: Alert, case: dict[str, Any], recipients: list[str], raised_at: str,
               freeze: dict[str, Any] | None) -> dict[str, Any]:
    """The webhook JSON of an alert (docs/watch.md has its schema)."""
    return {
        "schema": f"trilateral.watch.alert/{SCHEMA_VERSION}", "event": "alert.raised", "id": alert.key,
        "raised_at": raised_at, "kind": alert.kind,
        "case": {"id": case["id"], "name": case["name"], "incident": case.get("incident")},
        "chain": alert.chain, "block": {"number": alert.block_number, "hash": alert.block_hash,
                                        "time": iso(alert.timestamp)},
        "tx_hash": alert.tx_hash, "address": alert.address, "source": alert.source, "hot_wallet": alert.hot_wallet,
        "asset": alert.asset, "asset_contract": alert.asset_key if alert.asset_key.startswith("0x") else None,
        "amount": format_units(alert.amount, alert.decimals), "amount_base_units": str(alert.amount),
        "confidence": alert.confidence, "entity": alert.entity, "category": alert.category,
        "jurisdiction": alert.jurisdiction, "recipients": recipients, "freeze_request": freeze,
    }


def retraction_body(body: dict[str, Any], at: str) -> dict[str, Any]:
    """A block was reorged away: the alert it raised no longer holds."""
    return {**body, "event": "alert.retracted", "retracted_at": at}


def line(body: dict[str, Any]) -> str:
    """The one line `trilateral watch` prints per alert."""
    where = f"{body['entity'] or '-'} {body['address']}"
    verb = "RETRACTED " if body["event"] == "alert.retracted" else ""
    return (f"{verb}{body['kind']} case={body['case']['id']} {body['chain']}#{body['block']['number']} "
            f"{body['amount']} {body['asset']} -> {where} tx={body['tx_hash']} id={body['id']}")


def stix_bundle(body: dict[str, Any]) -> dict[str, Any]:
    """The alert as STIX 2.1 for the hub: TLP:AMBER, addressed to the exchange's client principal
    and its member (x_trilateral_recipients), so the exchange's TAXII poller reads it."""
    at = body["raised_at"]
    marking = [TLP2_MARKING_IDS[Tlp.AMBER]]
    ident = f"x-trilateral-watch-alert--{uuid.uuid5(NAMESPACE, body['id'])}"
    retracted = body["event"] == "alert.retracted"
    modified = body.get("retracted_at", at) if retracted else at
    obj: dict[str, Any] = {
        "type": "x-trilateral-watch-alert", "spec_version": "2.1", "id": ident, "created": at, "modified": modified,
        "name": f"{body['kind']}: {body['amount']} {body['asset']} at {body['address']}", "alert_id": body["id"],
        "alert_kind": body["kind"], "status": "retracted" if retracted else "raised", "chain": body["chain"],
        "block_number": body["block"]["number"], "block_hash": body["block"]["hash"], "tx_hash": body["tx_hash"],
        "address": body["address"], "asset": body["asset"], "amount_base_units": body["amount_base_units"],
        "confidence": round(body["confidence"] * 100), "case_name": body["case"]["name"], "object_marking_refs": marking,
    }
    for key in ("entity", "jurisdiction", "hot_wallet", "asset_contract"):
        if body.get(key):
            obj[key] = body[key]
    objects = [tlp2_marking_definition(Tlp.AMBER)]
    freeze = body.get("freeze_request")
    if freeze:
        obj["freeze_request_id"] = freeze["id"]
        fr = {"type": "x-trilateral-freeze-request", "spec_version": "2.1",
              "id": f"x-trilateral-freeze-request--{uuid.uuid5(NAMESPACE, freeze['id'] + body['id'])}",
              "created": at, "modified": modified, "exchange": freeze["exchange"],
              "requested_at": freeze["requested_at"], "status": "withdrawn" if retracted else freeze["status"],
              "deposit_addresses": [{k: d[k] for k in ("chain", "address", "asset", "amount_base_units", "first_seen")}
                                    for d in freeze["deposit_addresses"]], "object_marking_refs": marking}
        if freeze.get("jurisdiction"):
            fr["jurisdiction"] = freeze["jurisdiction"]
        if freeze.get("routed_to"):
            fr["routed_to"] = freeze["routed_to"]
        objects.append(with_recipients(fr, body["recipients"]) if body["recipients"] else fr)
    objects.append(with_recipients(obj, body["recipients"]) if body["recipients"] else obj)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid5(NAMESPACE, body['id'] + modified)}", "objects": objects}
