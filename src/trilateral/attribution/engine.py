"""Rank every intrusion set for one incident and explain each score; the `attribute --json` document."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from trilateral.attribution.incident import Observation
from trilateral.attribution.model import FeatureSpace, MixtureModel, softmax
from trilateral.refdata.catalog import AttackCatalog, parent_technique

# Likelihood ratios for indicator evidence (log-added to the technique score). An indicator the hub
# already links to a group is close to a fingerprint; a wallet sanctioned as that group's is stronger
# still; a wallet sanctioned under a DPRK programme without naming a unit points at every DPRK group.
HUB_INDICATOR_LR = 20.0
SANCTIONED_ENTITY_LR = 50.0
SANCTIONED_DPRK_LR = 5.0
MAX_INDICATORS_COUNTED = 3  # one wallet cluster often yields many addresses: count a few, not all


@dataclass
class IndicatorEvidence:
    """One piece of indicator evidence for one group: what matched, where it came from, its weight."""

    group_id: str
    kind: str  # hub-intel | sanctions
    value: str
    detail: str
    likelihood_ratio: float


@dataclass
class Attribution:
    candidates: list[dict]
    observed: dict
    notes: list[str] = field(default_factory=list)
    dprk_probability: float = 0.0  # "is this North Korea?": the confidence summed over every DPRK group

    def to_json(self) -> dict:
        return {"candidates": self.candidates, "dprk_probability": self.dprk_probability,
                "observed": self.observed, "notes": self.notes}


class Attributor:
    """Holds the catalog's feature space and model so many incidents score without rebuilding them."""

    def __init__(self, catalog: AttackCatalog, model: MixtureModel | None = None) -> None:
        self.catalog = catalog
        self.space = model.space if model else FeatureSpace.from_catalog(catalog)
        self.model = model or MixtureModel(self.space)
        self._row = {gid: r for r, gid in enumerate(self.space.group_ids)}

    def attribute(self, obs: Observation, indicators: list[IndicatorEvidence] | None = None,
                  top: int = 10) -> Attribution:
        indicators = indicators or []
        features = sorted(obs.techniques | obs.software)
        index = self.space.index()
        known = [f for f in features if f in index]
        notes = [f"{f} is not in the ATT&CK catalog ({self.catalog.source}); ignored"
                 for f in features if f not in known]
        notes += [f"no ATT&CK match for {u}; ignored" for u in obs.unknown]
        observed_row = self.space.encode([set(known)])[0]
        scores = self.model.scores(observed_row)[0].copy()
        by_group: dict[str, list[IndicatorEvidence]] = {}
        for ev in indicators:
            by_group.setdefault(ev.group_id, []).append(ev)
        for gid, evs in by_group.items():
            if gid in self._row:
                strongest = sorted(evs, key=lambda e: -e.likelihood_ratio)[:MAX_INDICATORS_COUNTED]
                scores[self._row[gid]] += sum(math.log(e.likelihood_ratio) for e in strongest)
        if not known and not indicators:
            notes.append("the incident shows no ATT&CK technique, software or known indicator: "
                         "every group is equally likely")
        probs = softmax(scores, self.model.temperature)[0]
        order = np.lexsort((np.array(self.space.group_ids), -scores))[:top]
        candidates = [self._candidate(int(r), scores, probs, observed_row, by_group) for r in order]
        observed = {
            "techniques": sorted(obs.techniques), "software": sorted(obs.software),
            "addresses": len(obs.addresses), "indicators": len(obs.patterns),
            "incident": (obs.incident or {}).get("id"),
            "model": {"kind": "mixture naive Bayes over ATT&CK techniques and software",
                      "background": self.model.background, "related_credit": self.model.related_credit,
                      "temperature": self.model.temperature, "groups": len(self.space.group_ids)},
        }
        dprk_rows = [r for r, g in enumerate(self.catalog.groups) if g.dprk]
        return Attribution(candidates, observed, notes, round(float(probs[dprk_rows].sum()), 4))

    def _candidate(self, row: int, scores: np.ndarray, probs: np.ndarray, observed_row: np.ndarray,
                   by_group: dict[str, list[IndicatorEvidence]]) -> dict:
        group = self.catalog.groups[row]
        evidence = []
        profile = set(group.techniques) | set(group.software)
        for feature, weight in self.model.contributions(observed_row, row).items():
            evidence.append({"kind": "software" if feature.startswith("S") else "technique",
                             "id": feature, "name": self._name(feature),
                             "match": self._match(feature, profile), "weight": round(weight, 3)})
        evs = sorted(by_group.get(group.attack_id, []), key=lambda e: -e.likelihood_ratio)
        for i, ev in enumerate(evs):
            counted = i < MAX_INDICATORS_COUNTED
            evidence.append({"kind": ev.kind, "id": ev.value, "name": ev.detail,
                             "match": "linked" if counted else "linked (not counted: cap)",
                             "weight": round(math.log(ev.likelihood_ratio), 3) if counted else 0.0})
        evidence.sort(key=lambda e: (-e["weight"], e["id"]))
        return {"id": group.attack_id, "name": group.name, "score": round(float(scores[row]), 3),
                "confidence": round(float(probs[row]), 4), "dprk": group.dprk,
                "stix_id": group.stix_id or None, "aliases": list(group.aliases), "evidence": evidence}

    def _name(self, feature: str) -> str:
        info = self.catalog.techniques.get(feature) or self.catalog.software.get(feature)
        return info.name if info else ""

    @staticmethod
    def _match(feature: str, profile: set[str]) -> str:
        if feature in profile:
            return "in profile"
        if feature.startswith("S"):
            return "not in profile"
        parent = parent_technique(feature)
        if parent != feature and parent in profile:
            return "parent in profile"
        if any(p.startswith(feature + ".") for p in profile):
            return "sub-technique in profile"
        return "not in profile"
