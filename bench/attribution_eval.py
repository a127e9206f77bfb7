"""Attribution accuracy and calibration on two leave-out protocols, beside the Jaccard / idf-cosine baselines.

    .venv/bin/python bench/attribution_eval.py [--data ../shared/data]

1. ATT&CK (DESIGN.md section 6): for every group of all_groups_uses.csv with >= 10 techniques, 5
   fixed-seed draws of 15 % of its techniques (>= 3) plus as many frequency-drawn noise techniques
   (`design6`), and the same plus one of its software (`design6+software`). Profiles stay complete.
   The shipped model ranks every scored canonical actor (172 ATT&CK groups + TraderTraitor, built from
   the MISP galaxy and the register); the baselines rank the 172 groups. Ranks are conservative (a tie
   counts against the true actor).
2. Register, leave-one-incident-out: for every register incident attributed to a scored DPRK unit,
   the register history is refitted without it and the unit is predicted from that incident's victim
   sector, theft size, year and laundering route alone (the register has no techniques). Candidates
   are the DPRK units (umbrellas such as Lazarus Group, which the register never names, excluded).

Calibration: the softmax temperature is fitted by NLL on one half of the folds (even-numbered groups;
even register rows) and the reliability table / ECE reported on the other half. "DPRK unit level" =
the rank of the true unit among the DPRK actors (the question once the incident is known to be DPRK);
the rank among all actors is printed beside it. DPRK-vs-not AUC: `dprk_probability` on the ATT&CK draws.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import rankdata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trilateral.attribution.engine import Attributor  # noqa: E402
from trilateral.attribution.history import HistoryModel  # noqa: E402
from trilateral.attribution.model import (  # noqa: E402
    DEFAULT_TEMPERATURE,
    FeatureSpace,
    idf_cosine_scores,
    jaccard_scores,
    softmax,
)
from trilateral.attribution.profiles import RegisterData  # noqa: E402
from trilateral.refdata.actor_store import attack_names, build_from, read_misp_galaxy  # noqa: E402
from trilateral.refdata.attack import catalog_from_uses_csv, load_attack  # noqa: E402
from trilateral.refdata.register import (  # noqa: E402
    read_graphsense_actors,
    read_incident_addresses,
    read_register,
)

DRAWS = 5
MIN_TECHNIQUES = 10
PROTOCOLS = ("design6", "design6+software")


def draw_incidents(catalog, space: FeatureSpace, protocol: str) -> tuple[list[set[str]], list[int]]:
    """Incidents (feature sets) and the catalog row of the true group (DESIGN.md section 6)."""
    df = space.document_frequency.astype(float)
    tech_cols = np.nonzero(~space.is_software)[0]
    noise_p = df[tech_cols] / df[tech_cols].sum()
    incidents, truth = [], []
    for row, g in enumerate(catalog.groups):
        if len(g.techniques) < MIN_TECHNIQUES:
            continue
        for draw in range(DRAWS):
            rng = np.random.default_rng([draw, int(g.attack_id[1:])])
            k = max(3, round(0.15 * len(g.techniques)))
            chosen = set(rng.choice(list(g.techniques), size=k, replace=False).tolist())
            noise: set[str] = set()
            while len(noise) < k:
                t = space.features[tech_cols[rng.choice(len(tech_cols), p=noise_p)]]
                if t not in chosen:
                    noise.add(t)
            chosen |= noise
            if protocol == "design6+software" and g.software:
                chosen.add(str(rng.choice(list(g.software))))
            incidents.append(chosen)
            truth.append(row)
    return incidents, truth


def ranks(scores: np.ndarray, truth: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Conservative rank of the true column per row, optionally among `allowed` columns only."""
    s = scores if allowed is None else np.where(allowed[None, :], scores, -np.inf)
    true_score = s[np.arange(len(truth)), truth][:, None]
    return 1 + (s > true_score).sum(1) + ((s == true_score).sum(1) - 1)


