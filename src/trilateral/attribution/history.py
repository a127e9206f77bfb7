"""Evidence learnt from the incident register: victim sector, theft size and laundering route per actor.

Pure. Each register incident attributed to an actor gives that actor (and its umbrella) one
observation of each feature the row tells us: the victim's sector (from the victim's name: a
GraphSense entity category, else wording such as "Individual", "Bridge", "Repo"), the loss bin
(from the amount), and the laundering routes seen on its addresses (incident_addresses.csv roles:
Tornado Cash, CEX deposits, THORChain, eXch-like instant exchanges, several chains = bridge hops).

Probabilities are smoothed twice (pseudo-counts fixed a priori, not fitted on the evaluation):
generic prior G (uniform over sectors and loss bins; ROUTE_GENERIC for a route)  ->  the pooled
DPRK register D = (N(v) + BETA*G'(v)) / (N + BETA), G' = G for sector and loss, ROUTE_PRIOR for a route
->  the actor P = (n_a(v) + ALPHA*D(v)) / (n_a + ALPHA).
An actor with no register incident telling this kind of feature keeps G, so its weight is 0 (unknown,
not evidence against it); the weight shown is log(P / G).
Routes are present-only evidence (a trace that did not see a mixer does not prove there was none).
Once an incident shows any of these features it is a crypto theft, and the actors the register names
also get their base rate: log of their (+1 smoothed) share of its attributed incidents against a
uniform share over the actors it names (APT38-aligned clusters did more than half of them); a DPRK
actor the register never names gets the share of zero incidents; umbrellas and non-DPRK actors none.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from trilateral.attribution.actors import ActorCatalog, name_key

SECTORS = ("exchange", "defi", "bridge", "service", "company", "individual", "developer")
LOSS_EDGES = (100_000, 1_000_000, 10_000_000, 100_000_000)
LOSS_BINS = ("<$100k", "$100k-1M", "$1M-10M", "$10M-100M", ">=$100M")
PERIODS = tuple(str(y) for y in range(2015, 2027))  # the year of the theft: units are active in different years
ROUTES = ("thorchain", "instant_exchange", "mixer", "bridge", "dex", "cex", "otc", "peel_chain")
ROUTE_NAMES = {"thorchain": "THORChain swap", "instant_exchange": "eXch-like instant exchange",
               "mixer": "mixer (Tornado Cash, Sinbad, ...)", "bridge": "bridge / cross-chain hops",
               "dex": "DEX swaps", "cex": "centralised exchange deposit", "otc": "OTC / Huione-type desk",
               "peel_chain": "peel chain"}
ROUTE_GENERIC = 0.01  # judgement: an actor with no recorded crypto theft is rarely seen laundering stolen coins
ROUTE_PRIOR = 0.5  # uninformative prior mean of a route among the register's (DPRK) thefts
ALPHA = 2.0  # pseudo-incidents pulling an actor towards the pooled DPRK register
BETA = 1.0  # pseudo-incidents pulling the pooled register towards the generic prior

_GRAPHSENSE_SECTOR = {"exchange": "exchange", "market": "exchange", "defi_bridge": "bridge", "defi": "defi",
                      "defi_dex": "defi", "defi_lending": "defi", "defi_derivative": "defi", "index": "defi",
                      "service": "service", "wallet_service": "service", "payment_processor": "service",
                      "gambling": "service", "mining_service": "service", "organization": "company"}
_SECTOR_WORDS = (
    ("bridge", re.compile(r"\bbridge\b|layer ?zero", re.I)),
    ("developer", re.compile(r"\brepo\b|\bjobs?\b|dev scam|interview|vscode|\bnpm\b|developer|upwork|linkedin|"
                             r"bitbucket|contagious|\bci thefts?\b", re.I)),
    ("individual", re.compile(r"individual|founder|\bceo\b|whale|holder|theft from|\bfake (?!hack)|"
                              r"\b(?:deployer|admin key)\b", re.I)),
    ("exchange", re.compile(r"exchange|\bcex\b", re.I)),
    ("defi", re.compile(r"\bdex\b|\bdefi\b|\bdao\b|finance\b|protocol\b|swap\b|token\b", re.I)),
    ("service", re.compile(r"wallet\b|\bpay\b|custody|mining", re.I)),
)
_ROUTE_WORDS = (
    ("thorchain", re.compile(r"thorchain|\bthor\b", re.I)),
    ("instant_exchange", re.compile(r"\bexch\b|fixedfloat|fixed float|sideshift|changenow|simpleswap|instant", re.I)),
    ("mixer", re.compile(r"tornado|\btc (?:depo|with)|\bto tc\b|mixer|sinbad|blender|wasabi|coinjoin|railgun", re.I)),
    ("cex", re.compile(r"\bcex\b|deposit address|huobi|binance|okx|ftx|kucoin|crypto\.?com", re.I)),
    ("otc", re.compile(r"huione|huoine|\botc\b", re.I)),
    ("dex", re.compile(r"swapping|\bdex\b|uniswap|1inch|paraswap|velora", re.I)),
    ("peel_chain", re.compile(r"\bpeel", re.I)),
)
_ATTACKER_SIDE = {"attacker", "attacker_contract", "theft_receiver", "laundering_intermediary", "mixer_depositor",
                  "mixer_withdrawer", "exchange_deposit", "associated"}


def loss_bin(amount_usd: int | None) -> str | None:
    if amount_usd is None or amount_usd <= 0:
        return None
    return LOSS_BINS[sum(amount_usd >= e for e in LOSS_EDGES)]


def victim_index(entities: Iterable[dict]) -> dict[str, str]:
    """name key -> sector, from GraphSense ActorPack rows (label, actor_id, categories)."""
    index: dict[str, str] = {}
    for row in entities:
        cats = [c for c in str(row.get("categories", "")).split("|") if c in _GRAPHSENSE_SECTOR]
        if not cats:
            continue
        sector = _GRAPHSENSE_SECTOR[cats[0]]
        for key in (row.get("label", ""), row.get("actor_id", "")):
            if name_key(key):
                index.setdefault(name_key(key), sector)
    return index


def victim_sector(name: str, entities: dict[str, str] | None = None) -> str | None:
    """The victim's sector from its register name; None when the name says nothing ("June 12 2025 Theft")."""
    for sector, pattern in _SECTOR_WORDS[:3]:  # wording that names the kind of victim beats a name match
        if pattern.search(name):
            return sector
    if entities:
        for part in [name, *re.split(r"\s*(?:/|\(|\)|\baka\b|\+| - )\s*", name)]:
            if name_key(part) in entities:
                return entities[name_key(part)]
    for sector, pattern in _SECTOR_WORDS[3:]:
        if pattern.search(name):
            return sector
    return None


