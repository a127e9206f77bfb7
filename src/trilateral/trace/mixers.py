"""Mixer pools (Tornado Cash style): tainted deposits wait in the pool; withdrawals are linked back
to them by denomination, time window, address reuse, gas funding and relayer, each link with a
confidence that travels with the taint into the findings (no I/O)."""

from __future__ import annotations

import bisect
from collections import defaultdict, deque
from dataclasses import dataclass, field

from trilateral.trace.taint import Taint

# Confidence of each kind of evidence that a withdrawal belongs to a tainted deposit.
ADDRESS_REUSE = 0.95  # withdrawn to an address that held taint or made a tainted deposit
GAS_FUNDING = 0.85  # withdrawn to an address whose gas came from a tainted address
RELAYER_REUSE = 0.10  # bonus: same relayer as an earlier linked withdrawal of this trace


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


class MixerBook:
    """Tainted deposits per pool and the rule that links withdrawals to them."""

    def __init__(self, chain: str, min_confidence: float, window: int) -> None:
        self.chain = chain
        self.min_confidence = min_confidence
        self.window = window
        self.pools: dict[int, _Pool] = defaultdict(_Pool)
        self.depositors: set[int] = set()
        self.relayers: set[int] = set()
        self.deposit_counts: dict[int, list[int]] = {}  # pool -> sorted times of every deposit (events)
        self.expired = 0

    def set_deposit_times(self, pool: int, times: list[int]) -> None:
        self.deposit_counts[pool] = sorted(times)

    def deposit(self, pool: int, ts: int, tx: str, depositor: int, amount: int, taint: Taint,
                depositor_text: str) -> None:
        book = self.pools[pool]
        book.denomination = book.denomination or amount
        book.tainted.append(_Deposit(ts, tx, depositor, depositor_text, amount, taint))
        self.depositors.add(depositor)

    def withdraw(self, w: MixerWithdrawal, touched: set[int], gas_funded: dict[int, int]
                 ) -> tuple[Taint, dict] | None:
        """Link withdrawal `w` to the oldest waiting tainted deposit of its pool, if the evidence is
        strong enough; return the taint it carries and the link's description."""
        book = self.pools.get(w.pool)
        if book is None:
            return None
        while book.tainted and book.tainted[0].timestamp < w.timestamp - self.window:
            self.expired += book.tainted.popleft().taint.amount  # too old to link: unresolved
        if not book.tainted or book.tainted[0].timestamp > w.timestamp:
            return None
        evidence: list[str] = []
        confidence = 0.0
        if w.to in touched or w.to in self.depositors:
            evidence.append("address_reuse")
            confidence = max(confidence, ADDRESS_REUSE)
        funded_at = gas_funded.get(w.to)
        if funded_at is not None and funded_at <= w.timestamp:
            evidence.append("gas_funding")
            confidence = max(confidence, GAS_FUNDING)
        waiting = len(book.tainted)
        anonymity = self._anonymity_set(w.pool, w.timestamp, book)
        if anonymity:
            set_conf = min(1.0, waiting / anonymity)
            if set_conf > confidence:
                evidence.append(f"denomination_time {waiting}/{anonymity}")
                confidence = set_conf
        if w.relayer in self.relayers and confidence:
            evidence.append("relayer")
            confidence = min(1.0, confidence + RELAYER_REUSE)
        if confidence < self.min_confidence:
            return None
        dep = book.tainted.popleft()
        paid = w.amount or max(dep.amount - w.fee, 0)
        carried = dep.taint.scaled(paid, dep.amount) if dep.amount else dep.taint
        taint = Taint(carried.amount, carried.amount, carried.conf_mass * confidence, dep.taint.hops + 1)
        if w.relayer >= 0:
            self.relayers.add(w.relayer)
        link = {"chain": self.chain, "deposit_tx": dep.tx_hash, "depositor": dep.depositor_text,
                "withdrawal_tx": w.tx_hash, "confidence": round(confidence, 4), "evidence": evidence,
                "amount_base_units": str(taint.amount), "time": w.timestamp}
        return taint, link

    def _anonymity_set(self, pool: int, ts: int, book: _Pool) -> int:
        times = self.deposit_counts.get(pool)
        if not times:
            return len(book.tainted)
        lo = bisect.bisect_left(times, ts - self.window)
        hi = bisect.bisect_right(times, ts)
        return max(hi - lo, len(book.tainted))

    def unlinked(self) -> dict[int, int]:
        """Tainted value still waiting in pools at the end (native asset id 0 -> amount)."""
        total = self.expired + sum(d.taint.amount for book in self.pools.values() for d in book.tainted)
        return {0: total} if total else {}