def top(r: np.ndarray, k: int) -> float:
    return float((r <= k).mean()) if len(r) else float("nan")


def fit_temperature(scores: np.ndarray, truth: np.ndarray, allowed: np.ndarray | None = None) -> float:
    s = scores if allowed is None else np.where(allowed[None, :], scores, -np.inf)

    def nll(log_t: float) -> float:
        p = softmax(s, float(np.exp(log_t)))[np.arange(len(truth)), truth]
        return float(-np.log(np.maximum(p, 1e-300)).mean())
    return float(np.exp(minimize_scalar(nll, bounds=(-5, 5), method="bounded").x))


def calibration_table(label: str, scores, truth, fold, allowed=None) -> float:
    """Cross-fitted temperature (fit on one fold, score the other), pooled reliability table; returns ECE."""
    s_all = scores if allowed is None else np.where(allowed[None, :], scores, -np.inf)
    shipped = softmax(s_all, DEFAULT_TEMPERATURE)
    pooled_s, pooled_t, temps = [], [], []
    for fit_on in (fold, ~fold):
        t = fit_temperature(scores[fit_on], truth[fit_on], allowed)
        temps.append(t)
        s = scores[~fit_on] if allowed is None else np.where(allowed[None, :], scores[~fit_on], -np.inf)
        pooled_s.append(softmax(s, t))
        pooled_t.append(truth[~fit_on])
    probs, t_all = np.vstack(pooled_s), np.concatenate(pooled_t)
    ece, lines, conf, correct = _reliability(probs, t_all)
    ece_shipped, _lines, _c, _k = _reliability(shipped, truth)
    print(f"\n### {label}\n\ntemperatures fitted per fold: {temps[0]:.3f} / {temps[1]:.3f}; cross-fitted ECE "
          f"(5 bins, top-1) **{ece:.3f}**; mean confidence {conf.mean():.3f} vs top-1 accuracy {correct.mean():.3f} "
          f"({len(t_all)} incidents); ECE at the shipped temperature {DEFAULT_TEMPERATURE}: {ece_shipped:.3f}\n")
    print("| confidence bin | incidents | mean confidence | accuracy |\n|---|---|---|---|")
    print("\n".join(lines))
    return float(ece)