def routes_from_roles(rows: Iterable[dict]) -> dict[str, set[str]]:
    """Per incident name: the laundering routes its published address roles show."""
    found: dict[str, set[str]] = defaultdict(set)
    chains: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        incident, role, cls = row.get("incident", ""), row.get("role_as_published", ""), row.get("role_class", "")
        found.setdefault(incident, set())
        if cls.startswith("mixer_"):
            found[incident].add("mixer")
        if cls == "exchange_deposit":
            found[incident].add("cex")
        for route, pattern in _ROUTE_WORDS:
            if pattern.search(role):
                found[incident].add(route)
        if cls in _ATTACKER_SIDE and row.get("chain"):
            chains[incident].add(row["chain"])
    for incident, seen in chains.items():
        if len(seen) >= 2:  # stolen value moved on several chains: bridge hops
            found[incident].add("bridge")
    return dict(found)


@dataclass(frozen=True)
class IncidentFeatures:
    """What attribution can learn from one register row (or read from one incident to attribute)."""

    sector: str | None = None
    loss: str | None = None  # one of LOSS_BINS
    period: str | None = None  # the year, "2025"
    routes: frozenset[str] = frozenset()
    routes_known: bool = False  # False: nobody looked at the laundering, so no route is evidence either way


@dataclass
class HistoryModel:
    """Smoothed per-actor frequencies of sector, loss bin and route; `weights` explains one incident."""

    counts: dict[str, dict[str, Counter]] = field(default_factory=dict)  # actor id -> kind -> Counter
    totals: dict[str, Counter] = field(default_factory=dict)  # actor id -> kind -> incidents with that kind known
    pooled: dict[str, Counter] = field(default_factory=dict)
    pooled_totals: Counter = field(default_factory=Counter)
    incidents: Counter = field(default_factory=Counter)  # actor id -> register incidents naming it (not umbrellas)
    unnamed_dprk: frozenset[str] = frozenset()  # DPRK actors the register never names (umbrellas excepted)

    @classmethod
    def fit(cls, labelled: Iterable[tuple[str, IncidentFeatures]], actors: ActorCatalog) -> HistoryModel:
        """`labelled`: (actor id, features) per attributed register incident; umbrellas get their units' too."""
        m = cls()
        m.pooled = {"sector": Counter(), "loss": Counter(), "period": Counter(), "route": Counter()}
        for actor_id, f in labelled:
            m.incidents[actor_id] += 1
            owners = [actor_id]
            current = actors.get(actor_id)
            while current is not None and current.parent and current.parent not in owners:
                owners.append(current.parent)
                current = actors.get(current.parent)
            for kind, values, known in (("sector", [f.sector] if f.sector else [], f.sector is not None),
                                        ("loss", [f.loss] if f.loss else [], f.loss is not None),
                                        ("period", [f.period] if f.period else [], f.period is not None),
                                        ("route", sorted(f.routes), f.routes_known)):
                if not known:
                    continue
                m.pooled[kind].update(values)
                m.pooled_totals[kind] += 1
                for owner in owners:
                    m.counts.setdefault(owner, {}).setdefault(kind, Counter()).update(values)
                    m.totals.setdefault(owner, Counter())[kind] += 1
        umbrellas = {o for o in m.totals if o not in m.incidents}
        m.unnamed_dprk = frozenset(a.id for a in actors if a.dprk and a.id not in m.incidents and a.id not in umbrellas)
        return m

    @staticmethod
    def generic(kind: str) -> float:
        return {"sector": 1 / len(SECTORS), "loss": 1 / len(LOSS_BINS), "period": 1 / len(PERIODS)
                }.get(kind, ROUTE_GENERIC)

    def pooled_p(self, kind: str, value: str) -> float:
        g = ROUTE_PRIOR if kind == "route" else self.generic(kind)
        return (self.pooled.get(kind, Counter())[value] + BETA * g) / (self.pooled_totals[kind] + BETA)

    def p(self, actor_id: str, kind: str, value: str) -> float:
        n = self.totals.get(actor_id, Counter())[kind]
        if n == 0:  # nothing known of this actor on this kind: no evidence either way (weight 0)
            return self.generic(kind)
        k = self.counts.get(actor_id, {}).get(kind, Counter())[value]
        return (k + ALPHA * self.pooled_p(kind, value)) / (n + ALPHA)

    def knows(self, actor_id: str) -> bool:
        return actor_id in self.totals

    def base_rate(self, actor_id: str) -> dict | None:
        """How often the register names this actor among the actors it names (+1 smoothing), against
        a uniform share: the prior for "who does crypto thefts" once the incident is one."""
        if not self.incidents or (actor_id not in self.incidents and actor_id not in self.unnamed_dprk):
            return None  # no register; not a DPRK actor (outside the register's scope); or an umbrella
        n, total, named = self.incidents[actor_id], sum(self.incidents.values()), len(self.incidents)
        w = math.log((n + 1) / (total + named) * named)
        basis = (f"{n} of {total} attributed incidents ({named} actors named)" if n
                 else f"a DPRK actor none of the {total} attributed incidents names")
        return {"kind": "base rate", "id": "register", "name": "share of the register's attributed thefts",
                "match": basis, "weight": round(w, 3), "_raw": w}

    def weights(self, actor_id: str, f: IncidentFeatures) -> list[dict]:
        """One evidence entry per feature of the incident: log(P(value | actor) / generic), with its basis;
        plus the actor's base rate in the register when the incident shows any such feature."""
        out = []
        if (f.sector or f.loss or f.period or f.routes) and (prior := self.base_rate(actor_id)):
            out.append(prior)
        items = [("sector", f.sector)] if f.sector else []
        items += [("loss", f.loss)] if f.loss else []
        items += [("period", f.period)] if f.period else []
        items += [("route", r) for r in sorted(f.routes)]
        for kind, value in items:
            w = math.log(self.p(actor_id, kind, value) / self.generic(kind))
            k = self.counts.get(actor_id, {}).get(kind, Counter())[value]
            n = self.totals.get(actor_id, Counter())[kind]
            basis = (f"{k} of {n} register incidents with a known {kind}" if n
                     else f"no register incident of this actor with a known {kind}: weight 0")
            name = ({"sector": "victim sector", "loss": "theft size (USD)", "period": "year of the theft"}.get(kind)
                    or ROUTE_NAMES.get(value, value))
            out.append({"kind": "laundering" if kind == "route" else kind, "id": value, "name": name,
                        "match": basis, "weight": round(w, 3), "_raw": w})
        return out
