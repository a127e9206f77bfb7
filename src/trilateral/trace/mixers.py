"""Mixer pools (Tornado Cash style): tainted deposits wait in the pool; withdrawals are linked back
to them by switchable heuristics, each reported per link with its confidence, and the pool's
anonymity set as the prior. The link's confidence travels with the taint into the findings (no I/O).

Heuristics and their sources (docs/tracing.md has assumptions, false-link costs and figures):
- address_reuse: withdrawn to an address that held taint or deposited (Wang et al. WWW 2023, "linked
  address"; Tutela "address match").
- gas_funding: the withdrawal address got its gas from a tainted address (Béres et al. 2021).
- relayer: same relayer as an earlier linked withdrawal of this trace (a bonus, never alone; Tutela).
- timing: few deposits between the tainted deposit and the withdrawal (Béres et al. 2021,
  deposit-withdrawal time; Tutela "timing").
- multi_denomination: a recipient takes N withdrawals matching N tainted deposits, and few honest
  depositors show the same pattern (Wang et al. WWW 2023; Tutela "multi-denomination").
- anonymity_set: waiting tainted deposits / deposits of the pool in the window (the prior).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

from trilateral.core.errors import InputError
from trilateral.trace.taint import Taint

# Confidence of each kind of evidence that a withdrawal belongs to a tainted deposit.
ADDRESS_REUSE = 0.95  # withdrawn to an address that held taint or made a tainted deposit
GAS_FUNDING = 0.85  # withdrawn to an address whose gas came from a tainted address
RELAYER_REUSE = 0.10  # bonus: same relayer as an earlier linked withdrawal of this trace
MULTI_DENOMINATION = 0.9  # a unique pattern; divided by 1 + the honest depositors sharing it
TIMING_WINDOW = 2 * 86_400  # the timing heuristic looks at withdrawals this soon after the deposit

HEURISTICS = ("address_reuse", "gas_funding", "relayer", "timing", "multi_denomination", "anonymity_set")
# Linking by default: the heuristics that held precision >= 0.9 on both evaluation worlds. Timing and
# the anonymity set alone linked honest withdrawals in world B (precision 0.0); the anonymity set is
# still reported on every link as its prior (bench/RESULTS-mixers.md).
DEFAULT_HEURISTICS = frozenset({"address_reuse", "gas_funding", "relayer", "multi_denomination"})


def parse_heuristics(text: str | None) -> frozenset[str]:
    """`address_reuse,gas_funding,...` (`default`, `all`, or empty for none) -> the set; a clear error
    otherwise."""
    if text is None or text.strip() == "default":
        return DEFAULT_HEURISTICS
    if text.strip() == "all":
        return frozenset(HEURISTICS)
    names = {t.strip() for t in text.split(",") if t.strip()}
    unknown = names - set(HEURISTICS)
    if unknown:
        raise InputError(f"unknown mixer heuristic(s) {', '.join(sorted(unknown))}: use any of {', '.join(HEURISTICS)}")
    return frozenset(names)


@dataclass(frozen=True)
class MixerWithdrawal:
    timestamp: int
    pool: int
    to: int
    relayer: int
    fee: int
    amount: int  # value paid out to `to` (denomination - fee), 0 if unknown
    tx_hash: str
    deposit_time: int | None = None
    asset: int = -1  # asset of the payout; -1: the chain's native asset


@dataclass
class _Deposit:
    timestamp: int
    tx_hash: str
    depositor: int
    depositor_text: str
    amount: int
    taint: Taint


@dataclass
class _Pool:
    tainted: deque[_Deposit] = field(default_factory=deque)
    all_deposit_times: list[int] = field(default_factory=list)  # tainted and clean, when known
    denomination: int = 0
    asset: int = 0  # the pool's asset (token pools: the token's id)


class MixerBook:
    """Tainted deposits per pool and the rule that links withdrawals to them."""

    def __init__(self, chain: str, min_confidence: float, window: int,
                 heuristics: frozenset[str] = DEFAULT_HEURISTICS) -> None:
        self.chain = chain
        self.min_confidence = min_confidence
        self.window = window
        self.heuristics = heuristics
        self.pools: dict[int, _Pool] = defaultdict(_Pool)
        self.depositors: set[int] = set()
        self.relayers: set[int] = set()
        self.deposit_counts: dict[int, list[int]] = {}  # pool -> sorted times of every deposit
        self.expired: dict[int, int] = defaultdict(int)  # asset -> tainted value that waited too long
        self.tainted_counts: Counter[int] = Counter()  # pool -> tainted deposits so far
        self.recipient_pattern: dict[int, Counter[int]] = {}  # recipient -> withdrawals per pool
        self.depositor_pattern: dict[int, Counter[int]] = {}  # depositor -> deposits per pool
        self.pool_depositors: dict[int, set[int]] = defaultdict(set)  # pool -> every depositor

    def set_deposit_times(self, pool: int, times: list[int]) -> None:
        self.deposit_counts[pool] = sorted(times)

    def set_patterns(self, deposits: dict[int, list[tuple[int, int]]], withdrawals: list[MixerWithdrawal]) -> None:
        """Every deposit (pool -> [(time, depositor)]) and withdrawal known, for multi_denomination."""
        for pool, ds in deposits.items():
            for _, who in ds:
                if who >= 0:
                    self.depositor_pattern.setdefault(who, Counter())[pool] += 1
                    self.pool_depositors[pool].add(who)
        for w in withdrawals:
            self.recipient_pattern.setdefault(w.to, Counter())[w.pool] += 1

    def deposit(self, pool: int, ts: int, tx: str, depositor: int, amount: int, taint: Taint,
                depositor_text: str, asset: int = 0) -> None:
        book = self.pools[pool]
        book.denomination = book.denomination or amount
        book.asset = asset
        book.tainted.append(_Deposit(ts, tx, depositor, depositor_text, amount, taint))
        self.depositors.add(depositor)
        self.tainted_counts[pool] += 1

    def evidence(self, w: MixerWithdrawal, book: _Pool, touched: set[int], gas_funded: dict[int, int]
                 ) -> tuple[list[dict], dict]:
        """Each enabled heuristic that fires on `w`, with its confidence; and the anonymity-set prior."""
        on = self.heuristics
        found: list[dict] = []
        if "address_reuse" in on and (w.to in touched or w.to in self.depositors):
            found.append({"heuristic": "address_reuse", "confidence": ADDRESS_REUSE})
        funded_at = gas_funded.get(w.to)
        if "gas_funding" in on and funded_at is not None and funded_at <= w.timestamp:
            found.append({"heuristic": "gas_funding", "confidence": GAS_FUNDING})
        waiting = len(book.tainted)
        times = self.deposit_counts.get(w.pool) or []
        lo = bisect.bisect_left(times, w.timestamp - self.window)
        hi = bisect.bisect_right(times, w.timestamp)
        anonymity = max(hi - lo, waiting)
        prior = {"heuristic": "anonymity_set", "confidence": round(min(1.0, waiting / anonymity), 4),
                 "tainted_waiting": waiting, "anonymity_set": anonymity}
        if "anonymity_set" in on:
            found.append(prior)
        oldest = book.tainted[0].timestamp
        if "timing" in on and w.timestamp - oldest <= TIMING_WINDOW:
            since = hi - bisect.bisect_left(times, oldest)
            between = max(since, waiting)
            found.append({"heuristic": "timing", "confidence": round(waiting / between, 4),
                          "deposits_since_tainted": between})
        pattern = self.recipient_pattern.get(w.to)
        if "multi_denomination" in on and pattern and sum(pattern.values()) >= 2 and \
                all(self.tainted_counts[p] >= n for p, n in pattern.items() if p != w.pool):
            sets = sorted((self.pool_depositors.get(p, set()) for p in pattern), key=len)
            honest = sum(1 for who in sets[0].intersection(*sets[1:]) if who not in self.depositors and
                         all(self.depositor_pattern[who][p] >= n for p, n in pattern.items()))
            found.append({"heuristic": "multi_denomination", "confidence": round(MULTI_DENOMINATION / (1 + honest), 4),
                          "withdrawals": sum(pattern.values()), "honest_matches": honest})
        return found, prior

    def withdraw(self, w: MixerWithdrawal, touched: set[int], gas_funded: dict[int, int]
                 ) -> tuple[Taint, dict] | None:
        """Link withdrawal `w` to the oldest waiting tainted deposit of its pool, if the evidence is
        strong enough; return the taint it carries and the link's description."""
        book = self.pools.get(w.pool)
        if book is None:
            return None
        while book.tainted and book.tainted[0].timestamp < w.timestamp - self.window:
            self.expired[book.asset] += book.tainted.popleft().taint.amount  # too old to link: unresolved
        if not book.tainted or book.tainted[0].timestamp > w.timestamp:
            return None
        found, prior = self.evidence(w, book, touched, gas_funded)
        confidence = max((e["confidence"] for e in found), default=0.0)
        if "relayer" in self.heuristics and w.relayer >= 0 and w.relayer in self.relayers and \
                confidence >= self.min_confidence and confidence:  # raises a link's confidence, never makes one
            found.append({"heuristic": "relayer", "confidence": RELAYER_REUSE, "bonus": True})
            confidence = min(1.0, confidence + RELAYER_REUSE)
        if confidence < self.min_confidence or not confidence:
            return None
        dep = book.tainted.popleft()
        paid = w.amount or max(dep.amount - w.fee, 0)
        carried = dep.taint.scaled(paid, dep.amount) if dep.amount else dep.taint
        taint = Taint(carried.amount, carried.amount, carried.conf_mass * confidence, dep.taint.hops + 1)
        if w.relayer >= 0:
            self.relayers.add(w.relayer)
        link = {"chain": self.chain, "deposit_tx": dep.tx_hash, "depositor": dep.depositor_text,
                "withdrawal_tx": w.tx_hash, "confidence": round(confidence, 4), "evidence": found,
                "prior": {k: prior[k] for k in ("confidence", "tainted_waiting", "anonymity_set")},
                "anonymity_set": prior["anonymity_set"], "amount_base_units": str(taint.amount),
                "time": w.timestamp}
        return taint, link

    def unlinked(self) -> dict[int, int]:
        """Tainted value still waiting in pools at the end, or expired there: asset id -> amount."""
        out: dict[int, int] = defaultdict(int, self.expired)
        for book in self.pools.values():
            out[book.asset] += sum(d.taint.amount for d in book.tainted)
        return {a: v for a, v in out.items() if v}
