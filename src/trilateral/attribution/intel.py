"""Indicator evidence: the incident's indicators the hub already links to a group, and sanctioned wallets.

Reads the hub only through `Hub.export(principal)` (so the TLP policy decides what counts) and the
sanctions lists only through `trilateral.labels.LabelStore.lookup`.
"""

from __future__ import annotations

import re
from collections import defaultdict

from trilateral.attribution.actors import ActorCatalog
from trilateral.attribution.engine import (
    HUB_INDICATOR_LR,
    SANCTIONED_DPRK_LR,
    SANCTIONED_ENTITY_LR,
    IndicatorEvidence,
)
from trilateral.attribution.incident import Observation
from trilateral.refdata.catalog import AttackCatalog, is_dprk_text

_OBSERVABLE = re.compile(r"([a-z0-9-]+):[a-z0-9_.'\[\]*-]+\s*=\s*'((?:[^'\\]|\\.)+)'", re.IGNORECASE)


def _norm(pattern: str) -> str:
    return " ".join(str(pattern).split())


def infrastructure(pattern: str) -> set[tuple[str, str]]:
    """(object type, value) pairs a pattern compares against: domains, IPs, URLs, wallets, hashes."""
    return {(kind.casefold(), value.casefold() if kind.casefold() != "cryptocurrency-wallet" or value.startswith("0x")
             else value) for kind, value in _OBSERVABLE.findall(str(pattern))}


def _finder(catalog: AttackCatalog, actors: ActorCatalog | None):
    """Name / STIX id / alias -> scored profile; canonical-actor resolution as the fallback."""
    def find(key: str):
        found = catalog.find_group(key)
        if found is None and actors is not None and (actor := actors.resolve(key)) is not None:
            found = catalog.find_group(actor.id)
        return found
    return find


def hub_evidence(bundle: dict, obs: Observation, catalog: AttackCatalog,
                 actors: ActorCatalog | None = None) -> list[IndicatorEvidence]:
    """Indicators in both the incident and `bundle` (what the caller may read), linked there to a group.

    Overlap is infrastructure: an identical pattern, or any observable value (domain, IP, URL, wallet,
    file hash) both patterns compare against. Links followed: indicator -indicates-> intrusion-set, and
    indicator -indicates-> incident / campaign / threat-actor -attributed-to-> intrusion-set. Actors are
    matched by STIX id, name or any alias (canonical actors: "Jade Sleet" is TraderTraitor).
    """
    objects = {o["id"]: o for o in bundle.get("objects", []) if isinstance(o, dict) and "id" in o}
    patterns = {oid: _norm(o.get("pattern", "")) for oid, o in objects.items() if o.get("type") == "indicator"}
    ours = set().union(*(infrastructure(p) for p in obs.patterns)) if obs.patterns else set()
    shared = {}
    for oid, p in patterns.items():  # the same pattern, or any domain / IP / URL / wallet / hash in common
        common = sorted(infrastructure(p) & ours)
        if p in obs.patterns or common:
            shared[oid] = p if p in obs.patterns else ", ".join(f"{k}:{v}" for k, v in common)
    if not shared:
        return []
    out_edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for o in objects.values():
        if o.get("type") == "relationship":
            out_edges[o.get("source_ref", "")].append((o.get("relationship_type", ""), o.get("target_ref", "")))

    find = _finder(catalog, actors)

    def group_of(ref: str):
        obj = objects.get(ref, {})
        found = catalog.find_group(ref)
        if found is None and obj.get("type") in ("intrusion-set", "threat-actor"):
            for name in (obj.get("name", ""), *(obj.get("aliases") or ())):
                found = found or find(name)
        return found

    evidence = []
    for oid, pattern in sorted(shared.items()):
        reached: dict[str, str] = {}
        for rel, target in out_edges.get(oid, ()):
            if rel != "indicates":
                continue
            g = group_of(target)
            if g is not None:
                reached.setdefault(g.attack_id, f"hub: {oid} indicates {target}")
                continue
            for rel2, target2 in out_edges.get(target, ()):
                g2 = group_of(target2) if rel2 == "attributed-to" else None
                if g2 is not None:
                    reached.setdefault(g2.attack_id, f"hub: {oid} indicates {target}, attributed to {target2}")
        for gid, detail in reached.items():
            evidence.append(IndicatorEvidence(gid, "hub-intel", pattern, detail, HUB_INDICATOR_LR))
    return evidence


def sanctions_evidence(labels_by_address: dict[tuple[str, str], list], catalog: AttackCatalog,
                       actors: ActorCatalog | None = None) -> list[IndicatorEvidence]:
    """Wallets on a sanctions list: to the group the listed entity names, else to every DPRK group."""
    evidence = []
    find = _finder(catalog, actors)
    for (chain, address), labels in sorted(labels_by_address.items()):
        for label in labels:
            programs = tuple(getattr(label, "programs", ()) or ())
            entity = getattr(label, "entity", "") or ""
            if getattr(label, "category", "") != "sanctioned" and not programs:
                continue
            detail = f"{label.source}: {entity} ({'|'.join(programs) or 'no programme'}) on {chain}"
            group = find(entity) if entity else None
            if group is not None:
                evidence.append(IndicatorEvidence(group.attack_id, "sanctions", address, detail,
                                                  SANCTIONED_ENTITY_LR))
            elif any(p.upper().startswith("DPRK") for p in programs) or is_dprk_text(entity):
                evidence += [IndicatorEvidence(g.attack_id, "sanctions", address, detail, SANCTIONED_DPRK_LR)
                             for g in catalog.dprk_groups]
    return evidence


def lookup_sanctions(obs: Observation, settings) -> dict[tuple[str, str], list]:
    """Labels of the incident's addresses via trilateral.labels (empty when no labels are imported)."""
    if not obs.addresses:
        return {}
    from trilateral.labels import LabelStore

    store = LabelStore(settings)
    by_chain: dict[str, list[str]] = defaultdict(list)
    for chain, address in sorted(obs.addresses):
        by_chain[chain].append(address)
    found: dict[tuple[str, str], list] = {}
    for chain, addresses in by_chain.items():
        for address, labels in zip(addresses, store.lookup(chain, addresses), strict=True):
            if labels:
                found[(chain, address)] = list(labels)
    return found
