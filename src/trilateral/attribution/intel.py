"""Indicator evidence: the incident's indicators the hub already links to a group, and sanctioned wallets.

Reads the hub only through `Hub.export(principal)` (so the TLP policy decides what counts) and the
sanctions lists only through `trilateral.labels.LabelStore.lookup`.
"""

from __future__ import annotations

from collections import defaultdict

from trilateral.attribution.engine import (
    HUB_INDICATOR_LR,
    SANCTIONED_DPRK_LR,
    SANCTIONED_ENTITY_LR,
    IndicatorEvidence,
)
from trilateral.attribution.incident import Observation
from trilateral.refdata.catalog import AttackCatalog, is_dprk_text


def _norm(pattern: str) -> str:
    return " ".join(str(pattern).split())


def hub_evidence(bundle: dict, obs: Observation, catalog: AttackCatalog) -> list[IndicatorEvidence]:
    """Indicators in both the incident and `bundle` (what the caller may read), linked there to a group.

    Links followed: indicator -indicates-> intrusion-set, and indicator -indicates-> incident /
    campaign / threat-actor -attributed-to-> intrusion-set. Groups are matched by STIX id or name/alias.
    """
    objects = {o["id"]: o for o in bundle.get("objects", []) if isinstance(o, dict) and "id" in o}
    patterns = {oid: _norm(o.get("pattern", "")) for oid, o in objects.items() if o.get("type") == "indicator"}
    shared = {oid: p for oid, p in patterns.items() if p in obs.patterns}
    if not shared:
        return []
    out_edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for o in objects.values():
        if o.get("type") == "relationship":
            out_edges[o.get("source_ref", "")].append((o.get("relationship_type", ""), o.get("target_ref", "")))

    def group_of(ref: str):
        obj = objects.get(ref, {})
        found = catalog.find_group(ref)
        if found is None and obj.get("type") == "intrusion-set":
            for name in (obj.get("name", ""), *(obj.get("aliases") or ())):
                found = found or catalog.find_group(name)
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


def sanctions_evidence(labels_by_address: dict[tuple[str, str], list], catalog: AttackCatalog
                       ) -> list[IndicatorEvidence]:
    """Wallets on a sanctions list: to the group the listed entity names, else to every DPRK group."""
    evidence = []
    for (chain, address), labels in sorted(labels_by_address.items()):
        for label in labels:
            programs = tuple(getattr(label, "programs", ()) or ())
            entity = getattr(label, "entity", "") or ""
            if getattr(label, "category", "") != "sanctioned" and not programs:
                continue
            detail = f"{label.source}: {entity} ({'|'.join(programs) or 'no programme'}) on {chain}"
            group = catalog.find_group(entity) if entity else None
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
