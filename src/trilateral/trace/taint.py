"""Taint policies of the account model: per-(address, asset) ledgers in exact integers (no I/O).

A ledger holds what an address owns of one asset: its balance and the part of it that is tainted.
`receive` adds value, `send` removes value and returns the taint the outgoing transfer carries.
Amounts are Python ints (base units); only confidences are floats. See docs/tracing.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

POLICIES = ("haircut", "poison", "fifo")
GAP_MODES = ("taint", "clean", "report")  # what an unexplained outflow carries; see docs/tracing.md


@dataclass(frozen=True, slots=True)
class Taint:
    """Tainted value carried by one transfer. `mixed` is the part that crossed a mixer (<= amount);
    `conf_mass` is amount x confidence summed over the pieces (confidence = conf_mass / amount)."""

    amount: int = 0
    mixed: int = 0
    conf_mass: float = 0.0
    hops: int = 0

    @property
    def confidence(self) -> float:
        return self.conf_mass / self.amount if self.amount else 0.0

    def __bool__(self) -> bool:
        return self.amount > 0

    def scaled(self, numerator: int, denominator: int) -> Taint:
        """This taint times numerator/denominator, floored (so the rest stays with the caller)."""
        if denominator <= 0 or self.amount == 0:
            return NO_TAINT
        amount = self.amount * numerator // denominator
        if amount == 0:
            return NO_TAINT
        mixed = self.mixed * numerator // denominator
        return Taint(amount, min(mixed, amount), self.conf_mass * amount / self.amount, self.hops)

    def with_confidence(self, factor: float) -> Taint:
        return Taint(self.amount, self.mixed, self.conf_mass * factor, self.hops)

    def as_mixed(self) -> Taint:
        return Taint(self.amount, self.amount, self.conf_mass, self.hops)


NO_TAINT = Taint()


def fresh_taint(amount: int, hops: int = 0, confidence: float = 1.0) -> Taint:
    """Stolen value at its seed: fully tainted, not mixed."""
    return Taint(amount, 0, float(amount) * confidence, hops) if amount > 0 else NO_TAINT


def sum_taints(taints: list[Taint]) -> Taint:
    amount = sum(t.amount for t in taints)
    if amount == 0:
        return NO_TAINT
    return Taint(amount, sum(t.mixed for t in taints), sum(t.conf_mass for t in taints),
                 min(t.hops for t in taints if t.amount))


class Ledger(ABC):
    """One address's holding of one asset under a policy."""

    __slots__ = ()

    @abstractmethod
    def receive(self, amount: int, taint: Taint) -> None:
        """Add `amount` base units, of which `taint` is stolen."""

    @abstractmethod
    def send(self, amount: int) -> Taint:
        """Take `amount` base units out; the taint they carry under the policy."""

    @property
    @abstractmethod
    def tainted(self) -> int:
        """Stolen base units still held."""

    @property
    @abstractmethod
    def held(self) -> int:
        """Base units the ledger knows the address holds (what it can send without a gap)."""

    @abstractmethod
    def taint_held(self) -> Taint:
        """The taint still held, with its provenance."""


class HaircutLedger(Ledger):
    """Haircut: every outgoing transfer carries the address's tainted share, floor(x * T / B).

    The floor remainder stays in the ledger, so value is conserved exactly. Value sent beyond the
    known balance came from before the loaded window: it is counted as clean (`deficit`)."""

    __slots__ = ("balance", "taint", "mixed", "conf_mass", "hops")

    def __init__(self) -> None:
        self.balance = 0
        self.taint = 0
        self.mixed = 0
        self.conf_mass = 0.0
        self.hops = 0

    def receive(self, amount: int, taint: Taint) -> None:
        self.balance += amount
        if taint.amount:
            self.hops = taint.hops if self.taint == 0 else min(self.hops, taint.hops)
            self.taint += taint.amount
            self.mixed += taint.mixed
            self.conf_mass += taint.conf_mass

    def send(self, amount: int) -> Taint:
        if amount <= 0:
            return NO_TAINT
        if amount > self.balance:  # unknown pre-window funds: clean by assumption
            self.balance = amount
        if self.taint == 0:
            self.balance -= amount
            return NO_TAINT
        out = self.taint * amount // self.balance
        mixed = self.mixed * amount // self.balance
        conf = self.conf_mass * out / self.taint if out else 0.0
        self.balance -= amount
        self.taint -= out
        self.mixed -= mixed
        self.conf_mass -= conf
        if self.taint == 0:
            self.conf_mass = 0.0
        return Taint(out, mixed, conf, self.hops + 1) if out else NO_TAINT

    @property
    def tainted(self) -> int:
        return self.taint

    @property
    def held(self) -> int:
        return self.balance

    def taint_held(self) -> Taint:
        return Taint(self.taint, self.mixed, self.conf_mass, self.hops) if self.taint else NO_TAINT


