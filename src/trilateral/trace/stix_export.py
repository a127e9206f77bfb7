"""Trace findings as a STIX 2.1 bundle for the hub: the incident, thief and intermediary addresses
as indicators, `indicates` relationships, an x-trilateral-trace object and one
x-trilateral-freeze-request per exchange, all marked TLP:AMBER unless told otherwise.

Indicator patterns use the STIX patterning form `[cryptocurrency-wallet:address = '<address>']`
with `pattern_type: stix` (STIX 2.1 has no core wallet SCO: this is the spelling of dogesec's
extension SCO; the hub also reads OpenCTI's `:value` and other feeds' spellings, hub/observables.py);
both the `stix2` library and `stix2-validator` accept it (tests/trace/test_stix_export.py).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp, tlp2_marking_definition
from trilateral.hub.recipients import recipients_of, with_recipients
from trilateral.hub.types import PrincipalInfo
from trilateral.trace.findings import edges_into, explain
from trilateral.trace.model import TraceResult

NAMESPACE = uuid.UUID("6f1c1a52-3a8e-4f55-9d0b-7b1f3f0c2a11")  # deterministic ids: same trace, same ids


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(map(str, parts)))}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def findings_bundle(findings: dict[str, Any], tlp: Tlp = Tlp.AMBER, *, incident_ref: str | None = None,
                    freeze_requests: list[dict[str, Any]] | None = None,
                    intermediaries: list[dict[str, Any]] | None = None, incident_name: str | None = None,
                    victim_name: str | None = None) -> dict[str, Any]:
    """A STIX 2.1 bundle of the trace. `intermediaries` [{chain, address, confidence, path}]
    (`thief_addresses`) are indicated with the seeds; victims and off-ramps never are."""
    now = _now()
    marking = [TLP2_MARKING_IDS[tlp]]
    key = repr((findings["policy"], findings["seeds"]))
    objects: list[dict[str, Any]] = [tlp2_marking_definition(tlp)]
    if incident_ref is None:
        incident_ref = _id("incident", key)
        objects.append({"type": "incident", "spec_version": "2.1", "id": incident_ref, "created": now,
                        "modified": now, "name": incident_name or "Theft traced by Trilateral",
                        "description": "Stolen funds followed from the seeds to off-ramps.",
                        "x_trilateral_stolen": findings.get("stolen", []), "object_marking_refs": marking})
    trace_id = _id("x-trilateral-trace", key)
    objects.append({
        "type": "x-trilateral-trace", "spec_version": "2.1", "id": trace_id, "created": now, "modified": now,
        "policy": findings["policy"], "seeds": findings["seeds"], "theft_time": findings.get("theft_time"),
        "incident_ref": incident_ref, "stolen": findings.get("stolen", []), "offramps": findings["offramps"],
        "flows": findings.get("flows", {}), "stats": findings["stats"], "object_marking_refs": marking,
        "incident": findings.get("incident"), "gaps": findings.get("gaps"),
        "holdings": [{k: v for k, v in h.items() if v is not None} for h in findings.get("holdings", [])],
        "frozen": [{k: v for k, v in f.items() if v is not None} for f in findings.get("frozen", [])],
        "totals": findings.get("totals", []),
        "warnings": [{k: v for k, v in w.items() if v is not None} for w in findings.get("warnings", [])],
    })
    never = {(v["chain"], v["address"]) for v in findings.get("victims", [])} | \
        {(o["chain"], o["address"]) for o in findings["offramps"]}
    wallets: dict[tuple[str, str], dict[str, Any]] = {}
    for s in findings["seeds"]:
        if s.get("address"):
            wallets[(s["chain"], s["address"])] = {"role": "thief address (trace seed)", "confidence": 1.0}
    for w in intermediaries or []:
        wallets.setdefault((w["chain"], w["address"]), w)
    for (chain, address), w in sorted(wallets.items()):
        if (chain, address) in never:
            continue  # the victim and the services the money passed are never indicators
        ind = _id("indicator", chain, address)
        path = w.get("path") or []
        why = "; ".join(f"{p['time']} {p['amount']} {p['asset']} from {p['from']} (tx {p['tx_hash']})" for p in path)
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": ind, "created": now, "modified": now,
            "name": f"{chain} {address}",
            "description": (w.get("role") or "address controlled by the thief") + (f". Path: {why}" if why else ""),
            "indicator_types": ["malicious-activity"], "confidence": int(round(100 * float(w.get("confidence", 0.5)))),
            "pattern": f"[cryptocurrency-wallet:address = '{address}']", "pattern_type": "stix",
            "valid_from": now, "object_marking_refs": marking,
            "x_trilateral_path": [{k: p[k] for k in ("chain", "time", "tx_hash", "from", "to", "asset",
                                                     "amount_base_units", "kind")} for p in path],
            "x_trilateral_share_of_stolen": w.get("share"),
        })
        objects.append({"type": "relationship", "spec_version": "2.1", "id": _id("relationship", ind, incident_ref),
                        "created": now, "modified": now, "relationship_type": "indicates", "source_ref": ind,
                        "target_ref": incident_ref, "object_marking_refs": marking})
    victims = findings.get("victims", [])
    if victims:  # the victim is named as the incident's target, never as an indicator
        victim = _id("identity", key, "victim")
        objects.append({"type": "identity", "spec_version": "2.1", "id": victim, "created": now, "modified": now,
                        "name": victim_name or "Victim of the theft", "identity_class": "organization",
                        "description": "Owner of the addresses the stolen funds came from: "
                                       + ", ".join(f"{v['chain']} {v['address']}" for v in victims),
                        "x_trilateral_addresses": victims, "object_marking_refs": marking})
        objects.append({"type": "relationship", "spec_version": "2.1", "id": _id("relationship", incident_ref, victim),
                        "created": now, "modified": now, "relationship_type": "targets", "source_ref": incident_ref,
                        "target_ref": victim, "object_marking_refs": marking})
    for r in freeze_requests or []:
        objects.append({
            "type": FREEZE_TYPE, "spec_version": "2.1", "id": _id(FREEZE_TYPE, r["id"]),
            "created": now, "modified": now, "exchange": r["exchange"], "jurisdiction": r["jurisdiction"],
            "kind": r.get("kind", "exchange"), "reference": r.get("reference"),
            "routed_to": r["routed_to"],
            "deposit_addresses": [{k: d[k] for k in ("chain", "address", "asset", "amount_base_units", "first_seen")}
                                  for d in r["deposit_addresses"]],
            "requested_at": r["requested_at"], "status": r["status"], "frozen": r["frozen"],
            "incident_ref": incident_ref, "trace_ref": trace_id, "object_marking_refs": marking,
        })
    return {"type": "bundle", "id": _id("bundle", key, now), "objects": [_drop_nulls(o) for o in objects]}


FREEZE_TYPE = "x-trilateral-freeze-request"


def _name_key(text: str) -> str:
    """Names compare without case, spaces or punctuation: "Hangang Exchange" = "hangang-exchange"."""
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def address_to_clients(bundle: dict[str, Any], principals: Iterable[PrincipalInfo]
                       ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The bundle with each freeze request addressed (`x_trilateral_recipients`) to the client principal
    that is the exchange (or issuer) asked to freeze, matched on the principal's name or code; and the
    (exchange, client code) pairs addressed. Under TLP:AMBER a client reads only what its own member
    submitted or what is addressed to it: without this, the exchange that must act reads nothing."""
    clients: dict[str, set[str]] = defaultdict(set)
    for p in principals:
        if p.kind == "client" and not p.revoked:
            for text in (p.name, p.code):
                if text and _name_key(text):
                    clients[_name_key(text)].add(p.code)
    objects, addressed = [], []
    for obj in bundle["objects"]:
        codes = clients.get(_name_key(str(obj.get("exchange") or ""))) if obj.get("type") == FREEZE_TYPE else None
        if codes:
            obj = with_recipients(obj, sorted(codes | recipients_of(obj)))
            addressed.extend((obj["exchange"], code) for code in sorted(codes))
        objects.append(obj)
    return {**bundle, "objects": objects}, addressed


