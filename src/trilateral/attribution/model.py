"""Scorers over a group x feature matrix (features: ATT&CK technique and software ids).

`MixtureModel` is the one attribution uses (a multinomial naive Bayes with background smoothing).
Scores are log-likelihood ratios, so evidence adds up, the explanation is exact (per-feature terms
sum to the score) and a softmax with a fitted temperature turns them into probabilities.
`jaccard_scores` and `idf_cosine_scores` are the baselines of DESIGN.md section 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trilateral.refdata.catalog import AttackCatalog, parent_technique

# Fitted by bench/attribution_eval.py (see bench/RESULTS-attribution.md); documented in docs/attribution.md.
DEFAULT_BACKGROUND = 0.5
DEFAULT_RELATED_CREDIT = 0.05
DEFAULT_TEMPERATURE = 0.68
# An actor without its own ATT&CK entry (TraderTraitor) borrows its umbrella's profile at this share:
# half of what the umbrella's profile would explain, the rest generic behaviour (judgement, documented).
INHERITED_SHARE = 0.5


@dataclass
class FeatureSpace:
    """Rows are groups, columns are features; `member[g, f]` says group g's profile lists feature f."""

    group_ids: list[str]
    features: list[str]
    member: np.ndarray  # bool (n_groups, n_features)
    related: np.ndarray  # bool: f is the parent or a sub-technique of a technique g lists (not f itself)
    is_software: np.ndarray  # bool (n_features,)

    @classmethod
    def from_catalog(cls, catalog: AttackCatalog) -> FeatureSpace:
        features = sorted({f for g in catalog.groups for f in (*g.techniques, *g.software)}
                          | set(catalog.techniques) | set(catalog.software))
        col = {f: i for i, f in enumerate(features)}
        member = np.zeros((len(catalog.groups), len(features)), dtype=bool)
        for r, g in enumerate(catalog.groups):
            member[r, [col[f] for f in (*g.techniques, *g.software)]] = True
        is_software = np.array([f.startswith("S") for f in features])
        # parent <-> sub-technique only: siblings (T1059.001 vs .003) are different behaviour, and
        # crediting them lowered accuracy in the eval
        kids_of: dict[str, list[int]] = {}
        for f, c in col.items():
            if "." in f:
                kids_of.setdefault(parent_technique(f), []).append(c)
        related = np.zeros_like(member)
        for f, c in col.items():
            if f.startswith("S"):
                continue
            parent = parent_technique(f)
            if parent != f:
                if parent in col:
                    related[:, c] |= member[:, col[parent]]
            else:
                if f in kids_of:
                    related[:, c] |= member[:, kids_of[f]].any(axis=1)
        related &= ~member
        return cls([g.attack_id for g in catalog.groups], features, member, related, is_software)

    def index(self) -> dict[str, int]:
        return {f: i for i, f in enumerate(self.features)}

    def encode(self, feature_sets: list[set[str]]) -> np.ndarray:
        """Incidents as a bool matrix (n_incidents, n_features); unknown features are dropped."""
        col = self.index()
        out = np.zeros((len(feature_sets), len(self.features)), dtype=bool)
        for r, fs in enumerate(feature_sets):
            out[r, [col[f] for f in fs if f in col]] = True
        return out

    @property
    def document_frequency(self) -> np.ndarray:
        return self.member.sum(axis=0)


@dataclass
class MixtureModel:
    """Multinomial naive Bayes with background smoothing, scored against the background alone.

    An incident's features are drawn either from the group's profile (uniformly over what it lists;
    a parent technique or sub-technique of a listed one earns `related_credit`) or, with probability
    `background`, from generic behaviour: features in proportion to how many groups use them. Each
    observed feature adds log(P(f | g) / P(f | background)): rare features the group uses count most,
    common ones little, and features the group never uses subtract. Incident size carries no weight.
    """

    space: FeatureSpace
    background: float = DEFAULT_BACKGROUND
    related_credit: float = DEFAULT_RELATED_CREDIT
    temperature: float = DEFAULT_TEMPERATURE
    inherited: np.ndarray | None = None  # bool per row: the profile is borrowed (weighted by INHERITED_SHARE)

    def __post_init__(self) -> None:
        s = self.space
        member = s.member.astype(float)
        profile = (member + self.related_credit * s.related) / np.maximum(member.sum(1, keepdims=True), 1.0)
        own = s.member if self.inherited is None else s.member[~self.inherited]
        df = own.sum(axis=0) + 0.5  # smoothed: a feature no group lists stays possible; borrowed rows not counted
        self.p_background = df / df.sum()
        share = np.full((member.shape[0], 1), 1 - self.background)
        if self.inherited is not None:
            share[self.inherited] *= INHERITED_SHARE
        self.weights = np.log(share * profile + (1 - share) * self.p_background) - np.log(self.p_background)

    def scores(self, observed: np.ndarray) -> np.ndarray:
        """Log-likelihood ratio against 'generic behaviour only', shape (n_incidents, n_groups)."""
        return np.atleast_2d(observed).astype(float) @ self.weights.T

    def contributions(self, observed_row: np.ndarray, group_row: int) -> dict[str, float]:
        """How much each observed feature moved this group's score (they sum to the score)."""
        cols = np.nonzero(observed_row)[0]
        return {self.space.features[c]: float(self.weights[group_row, c]) for c in cols}

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return softmax(scores, self.temperature)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of scores / temperature, stable for large log-likelihoods."""
    z = np.atleast_2d(scores) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def jaccard_scores(space: FeatureSpace, observed: np.ndarray) -> np.ndarray:
    """|O & G| / |O | G|: the plain baseline."""
    obs = np.atleast_2d(observed).astype(float)
    mem = space.member.astype(float)
    inter = obs @ mem.T
    union = obs.sum(1)[:, None] + mem.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def idf_cosine_scores(space: FeatureSpace, observed: np.ndarray) -> np.ndarray:
    """Cosine between idf-weighted binary vectors: the stronger baseline of DESIGN.md section 6."""
    n = len(space.group_ids)
    idf = np.log((n + 1) / (space.document_frequency + 1)) + 1.0
    obs = np.atleast_2d(observed).astype(float) * idf
    mem = space.member.astype(float) * idf
    dot = obs @ mem.T
    norm = np.linalg.norm(obs, axis=1)[:, None] * np.linalg.norm(mem, axis=1)[None, :]
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)
