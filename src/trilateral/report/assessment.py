"""The assessment the group meets on: key judgements, what changed, laundering routes, freezes
requested vs achieved, decisions to take, outlook. Generated from the computed figures only.

Estimative words follow ICD 203 (US Intelligence Community Directive 203, "Analytic Standards"):
a likelihood term is used only with a probability computed from data (an attribution's STIX
confidence, or a base rate over past quarters), and every judgement states its analytic confidence
(high, moderate, low) with the reason. Both scales are printed in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from trilateral.report.amounts import AssetTotals, format_amount, format_usd
from trilateral.report.figures_flows import STEP_PHRASES, percent
from trilateral.report.records import parse_time

# ICD 203 likelihood terms, with the probability range each stands for (lower bound inclusive).
LIKELIHOOD = (("almost no chance", 0.00, 0.05), ("very unlikely", 0.05, 0.20), ("unlikely", 0.20, 0.45),
              ("roughly even chance", 0.45, 0.55), ("likely", 0.55, 0.80), ("very likely", 0.80, 0.95),
              ("almost certain", 0.95, 1.01))
# As ICD 203 prints them (1-5 % ... 95-99 %): no judgement is ever certain either way.
LIKELIHOOD_SHOWN = tuple((word, f"{max(1, round(low * 100))}–{min(99, round(high * 100))} %") for word, low, high in LIKELIHOOD)
CONFIDENCE = (("high", "figures from records the members produced themselves (traces, freeze answers, the "
                       "action register) or agreeing independent sources"),
              ("moderate", "figures as published by one source (the incident register), not verified here"),
              ("low", "incomplete data: amounts without a USD figure, traces that stop where the data stops"))
LARGE_THEFT_USD = Decimal(100_000_000)
UNANSWERED_DAYS = 14   # a freeze request without an answer this long before quarter end needs a decision


def likelihood(p: float) -> str:
    """The ICD 203 term for probability p (0..1)."""
    for word, low, high in LIKELIHOOD:
        if low <= p < high:
            return word
    return LIKELIHOOD[-1][0]


@dataclass
class Judgement:
    text: str
    confidence: str                 # high | moderate | low
    basis: str                      # where the figures come from
    likelihood: str | None = None
    probability: str | None = None  # "18 %"


@dataclass
class Assessment:
    judgements: list[Judgement]
    changes: list[dict[str, str]]
    routes: list[dict[str, Any]]
    freeze_jurisdictions: list[dict[str, Any]]
    freeze_issuers: list[dict[str, Any]]
    decisions: list[str]
    outlook: list[str]
    likelihood_terms: tuple = LIKELIHOOD_SHOWN
    confidence_terms: tuple = CONFIDENCE
    base_rate: dict[str, Any] = field(default_factory=dict)


def _pct(part: Decimal, whole: Decimal) -> str:
    return percent(part, whole).replace(" %", "%") if whole else "—"


def _change(now: Decimal | int, before: Decimal | int, money: bool = False) -> str:
    if not before:
        return "new" if now else "no change"
    delta = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f"{'+' if delta >= 0 else ''}{delta.quantize(Decimal('1'))}%"


def _judge_scale(fig: dict[str, Any]) -> Judgement | None:
    inc, q = fig["incidents"], fig["quarter"]
    this, before = inc.this_quarter, inc.previous
    if not this.count:
        return Judgement(f"No DPRK-attributed theft of {q.label} is in the hub as this audience reads it; "
                         f"{inc.trailing.count} were recorded in the trailing four quarters.", "moderate",
                         "incident register and members' incidents")
    text = (f"DPRK-attributed actors stole at least {format_usd(this.usd_total)} in {this.count} incidents in "
            f"{q.label}")
    if before is not None:
        text += f" ({_change(this.usd_total, before.usd_total)} on {format_usd(before.usd_total)} in {before.quarter.label})"
    largest = max((r for r in inc.rows if r.usd is not None), key=lambda r: r.usd, default=None)
    if largest is not None and this.usd_total:
        text += (f"; the largest, {largest.name} on {largest.when.date().isoformat()}, accounts for "
                 f"{_pct(largest.usd, this.usd_total)} of that sum")
    text += "."
    if this.usd_unknown:
        text += f" {this.usd_unknown} incident(s) have no USD figure, so the sum is a floor."
    conf = "low" if this.usd_unknown * 2 > this.count else "moderate"
    return Judgement(text, conf, "amounts stated by the incident register's sources, or valued with imported prices")


def _judge_actor(fig: dict[str, Any]) -> Judgement | None:
    inc = fig["incidents"]
    rows = inc.rows
    if not rows:
        return None
    by_actor: dict[str, list[Any]] = {}
    for r in rows:
        by_actor.setdefault(r.actor, []).append(r)
    total = sum((r.usd or Decimal(0) for r in rows), Decimal(0))
    actor, mine = max(by_actor.items(), key=lambda kv: (sum((r.usd or 0 for r in kv[1]), Decimal(0)), len(kv[1])))
    usd = sum((r.usd or Decimal(0) for r in mine), Decimal(0))
    named = mine[0].named
    who = actor + (f" ({named.description})" if named is not None and named.description else "")
    text = (f"{who} was the most damaging DPRK actor of {fig['quarter'].label}: {len(mine)} of {len(rows)} "
            f"incidents and {_pct(usd, total)} of the stated losses ({format_usd(usd)}).")
    scored = [r for r in mine if r.confidence is not None]
    if scored:
        best = max(scored, key=lambda r: (r.usd or 0, r.confidence))
        p = best.confidence / 100
        word = likelihood(p)
        text += (f" The hub's attribution of {best.name} to {actor} has confidence {best.confidence}/100: "
                 f"it is {word} that {actor} conducted it.")
        return Judgement(text, "high" if best.cluster else "moderate",
                         "attributed-to relationships (calibrated attribution) and the register's clusters",
                         word, f"{best.confidence} %")
    return Judgement(text, "moderate", "the register's published attribution (cluster) of each incident")


def _judge_laundering(fig: dict[str, Any]) -> Judgement | None:
    flows = fig["flows"]
    sankey = flows.sankey() if flows.traces else None
    if not sankey or not sankey["stolen"]:
        return None
    stolen = Decimal(str(sankey["stolen"]))
    unit = sankey["unit"]
    kinds = sorted(((k, v) for k, v in sankey["kinds"].items() if k != "unresolved"), key=lambda kv: -kv[1])
    ends = sankey["destinations"]
    parts = [f"{_pct(Decimal(str(v)), stolen)} passed {STEP_PHRASES.get(k, k)}" for k, v in kinds[:3]]
    off = sum((Decimal(str(v)) for k, v in ends.items() if k.startswith("off-ramp")), Decimal(0))
    held = Decimal(str(ends.get("held by the thief", 0)))
    lost = Decimal(str(ends.get("not followed to an end", 0)))
    text = (f"Of the value traced in {flows.traces} theft(s) (measured in {unit}), " + (", ".join(parts) or
            "none was seen passing a DEX, mixer or bridge") + f"; {_pct(off, stolen)} reached off-ramps, "
            f"{_pct(held, stolen)} is still held at the thieves' addresses and {_pct(lost, stolen)} was not "
            "followed to an end.")
    warned = any(w.get("kind") == "end_of_data" for r in flows.per_trace
                 for w in r["record"].object.get("warnings") or ())
    return Judgement(text, "low" if warned else "high",
                     "members' traces (x-trilateral-trace)" + (", some stopping where the data stops" if warned else ""))


def _judge_freezes(fig: dict[str, Any]) -> Judgement | None:
    fr = fig["freeze"]
    if not fr.total_requests:
        return None
    unanswered = fr.statuses.get("requested", 0)
    shares = [f"{format_amount(fr.frozen.get(k), k[1])} of {format_amount(fr.requested.get(k), k[1])} "
              f"({_pct(Decimal(fr.frozen.get(k)), Decimal(fr.requested.get(k)))})" for k in fr.requested.assets()[:2]]
    text = (f"{fr.total_requests} freeze request(s) went out in {fig['quarter'].label}; frozen so far: "
            + ("; ".join(shares) or "nothing") + f". {unanswered} request(s) have had no answer.")
    return Judgement(text, "high", "freeze requests and the answers recorded with `freeze update`")


def base_rate(fig: dict[str, Any]) -> dict[str, Any]:
    """Quarters of the trend with a DPRK theft of at least LARGE_THEFT_USD; probability by Laplace's
    rule of succession, (k + 1) / (n + 2), so a short history never gives 0 or 1."""
    quarters = fig["incidents"].per_quarter
    n = len(quarters)
    k = sum(1 for t in quarters if t.largest_usd is not None and t.largest_usd >= LARGE_THEFT_USD)
    p = (k + 1) / (n + 2) if n else 0.5
    return {"quarters": n, "with_large": k, "p": p, "word": likelihood(p), "threshold": format_usd(LARGE_THEFT_USD),
            "first": quarters[0].quarter.label if quarters else "", "last": quarters[-1].quarter.label if quarters else ""}


def _judge_outlook(rate: dict[str, Any], quarter: Any) -> Judgement:
    text = (f"On the record of {rate['first']} to {rate['last']} (a DPRK theft of {rate['threshold']} or more in "
            f"{rate['with_large']} of {rate['quarters']} quarters), another such theft in {quarter.next().label} is "
            f"{rate['word']} ({round(100 * rate['p'])} %).")
    return Judgement(text, "moderate", "base rate of past quarters (rule of succession); not intelligence on intent",
                     rate["word"], f"{round(100 * rate['p'])} %")


def _changes(fig: dict[str, Any], prev: dict[str, Any]) -> list[dict[str, str]]:
    inc = fig["incidents"]
    before = inc.previous
    rows = [("DPRK-attributed incidents", before.count if before else 0, inc.this_quarter.count, False),
            ("stated losses (USD)", before.usd_total if before else 0, inc.this_quarter.usd_total, True),
            ("traced thefts", prev["flows"].traces, fig["flows"].traces, False),
            ("freeze requests sent", prev["freeze"].total_requests, fig["freeze"].total_requests, False),
            ("requests answered with a freeze", prev["freeze"].statuses.get("frozen", 0)
             + prev["freeze"].statuses.get("partially_frozen", 0),
             fig["freeze"].statuses.get("frozen", 0) + fig["freeze"].statuses.get("partially_frozen", 0), False),
            ("intel objects about the quarter", prev["intel"].total_objects, fig["intel"].total_objects, False),
            ("sightings", prev["intel"].total_sightings, fig["intel"].total_sightings, False)]
    out = [{"measure": m, "previous": format_usd(a) if money else str(a), "this": format_usd(b) if money else str(b),
            "change": _change(b, a)} for m, a, b, money in rows]
    actors_now = {a["actor"] for a in inc.actors if a["quarter"]}
    actors_before = {r.actor for r in inc.previous_rows}
    new = sorted(actors_now - actors_before)
    gone = sorted(actors_before - actors_now)
    out.append({"measure": "actors active", "previous": ", ".join(sorted(actors_before)) or "none",
                "this": ", ".join(sorted(actors_now)) or "none",
                "change": ("new: " + ", ".join(new) if new else "") + ("; " if new and gone else "")
                + ("not seen: " + ", ".join(gone) if gone else "") or "same"})
    return out


def _freeze_tables(fig: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fr = fig["freeze"]
    juris = []
    for j in fr.jurisdictions:
        for row in j.amount_rows():
            juris.append({"jurisdiction": j.jurisdiction, "routed_to": ", ".join(sorted(j.routed_to)), **row,
                          "unanswered": j.statuses.get("requested", 0), "requests": j.requests})
    issuers: dict[str, dict[str, AssetTotals]] = {}
    for rec in fr.requests:
        obj = rec.object
        if obj.get("kind") != "issuer":
            continue
        entry = issuers.setdefault(str(obj.get("exchange")), {"requested": AssetTotals(), "frozen": AssetTotals()})
        entry["requested"].add_entries(obj.get("deposit_addresses"))
        entry["frozen"].add_entries(obj.get("frozen"))
    for row in fr.issuer_frozen:  # stablecoins an issuer blacklisted (traces' `frozen`), asked or not
        entry = issuers.setdefault(row["issuer"], {"requested": AssetTotals(), "frozen": AssetTotals()})
        entry["frozen"].add((row["chain"], row["asset"]), int(row["frozen_base_units"]))
    rows = []
    for name, entry in sorted(issuers.items()):
        for chain, asset in sorted(set(entry["requested"].assets()) | set(entry["frozen"].assets())):
            req, got = entry["requested"].get((chain, asset)), entry["frozen"].get((chain, asset))
            rows.append({"issuer": name, "chain": chain, "asset": asset,
                         "requested": format_amount(req, asset) if req else "no request",
                         "frozen": format_amount(got, asset), "share": percent(got, req) if req else "—"})
    return juris, rows


def _decisions(fig: dict[str, Any]) -> list[str]:
    out = []
    for a in fig["actions"].rows:
        if a["overdue"]:
            out.append(f"Overdue action \"{a['title']}\" (owner {a['owner']}, due {a['due']}): renew its date, "
                       "reassign it or close it.")
    cutoff = fig["quarter"].end - timedelta(days=UNANSWERED_DAYS)
    waiting: dict[str, list[str]] = {}
    for rec in fig["freeze"].requests:
        obj = rec.object
        if obj.get("status", "requested") != "requested":
            continue
        sent = parse_time(obj.get("requested_at"))
        if sent is not None and sent <= cutoff:
            waiting.setdefault(str(obj.get("routed_to") or "no member"), []).append(
                f"{obj.get('exchange')} ({sent.date().isoformat()})")
    for member, items in sorted(waiting.items()):
        who = "decide which member sends a reminder" if member == "no member" else f"{member} to escalate"
        out.append(f"{len(items)} freeze request(s) unanswered for more than {UNANSWERED_DAYS} days: "
                   f"{'; '.join(sorted(items)[:6])}{' …' if len(items) > 6 else ''} — {who}.")
    held = fig["flows"].sankey() if fig["flows"].traces else None
    if held and held["destinations"].get("held by the thief"):
        out.append(f"Stolen value is still held at the thieves' addresses "
                   f"({_pct(Decimal(str(held['destinations']['held by the thief'])), Decimal(str(held['stolen'])))} "
                   "of the traced value): decide whether to keep the cases under live watch and to ask issuers "
                   "to freeze stablecoins.")
    return out


def assess(fig: dict[str, Any], prev: dict[str, Any]) -> Assessment:
    """Everything of the assessment from this quarter's figures and the previous quarter's (`prev`:
    the flows, freeze and intel figures of the quarter before)."""
    rate = base_rate(fig)
    judgements = [j for j in (_judge_scale(fig), _judge_actor(fig), _judge_laundering(fig), _judge_freezes(fig))
                  if j is not None]
    judgements.append(_judge_outlook(rate, fig["quarter"]))
    juris, issuers = _freeze_tables(fig)
    outlook = [judgements[-1].text]
    inc = fig["incidents"]
    repeat = [a["actor"] for a in inc.actors if a["quarter"] and a["trailing"] > a["quarter"]]
    if repeat:
        outlook.append("Actors active this quarter and earlier in the trailing year, and so expected to stay "
                       "active: " + ", ".join(repeat[:5]) + ".")
    decisions = _decisions(fig)
    if decisions:
        outlook.append(f"{len(decisions)} decision(s) are before the group (next section of the agenda).")
    return Assessment(judgements[:5], _changes(fig, prev), fig["flows"].per_trace, juris, issuers, decisions,
                      outlook, base_rate=rate)
