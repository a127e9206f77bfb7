"""Trace findings as a STIX 2.1 bundle for the hub: the incident, thief and intermediary addresses
as indicators, `indicates` relationships, an x-trilateral-trace object and one
x-trilateral-freeze-request per exchange, all marked TLP:AMBER unless told otherwise.

Indicator patterns use the STIX patterning form `[cryptocurrency-wallet:address = '<address>']`
with `pattern_type: stix` (the cryptocurrency-wallet observable of the STIX 2.1 common objects);
both the `stix2` library and `stix2-validator` accept it (tests/trace/test_stix_export.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp, tlp2_marking_definition
from trilateral.trace.model import TraceResult

NAMESPACE = uuid.UUID("6f1c1a52-3a8e-4f55-9d0b-7b1f3f0c2a11")  # deterministic ids: same trace, same ids


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(map(str, parts)))}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def findings_bundle(findings: dict[str, Any], tlp: Tlp = Tlp.AMBER, *, incident_ref: str | None = None,
                    freeze_requests: list[dict[str, Any]] | None = None,
                    intermediaries: list[dict[str, Any]] | None = None, incident_name: str | None = None
                    ) -> dict[str, Any]:
    """A STIX 2.1 bundle of the trace. `intermediaries` [{chain, address}] are indicated with the seeds."""
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
    })
    wallets: dict[tuple[str, str], str] = {}
    for s in findings["seeds"]:
        if s.get("address"):
            wallets[(s["chain"], s["address"])] = "thief address (trace seed)"
    for w in intermediaries or []:
        wallets.setdefault((w["chain"], w["address"]), "intermediary address holding or passing stolen funds")
    for (chain, address), role in sorted(wallets.items()):
        ind = _id("indicator", chain, address)
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": ind, "created": now, "modified": now,
            "name": f"{chain} {address}", "description": role, "indicator_types": ["malicious-activity"],
            "pattern": f"[cryptocurrency-wallet:address = '{address}']", "pattern_type": "stix",
            "valid_from": now, "object_marking_refs": marking,
        })
        objects.append({"type": "relationship", "spec_version": "2.1", "id": _id("relationship", ind, incident_ref),
                        "created": now, "modified": now, "relationship_type": "indicates", "source_ref": ind,
                        "target_ref": incident_ref, "object_marking_refs": marking})
    for r in freeze_requests or []:
        objects.append({
            "type": "x-trilateral-freeze-request", "spec_version": "2.1", "id": _id("x-trilateral-freeze-request",
                                                                                   r["id"]),
            "created": now, "modified": now, "exchange": r["exchange"], "jurisdiction": r["jurisdiction"],
            "routed_to": r["routed_to"],
            "deposit_addresses": [{k: d[k] for k in ("chain", "address", "asset", "amount_base_units", "first_seen")}
                                  for d in r["deposit_addresses"]],
            "requested_at": r["requested_at"], "status": r["status"], "frozen": r["frozen"],
            "incident_ref": incident_ref, "trace_ref": trace_id, "object_marking_refs": marking,
        })
    return {"type": "bundle", "id": _id("bundle", key, now), "objects": [_drop_nulls(o) for o in objects]}


def intermediary_addresses(result: TraceResult, limit: int = 500) -> list[dict[str, str]]:
    """Unlabelled addresses that passed or hold stolen value, most tainted first (for indicators)."""
    tainted: dict[tuple[str, str], int] = {}
    for e in result.edges:
        for chain, addr in ((e.chain, e.source), (e.target_chain or e.chain, e.target)):
            if (chain, addr) not in result.roles and e.kind not in ("exchange",) and not addr.startswith("id:"):
                tainted[(chain, addr)] = tainted.get((chain, addr), 0) + e.tainted
    for (chain, addr, _), v in result.holdings.items():
        tainted[(chain, addr)] = tainted.get((chain, addr), 0) + v
    best = sorted(tainted.items(), key=lambda kv: -kv[1])[:limit]
    return [{"chain": c, "address": a} for (c, a), v in best if v > 0]


def _drop_nulls(value: Any) -> Any:
    """STIX forbids null properties and empty lists: leave absent what is unknown or empty (e.g.
    `routed_to` absent = no member jurisdiction, `frozen` absent = nothing frozen yet)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