class PoisonLedger(Ledger):
    """Poison: once any tainted value of this asset arrived, every later outgoing transfer is
    tainted in full. Poison marks rather than measures: it does not conserve value."""

    __slots__ = ("balance", "poisoned", "mixed", "confidence", "hops", "received_taint")

    def __init__(self) -> None:
        self.balance = 0
        self.poisoned = False
        self.mixed = False
        self.confidence = 0.0
        self.hops = 0
        self.received_taint = 0

    def receive(self, amount: int, taint: Taint) -> None:
        self.balance += amount
        if taint.amount:
            self.hops = taint.hops if not self.poisoned else min(self.hops, taint.hops)
            self.poisoned = True
            self.mixed = self.mixed or taint.mixed > 0
            self.confidence = max(self.confidence, taint.confidence)
            self.received_taint += taint.amount

    def send(self, amount: int) -> Taint:
        self.balance = max(self.balance - amount, 0)
        if not self.poisoned or amount <= 0:
            return NO_TAINT
        return Taint(amount, amount if self.mixed else 0, amount * self.confidence, self.hops + 1)

    @property
    def tainted(self) -> int:
        return self.balance if self.poisoned else 0

    @property
    def held(self) -> int:
        return self.balance

    def taint_held(self) -> Taint:
        if not self.poisoned or self.balance == 0:
            return NO_TAINT
        return Taint(self.balance, self.balance if self.mixed else 0, self.balance * self.confidence, self.hops)


@dataclass(slots=True)
class _Piece:
    amount: int
    taint: Taint  # taint.amount == amount or 0 (clean piece)


class FifoLedger(Ledger):
    """FIFO: the balance is a queue of received pieces; an outgoing transfer takes the oldest first
    (Anderson et al., 'Bitcoin Redux'). Unknown pre-window funds are older than anything seen."""

    __slots__ = ("queue", "total", "_tainted")

    def __init__(self) -> None:
        self.queue: deque[_Piece] = deque()
        self.total = 0
        self._tainted = 0

    def receive(self, amount: int, taint: Taint) -> None:
        if amount <= 0:
            return
        clean = amount - taint.amount
        if taint.amount:
            self._push(_Piece(taint.amount, taint))
        if clean > 0:
            self._push(_Piece(clean, NO_TAINT))

    def _push(self, piece: _Piece) -> None:
        last = self.queue[-1] if self.queue else None
        if last is not None and not last.taint and not piece.taint:
            last.amount += piece.amount
        else:
            self.queue.append(piece)
        self.total += piece.amount
        self._tainted += piece.taint.amount

    def send(self, amount: int) -> Taint:
        if amount <= 0:
            return NO_TAINT
        if amount > self.total:  # pre-window funds were first in, so they go out first
            self.queue.appendleft(_Piece(amount - self.total, NO_TAINT))
            self.total = amount
        taken: list[Taint] = []
        need = amount
        while need:
            head = self.queue[0]
            take = min(need, head.amount)
            if head.taint:
                part = head.taint.scaled(take, head.amount) if take < head.amount else head.taint
                # keep exactness: the piece's remaining taint is its remaining amount
                part = Taint(take, min(part.mixed, take), part.conf_mass, head.taint.hops)
                taken.append(part)
                rest = head.amount - take
                head.taint = (Taint(rest, max(head.taint.mixed - part.mixed, 0) if rest else 0,
                                    head.taint.conf_mass - part.conf_mass, head.taint.hops)
                              if rest else NO_TAINT)
                self._tainted -= take
            head.amount -= take
            self.total -= take
            need -= take
            if head.amount == 0:
                self.queue.popleft()
        out = sum_taints(taken)
        return Taint(out.amount, out.mixed, out.conf_mass, out.hops + 1) if out else NO_TAINT

    @property
    def tainted(self) -> int:
        return self._tainted

    @property
    def held(self) -> int:
        return self.total

    def taint_held(self) -> Taint:
        return sum_taints([p.taint for p in self.queue if p.taint])


def ledger_factory(policy: str) -> type[Ledger]:
    try:
        return {"haircut": HaircutLedger, "poison": PoisonLedger, "fifo": FifoLedger}[policy]
    except KeyError:
        from trilateral.core.errors import InputError

        raise InputError(f"unknown taint policy {policy!r}: use one of {', '.join(POLICIES)}") from None


@dataclass
class Ledgers:
    """All ledgers of one trace: keyed by (chain, address_id, asset_id), created on first use."""

    policy: str
    books: dict[tuple[str, int, int], Ledger] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cls = ledger_factory(self.policy)

    def get(self, chain: str, address: int, asset: int) -> Ledger:
        key = (chain, address, asset)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = self._cls()
        return book

    def peek(self, chain: str, address: int, asset: int) -> Ledger | None:
        return self.books.get((chain, address, asset))