def _reliability(probs: np.ndarray, truth: np.ndarray):
    conf, correct = probs.max(1), probs.argmax(1) == truth
    edges = np.linspace(0, 1, 6)
    lines, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
            lines.append(f"| {lo:.1f}-{hi:.1f} | {m.sum()} | {conf[m].mean():.2f} | {correct[m].mean():.2f} |")
    return float(ece), lines, conf, correct


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC (ties count half)."""
    r = rankdata(score)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((r[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def load(data: Path):
    catalog = catalog_from_uses_csv(data / "mitre_attack_dprk" / "all_groups_uses.csv")
    incidents = read_register(data / "dprk_incidents" / "incidents.csv")
    names = attack_names(load_attack(data / "mitre_attack_dprk" / "dprk_enterprise_attack_v18.1_stix21.json"))
    actors = build_from(catalog, read_misp_galaxy(data / "misp_galaxy_dprk" / "threat-actor_dprk_subset.json"),
                        incidents, names)  # the CSV has no aliases: the DPRK STIX bundle supplies them
    register = RegisterData(incidents, read_incident_addresses(data / "dprk_incidents" / "incident_addresses.csv"),
                            read_graphsense_actors(data / "graphsense_tagpacks" / "actors.csv"))
    return catalog, actors, register


def attack_protocol(catalog, attributor: Attributor, out: list[str]):
    """DESIGN.md section 6 draws; returns pooled (scores, truth rows, is-even-group, protocol index)."""
    space = FeatureSpace.from_catalog(catalog)
    row_of = {gid: r for r, gid in enumerate(attributor.space.group_ids)}
    dprk_cols = np.array([g.dprk for g in attributor.catalog.groups])
    pooled, per_unit = [], []
    out.append("| protocol | scorer | top-1 | top-5 | DPRK top-1 (all actors) | DPRK top-3 (all actors) | "
               "DPRK top-5 (all actors) | DPRK unit top-1 | DPRK unit top-3 | DPRK-vs-not AUC |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for protocol in PROTOCOLS:
        incidents, truth_l = draw_incidents(catalog, space, protocol)
        truth_g = np.array(truth_l)
        dprk_truth = np.array([catalog.groups[t].dprk for t in truth_g])
        base_obs = space.encode(incidents)
        base_dprk_cols = np.array([g.dprk for g in catalog.groups])
        for name, sc in (("jaccard", jaccard_scores(space, base_obs)), ("idf-cosine", idf_cosine_scores(space, base_obs))):
            r = ranks(sc, truth_g)
            ru = ranks(sc, truth_g, base_dprk_cols)[dprk_truth]
            a = auc(sc[:, base_dprk_cols].max(1) - sc[:, ~base_dprk_cols].max(1), dprk_truth)
            out.append(f"| {protocol} | {name} | {top(r, 1):.3f} | {top(r, 5):.3f} | {top(r[dprk_truth], 1):.3f} | "
                       f"{top(r[dprk_truth], 3):.3f} | {top(r[dprk_truth], 5):.3f} | {top(ru, 1):.3f} | "
                       f"{top(ru, 3):.3f} | {a:.3f} |")
        obs = attributor.space.encode(incidents)
        sc = attributor.model.scores(obs)
        truth = np.array([row_of[catalog.groups[t].attack_id] for t in truth_g])
        r = ranks(sc, truth)
        ru = ranks(sc, truth, dprk_cols)[dprk_truth]
        p_dprk = softmax(sc, attributor.model.temperature)[:, dprk_cols].sum(1)
        out.append(f"| {protocol} | **trilateral** | {top(r, 1):.3f} | {top(r, 5):.3f} | {top(r[dprk_truth], 1):.3f} | "
                   f"{top(r[dprk_truth], 3):.3f} | {top(r[dprk_truth], 5):.3f} | {top(ru, 1):.3f} | {top(ru, 3):.3f} | "
                   f"{auc(p_dprk, dprk_truth):.3f} |")
        even = np.array([int(catalog.groups[t].attack_id[1:]) % 2 == 0 for t in truth_g])
        pooled.append((sc, truth, even, dprk_truth))
        per_unit.append((protocol, r, ru, truth_g, dprk_truth))
    out.append("\nPer DPRK unit (ATT&CK draws; rank among all actors, and among DPRK actors):\n")
    out.append("| protocol | unit | draws | top-1 | top-3 | top-5 | unit top-1 | unit top-3 |\n|---|---|---|---|---|---|---|---|")
    for protocol, r, ru, truth_g, dprk_truth in per_unit:
        names = np.array([catalog.groups[t].name for t in truth_g])
        for name in sorted(set(names[dprk_truth])):
            m, mu = names == name, names[dprk_truth] == name
            out.append(f"| {protocol} | {name} | {m.sum()} | {top(r[m], 1):.3f} | {top(r[m], 3):.3f} | "
                       f"{top(r[m], 5):.3f} | {top(ru[mu], 1):.3f} | {top(ru[mu], 3):.3f} |")
    return pooled, dprk_cols


def register_protocol(attributor: Attributor, register: RegisterData, actors, out: list[str]):
    """Leave-one-incident-out over the register; unit-level ranks among DPRK actors."""
    labelled = register.labelled(actors)
    row_of = {gid: r for r, gid in enumerate(attributor.space.group_ids)}
    umbrellas = {a.parent for a in actors if a.parent}
    # units: DPRK actors that are not an umbrella of others (the register names units, never Lazarus itself)
    dprk_cols = np.array([g.dprk and g.attack_id not in umbrellas for g in attributor.catalog.groups])
    scores, truth, skipped = [], [], 0
    for i, (_row, aid, features) in enumerate(labelled):
        if aid not in row_of:
            skipped += 1
            continue
        history = HistoryModel.fit(((a, f) for j, (_r, a, f) in enumerate(labelled) if j != i), actors)
        attributor.scoring.history = history
        sc, _items = attributor.history_scores(features)
        scores.append(sc)
        truth.append(row_of[aid])
    scores_a, truth_a = np.vstack(scores), np.array(truth)
    r_units = ranks(scores_a, truth_a, dprk_cols)
    names = [attributor.catalog.groups[t].name for t in truth_a]
    out.append(f"\nRegister leave-one-incident-out: {len(truth_a)} incidents attributed to a scored DPRK unit "
               f"({skipped} skipped: their unit is not scored, e.g. DPRK IT Workers, which no source links to an ATT&CK profile).\n")
    out.append("| true unit | incidents | unit top-1 | unit top-3 | unit top-5 |\n|---|---|---|---|---|")
    for name in sorted(set(names)):
        m = np.array([n == name for n in names])
        out.append(f"| {name} | {m.sum()} | {top(r_units[m], 1):.3f} | {top(r_units[m], 3):.3f} | "
                   f"{top(r_units[m], 5):.3f} |")
    out.append(f"| **all** | {len(truth_a)} | {top(r_units, 1):.3f} | {top(r_units, 3):.3f} | {top(r_units, 5):.3f} |")
    majority = max(set(names), key=names.count)
    out.append(f"\nMajority-unit baseline (always {majority}): top-1 {names.count(majority) / len(names):.3f}.")
    return scores_a, truth_a, dprk_cols


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    t0 = time.perf_counter()
    catalog, actors, register = load(args.data)
    attributor = Attributor(catalog, actors=actors, register=register)
    out: list[str] = []
    print("# command: .venv/bin/python bench/attribution_eval.py")
    print(f"# machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    n_eval = sum(len(g.techniques) >= MIN_TECHNIQUES for g in catalog.groups)
    n_dprk = sum(len(g.techniques) >= MIN_TECHNIQUES and g.dprk for g in catalog.groups)
    print(f"# ATT&CK: {len(catalog.groups)} groups, evaluated {n_eval} (DPRK {n_dprk}), {DRAWS} draws each; "
          f"scored actors {len(attributor.catalog.groups)} (borrowed profiles: "
          f"{', '.join(actors.get(a).name for a in attributor.scoring.inherited)}); shipped temperature "
          f"{DEFAULT_TEMPERATURE}\n")
    pooled, dprk_cols = attack_protocol(catalog, attributor, out)
    reg_scores, reg_truth, reg_units = register_protocol(attributor, register, actors, out)
    print("\n".join(out))

    sc = np.vstack([p[0] for p in pooled])
    truth = np.concatenate([p[1] for p in pooled])
    even = np.concatenate([p[2] for p in pooled])
    dprk_truth = np.concatenate([p[3] for p in pooled])
    print("\n## Calibration\n\nTwo-fold cross-fitting: the softmax temperature is fitted by NLL on one fold and "
          "the confidences of the other fold are scored; both folds are pooled in the table. ATT&CK folds: "
          "even- vs odd-numbered groups; register folds: even vs odd rows.")
    calibration_table("ATT&CK protocol, confidence over all actors, all draws", sc, truth, even)
    calibration_table("ATT&CK protocol, confidence over all actors, DPRK draws", sc[dprk_truth],
                      truth[dprk_truth], even[dprk_truth])
    calibration_table("ATT&CK protocol, DPRK unit level (softmax over DPRK actors), DPRK draws", sc[dprk_truth],
                      truth[dprk_truth], even[dprk_truth], dprk_cols)
    half = np.arange(len(reg_truth)) % 2 == 0
    calibration_table("register protocol, unit level (softmax over DPRK units)", reg_scores, reg_truth, half,
                      reg_units)
    print(f"\n# seconds: {time.perf_counter() - t0:.1f}")


if __name__ == "__main__":
    main()
