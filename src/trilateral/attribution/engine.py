"""Rank every scored actor for one incident and explain each score; the `attribute --json` document."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from trilateral.attribution.actors import ActorCatalog
from trilateral.attribution.history import IncidentFeatures
from trilateral.attribution.incident import Observation
from trilateral.attribution.model import DEFAULT_TEMPERATURE, FeatureSpace, MixtureModel, softmax
from trilateral.attribution.profiles import RegisterData, build_scoring
from trilateral.refdata.catalog import AttackCatalog, parent_technique

# Likelihood ratios for indicator evidence (log-added to the technique score). An indicator the hub
# already links to a group is close to a fingerprint; a wallet sanctioned as that group's is stronger
# still; a wallet sanctioned under a DPRK programme without naming a unit points at every DPRK group.
HUB_INDICATOR_LR = 20.0
SANCTIONED_ENTITY_LR = 50.0
SANCTIONED_DPRK_LR = 5.0
MAX_INDICATORS_COUNTED = 3
# Register evidence (sector, size, year, route, base rate) is scaled by this before it joins the technique
# score, so that one softmax temperature is calibrated for both: DEFAULT_TEMPERATURE / the temperature
# bench/attribution_eval.py fits on the register leave-one-incident-out folds (0.68 / 1.12).
HISTORY_SCALE = 0.6  # one wallet cluster often yields many addresses: count a few, not all


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
    # "is this North Korea?": the confidence summed over every DPRK actor; None when the catalogue holds
    # no non-DPRK actor to compare with (then the reason says so)
    dprk_probability: float | None = 0.0
    dprk_probability_reason: str | None = None

    def to_json(self) -> dict:
        return {"candidates": self.candidates, "dprk_probability": self.dprk_probability,
                "dprk_probability_reason": self.dprk_probability_reason,
                "observed": self.observed, "notes": self.notes}


class Attributor:
    """Holds the scored actors, their feature space and model so many incidents score without rebuilding."""

    def __init__(self, catalog: AttackCatalog, model: MixtureModel | None = None, *,
                 actors: ActorCatalog | None = None, register: RegisterData | None = None,
                 exclude: tuple[str, ...] = (), temperature: float | None = None) -> None:
        self.attack = catalog
        self.scoring = build_scoring(catalog, actors, register, exclude)
        self.catalog = self.scoring.catalog  # one row per scored actor
        self.actors = self.scoring.actors
        self.space = model.space if model else FeatureSpace.from_catalog(self.catalog)
        self.model = model or MixtureModel(self.space, inherited=self.scoring.inherited_rows,
                                           temperature=temperature or DEFAULT_TEMPERATURE)
        self._row = {gid: r for r, gid in enumerate(self.space.group_ids)}
        self._dprk_rows = np.array([g.dprk for g in self.catalog.groups], dtype=bool)

    def history_scores(self, features: IncidentFeatures | None) -> tuple[np.ndarray, list[list[dict]]]:
        """Per scored actor: the summed register-evidence weight and its itemised evidence."""
        n = len(self.catalog.groups)
        if features is None or not (features.sector or features.loss or features.period or features.routes) \
                or not self.scoring.history.incidents:
            return np.zeros(n), [[] for _ in range(n)]
        items = [self.scoring.history.weights(g.attack_id, features) for g in self.catalog.groups]
        for ev in items:
            for e in ev:
                e["_raw"] *= HISTORY_SCALE
                e["weight"] = round(e["_raw"], 3)
        return np.array([sum(e["_raw"] for e in ev) for ev in items]), items

    def attribute(self, obs: Observation, indicators: list[IndicatorEvidence] | None = None,
                  top: int = 10, features: IncidentFeatures | None = None) -> Attribution:
        indicators = indicators or []
        features = features or getattr(obs, "features", None)
        feats = sorted(obs.techniques | obs.software)
        index = self.space.index()
        known = [f for f in feats if f in index]
        notes = [f"{f} is not in the ATT&CK catalog ({self.attack.source}); ignored"
                 for f in feats if f not in known]
        notes += [f"no ATT&CK match for {u}; ignored" for u in obs.unknown]
        observed_row = self.space.encode([set(known)])[0]
        scores = self.model.scores(observed_row)[0].copy()
        extra, history_items = self.history_scores(features)
        scores += extra
        by_group: dict[str, list[IndicatorEvidence]] = {}
        for ev in indicators:
            by_group.setdefault(ev.group_id, []).append(ev)
        for gid, evs in by_group.items():
            if gid in self._row:
                strongest = sorted(evs, key=lambda e: -e.likelihood_ratio)[:MAX_INDICATORS_COUNTED]
                scores[self._row[gid]] += sum(math.log(e.likelihood_ratio) for e in strongest)
        if not known and not indicators and not extra.any():
            notes.append("the incident shows no ATT&CK technique, software, known indicator, victim sector, "
                         "theft size or laundering route: every actor is equally likely")
        if features is not None and (features.sector or features.loss or features.period or features.routes) \
                and not self.scoring.history.incidents:
            notes.append("no incident register imported: victim sector, theft size, year and laundering route are "
                         "not used (`trilateral refdata import incidents.csv`)")
        if self.scoring.unscored:
            notes.append(f"{len(self.scoring.unscored)} catalogued actors have neither an ATT&CK profile nor "
                         "register incidents and are not scored: "
                         + ", ".join(a.name for a in self.scoring.unscored[:8])
                         + (" ..." if len(self.scoring.unscored) > 8 else ""))
        probs = softmax(scores, self.model.temperature)[0]
        order = np.lexsort((np.array(self.space.group_ids), -scores))[:top]
        candidates = [self._candidate(int(r), scores, probs, observed_row, by_group, history_items[int(r)])
                      for r in order]
        observed = {
            "techniques": sorted(obs.techniques), "software": sorted(obs.software),
            "addresses": len(obs.addresses), "indicators": len(obs.patterns),
            "incident": (obs.incident or {}).get("id"),
            "victim_sector": features.sector if features else None,
            "theft_size": features.loss if features else None,
            "year": features.period if features else None,
            "laundering": sorted(features.routes) if features else [],
            "model": {"kind": "mixture naive Bayes over ATT&CK techniques and software, plus register-learnt "
                              "victim sector, theft size and laundering route, plus indicator likelihood ratios",
                      "background": self.model.background, "related_credit": self.model.related_credit,
                      "temperature": self.model.temperature, "actors_scored": len(self.space.group_ids)},
        }
        dprk, reason = self.dprk_probability(probs)
        return Attribution(candidates, observed, notes, dprk, reason)

    def dprk_probability(self, probs: np.ndarray) -> tuple[float | None, str | None]:
        """Summed DPRK confidence, or None with the reason when the catalogue cannot tell DPRK from others."""
        if self._dprk_rows.all():
            return None, (f"the catalogue holds DPRK actors only ({len(self._dprk_rows)}): it cannot tell DPRK "
                          "from anyone else; import a catalogue with every group (all_groups_uses.csv or the "
                          "full enterprise-attack.json) to get this probability")
        if not self._dprk_rows.any():
            return None, "the catalogue holds no DPRK actor"
        return round(float(probs[self._dprk_rows].sum()), 4), None

    def _candidate(self, row: int, scores: np.ndarray, probs: np.ndarray, observed_row: np.ndarray,
                   by_group: dict[str, list[IndicatorEvidence]], history_items: list[dict]) -> dict:
        group = self.catalog.groups[row]
        actor = self.actors.get(group.attack_id)
        borrowed = self.scoring.inherited.get(group.attack_id)
        evidence = []
        lender = self.actors.get(borrowed) if borrowed else None
        profile = set(group.techniques) | set(group.software)
        for feature, weight in self.model.contributions(observed_row, row).items():
            match = self._match(feature, profile)
            if lender is not None and match != "not in profile":
                match += f", borrowed from {lender.name}"
            evidence.append({"kind": "software" if feature.startswith("S") else "technique",
                             "id": feature, "name": self._name(feature), "match": match, "weight": round(weight, 3)})
        evidence += [{k: v for k, v in e.items() if k != "_raw"} for e in history_items]
        evs = sorted(by_group.get(group.attack_id, []), key=lambda e: -e.likelihood_ratio)
        for i, ev in enumerate(evs):
            counted = i < MAX_INDICATORS_COUNTED
            evidence.append({"kind": ev.kind, "id": ev.value, "name": ev.detail,
                             "match": "linked" if counted else "linked (not counted: cap)",
                             "weight": round(math.log(ev.likelihood_ratio), 3) if counted else 0.0})
        evidence.sort(key=lambda e: (-e["weight"], e["id"]))
        umbrella = self.actors.umbrella(actor) if actor else None
        return {"id": group.attack_id, "name": group.name, "score": round(float(scores[row]), 3),
                "confidence": round(float(probs[row]), 4), "dprk": group.dprk,
                "country": actor.country if actor else None,
                "stix_id": group.stix_id or None, "aliases": list(actor.aliases if actor else group.aliases),
                "umbrella": {"id": umbrella.id, "name": umbrella.name} if umbrella else None,
                "sources": list(actor.sources) if actor else [],
                "profile": (f"ATT&CK techniques borrowed from {lender.name} ({lender.id}) at half weight; "
                            "told apart by its register incidents") if lender else "own ATT&CK profile",
                "evidence": evidence}

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