STEP_TARGETS = frozenset({"exchange", "mixer", "bridge", "dex_swap", "unresolved"})  # services, not wallets
MIN_SHARE = 0.001  # an address that passed or holds less than this share of the stolen value is not shared


def thief_addresses(result: TraceResult, services: set[tuple[str, str]], min_share: float = MIN_SHARE,
                    limit: int = 500) -> list[dict[str, Any]]:
    """Addresses the thief controls, as far as the trace shows, with a confidence and the path that
    justifies each: the seed addresses and unlabelled wallets that passed or hold at least
    `min_share` of the stolen value of some asset. Never the victim, an off-ramp, a laundering
    service (exchange, DEX, bridge, mixer), a contract or any other address in `services`."""
    basis = {k: v for k, v in result.presumed.items() if v}  # an asset only presumed stolen: its presumed value
    basis.update({k: v for k, v in result.stolen.items() if v})
    excluded = set(services) | set(result.victims) | set(result.roles)
    passed: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in result.edges:
        target = (e.target_chain or e.chain, e.target)
        if e.kind in STEP_TARGETS:
            excluded.add(target)
        else:
            passed[target][e.asset] += e.tainted
    for (chain, address, asset), v in result.holdings.items():
        passed[(chain, address)][asset] = max(passed[(chain, address)][asset], v)
    seeds = {(s["chain"], s["address"]) for s in result.seeds if s.get("address")}
    into = edges_into(result)
    out = []
    for key in sorted(seeds | set(passed), key=lambda k: (k not in seeds, k)):
        chain, address = key
        if key in excluded and key not in seeds or address.startswith("id:"):
            continue
        shares = {a: v / basis[(chain, a)] for a, v in passed.get(key, {}).items() if basis.get((chain, a))}
        share = max(shares.values(), default=0.0)
        if key not in seeds and share < min_share:
            continue
        paths = explain(result, address, limit=1, into=into) if key not in seeds else []
        if key not in seeds and not paths:
            continue
        out.append({"chain": chain, "address": address, "share": round(min(share, 1.0), 6),
                    "confidence": 1.0 if key in seeds else paths[0]["confidence"],
                    "role": "thief address (trace seed)" if key in seeds else
                    "address controlled by the thief: received stolen funds",
                    "path": paths[0]["steps"] if paths else []})
    seeds_first = [o for o in out if (o["chain"], o["address"]) in seeds]
    rest = sorted((o for o in out if (o["chain"], o["address"]) not in seeds), key=lambda o: -o["share"])
    return (seeds_first + rest)[:limit]


def intermediary_addresses(result: TraceResult, limit: int = 500) -> list[dict[str, Any]]:
    """Kept for callers of wave 1: the thief addresses with no extra service list."""
    return thief_addresses(result, set(), limit=limit)


def _drop_nulls(value: Any) -> Any:
    """STIX forbids null properties and empty lists: leave absent what is unknown or empty (e.g.
    `routed_to` absent = no member jurisdiction, `frozen` absent = nothing frozen yet)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
