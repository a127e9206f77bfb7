"""`trilateral attribute`: read the incident, gather indicator evidence, rank, optionally share the result."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from trilateral.attribution.engine import Attribution, Attributor, IndicatorEvidence
from trilateral.attribution.features import incident_features
from trilateral.attribution.incident import observe, read_bundle
from trilateral.attribution.intel import hub_evidence, lookup_sanctions, sanctions_evidence
from trilateral.attribution.profiles import RegisterData
from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp, tlp2_marking_definition
from trilateral.refdata.catalog import load_catalog


def load_attributor(settings: Settings, exclude: tuple[str, ...] = ()) -> Attributor:
    """The ATT&CK catalog, canonical actors and register of this data dir, ready to score."""
    from trilateral.refdata.actor_store import (
        ADDRESSES_FILE,
        VICTIMS_FILE,
        load_actors,
        stored_json,
        stored_register,
    )

    register = RegisterData(stored_register(settings), stored_json(settings, ADDRESSES_FILE),
                            stored_json(settings, VICTIMS_FILE))
    return Attributor(load_catalog(settings), actors=load_actors(settings), register=register, exclude=exclude)


def read_findings(path: Path) -> dict:
    """A `trace --json` findings document: the incident's laundering route."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict) or "offramps" not in doc:
        raise InputError(f"{path}: not trace findings (`trilateral trace --json` output has \"offramps\")")
    return doc


def hub_traces(bundle: dict, obs) -> list[dict]:
    """The x-trilateral-trace objects (trace findings shared in the hub) whose incident_ref is this incident."""
    incident = (obs.incident or {}).get("id")
    if not incident:
        return []
    return [o for o in bundle.get("objects", []) if isinstance(o, dict) and o.get("type") == "x-trilateral-trace"
            and o.get("incident_ref") == incident and isinstance(o.get("offramps"), list)]


def _merge_findings(docs: list[dict]) -> dict:
    """Several traces of one incident as one findings document (routes are a union)."""
    merged: dict = {"offramps": [], "seeds": [], "flows": {}, "mixer": {"crossed": []}}
    for d in docs:
        merged["offramps"] += d.get("offramps") or []
        merged["seeds"] += d.get("seeds") or []
        merged["mixer"]["crossed"] += (d.get("mixer") or {}).get("crossed") or []
        for kind, rows in (d.get("flows") or {}).items():
            merged["flows"].setdefault(kind, []).extend(rows or [])
        merged.setdefault("theft_time", d.get("theft_time"))
    return merged


def attribute_file(path: Path, *, settings: Settings | None = None, reader_code: str | None = None,
                   top: int = 10, trace: Path | None = None) -> tuple[Attribution, list[dict]]:
    """Rank actors for the incident bundle at `path` (and its trace findings); hub intel read as `reader_code`."""
    settings = settings or Settings.from_env()
    attributor = load_attributor(settings)
    catalog = attributor.catalog
    objects = read_bundle(path, settings.max_bundle_bytes)
    obs = observe(objects, attributor.attack)
    findings = read_findings(trace) if trace else None
    evidence: list[IndicatorEvidence] = []
    notes: list[str] = []
    if obs.addresses:
        try:
            evidence += sanctions_evidence(lookup_sanctions(obs, settings), catalog, attributor.actors)
        except ImportError:  # labels package not installed in this build
            notes.append("sanctions lists not consulted: trilateral.labels is unavailable")
    if reader_code:
        from trilateral.hub import Hub

        hub = Hub.open(settings)
        try:
            readable = hub.export(hub.principal(reader_code))
        finally:
            hub.close()
        if obs.patterns:
            evidence += hub_evidence(readable, obs, catalog, attributor.actors)
        traced = hub_traces(readable, obs)
        if traced:
            notes.append(f"laundering route read from {len(traced)} trace(s) of this incident in the hub")
            findings = _merge_findings([findings, *traced] if findings else traced)
    elif obs.patterns:
        notes.append("hub intel not consulted: pass --as CODE (or --share-as CODE) to read it as a member")
    features = incident_features(objects, findings)
    result = attributor.attribute(obs, evidence, top=top, features=features)
    result.notes += notes
    return result, objects


_ACTOR_NAMESPACE = uuid.UUID("5f0e1f4c-6b0a-4c8e-9a49-2f1b7d7a1e16")  # Trilateral canonical actors


def actor_intrusion_set(candidate: dict, tlp: Tlp = Tlp.AMBER) -> dict:
    """A STIX intrusion-set for an actor ATT&CK has no object for (TraderTraitor): a deterministic id from
    the canonical actor id, its canonical name and every alias, so every member's copy is the same object."""
    now = "2026-01-01T00:00:00.000Z"
    return {"type": "intrusion-set", "spec_version": "2.1",
            "id": f"intrusion-set--{uuid.uuid5(_ACTOR_NAMESPACE, candidate['id'])}", "created": now, "modified": now,
            "name": candidate["name"], "aliases": list(candidate.get("aliases") or ()),
            "x_trilateral_actor_id": candidate["id"], "x_trilateral_sources": list(candidate.get("sources") or ()),
            "object_marking_refs": [tlp2_marking_definition(tlp)["id"]]}


def attributed_to_relationship(result: Attribution, objects: list[dict], tlp: Tlp = Tlp.AMBER) -> dict:
    """incident -attributed-to-> best candidate, with STIX confidence 0-100 and the raw score."""
    incident = next((o for o in objects if o.get("type") == "incident"), None)
    if incident is None:
        raise InputError("the bundle has no incident object: nothing to attribute in the hub")
    if not result.candidates:
        raise InputError("no candidate actor to share")
    best = result.candidates[0]
    target = best.get("stix_id") or actor_intrusion_set(best, tlp)["id"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
        "created": now, "modified": now, "relationship_type": "attributed-to",
        "source_ref": incident["id"], "target_ref": target,
        "description": f"Trilateral attribution: {best['name']} ({best['id']})",
        "confidence": max(0, min(100, round(best["confidence"] * 100))),
        "x_trilateral_score": best["score"],
        "object_marking_refs": [tlp2_marking_definition(tlp)["id"]],
    }


def share_attribution(result: Attribution, objects: list[dict], code: str,
                      settings: Settings | None = None):
    """Submit the relationship (with the incident it points from) to the hub as `code`."""
    from trilateral.hub import Hub

    relationship = attributed_to_relationship(result, objects)
    incident = next(o for o in objects if o.get("type") == "incident")
    hub = Hub.open(settings or Settings.from_env())
    best = result.candidates[0]
    actor = [] if best.get("stix_id") else [actor_intrusion_set(best)]
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [incident, *actor, relationship]}
    try:
        return relationship, hub.submit(hub.principal(code), bundle, source="attribution")
    finally:
        hub.close()
