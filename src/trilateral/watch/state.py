"""Live taint state as key-value maps with an undo journal, so a reorg can retract a block (no I/O).

Every mutation goes through `KV.put`, which remembers the first old value per block; the journal of
a block is its undo (and the set of keys to persist). Values are kept as live objects (ledgers,
taints, roles) and turned into JSON only at the storage edge (`encode` / `decode`).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from trilateral.trace.model import Role
from trilateral.trace.taint import FifoLedger, HaircutLedger, Ledger, PoisonLedger, Taint, _Piece

MISSING: Any = object()
# map name -> kind of its values, for the JSON codec
MAPS = {"ledgers": "ledger", "first_in": "plain", "sends": "sends", "gas": "plain", "touched": "plain",
        "depositors": "plain", "relayers": "plain", "roles": "role", "pools": "pool", "stable": "plain",
        "edges": "plain", "utxos": "utxo", "pool_times": "plain", "pool_roles": "plain", "blacklisted": "plain"}

UndoEntry = tuple[str, str, Any, Any]  # (owner, map, key, old value or MISSING)


class Journal:
    """Old values of everything one block changed, first change per key only."""

    def __init__(self) -> None:
        self.entries: list[UndoEntry] = []
        self._seen: set[tuple[str, str, Any]] = set()

    def note(self, owner: str, name: str, key: Any, old: Any) -> None:
        mark = (owner, name, key)
        if mark not in self._seen:
            self._seen.add(mark)
            self.entries.append((owner, name, key, old))

    def changed(self) -> list[tuple[str, str, Any]]:
        return [(o, n, k) for o, n, k, _ in self.entries]


class KV:
    """Named maps of one owner ("case:ID" or "chain:NAME") whose changes are journalled."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.maps: dict[str, dict[Any, Any]] = {name: {} for name in MAPS}
        self.journal: Journal | None = None

    def get(self, name: str, key: Any, default: Any = None) -> Any:
        return self.maps[name].get(key, default)

    def put(self, name: str, key: Any, value: Any) -> None:
        m = self.maps[name]
        if self.journal is not None:
            old = m.get(key, MISSING)
            self.journal.note(self.owner, name, key, clone(old))
        m[key] = value

    def touch(self, name: str, key: Any) -> Any:
        """The mutable value under key, journalled before the caller changes it in place."""
        value = self.maps[name][key]
        if self.journal is not None:
            self.journal.note(self.owner, name, key, clone(value))
        return value

    def delete(self, name: str, key: Any) -> None:
        m = self.maps[name]
        if key in m:
            if self.journal is not None:
                self.journal.note(self.owner, name, key, clone(m[key]))
            del m[key]

    def restore(self, name: str, key: Any, old: Any) -> None:
        if old is MISSING:
            self.maps[name].pop(key, None)
        else:
            self.maps[name][key] = old


def clone(value: Any) -> Any:
    """A copy of a mutable state value (ledgers); immutable values are returned as they are."""
    if isinstance(value, HaircutLedger | PoisonLedger):
        out = type(value)()
        for slot in type(value).__slots__:
            setattr(out, slot, getattr(value, slot))
        return out
    if isinstance(value, FifoLedger):
        out = FifoLedger()
        out.queue = deque(_Piece(p.amount, p.taint) for p in value.queue)
        out.total, out._tainted = value.total, value._tainted
        return out
    return value


# -- JSON codec at the storage edge ---------------------------------------------------------------
def _taint(t: Taint) -> list:
    return [str(t.amount), str(t.mixed), t.conf_mass, t.hops]


def _untaint(v: list) -> Taint:
    return Taint(int(v[0]), int(v[1]), float(v[2]), int(v[3]))


def encode_value(name: str, value: Any) -> str:
    kind = MAPS[name]
    if kind == "ledger":
        plain = _ledger_plain(value)
    elif kind == "role":
        plain = [value.kind, value.entity, value.category, value.jurisdiction, value.confidence, value.hot_wallet]
    elif kind == "pool":
        plain = [[ts, tx, dep, str(amount), _taint(t)] for ts, tx, dep, amount, t in value]
    elif kind == "utxo":
        plain = [value[0], str(value[1]), _taint(value[2])]
    elif kind == "sends":
        plain = [[ts, to, str(a)] for ts, to, a in value]
    else:
        plain = value
    return json.dumps(plain, separators=(",", ":"))


def decode_value(name: str, text: str) -> Any:
    kind = MAPS[name]
    plain = json.loads(text)
    if kind == "ledger":
        return _ledger_from(plain)
    if kind == "role":
        return Role(*plain)
    if kind == "pool":
        return tuple((ts, tx, dep, int(a), _untaint(t)) for ts, tx, dep, a, t in plain)
    if kind == "utxo":
        return (plain[0], int(plain[1]), _untaint(plain[2]))
    if kind == "sends":
        return tuple((ts, to, int(a)) for ts, to, a in plain)
    if name == "edges":
        return tuple(plain)
    return plain


def encode_key(key: Any) -> str:
    return json.dumps(list(key) if isinstance(key, tuple) else key, separators=(",", ":"))


def decode_key(text: str) -> Any:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


def _ledger_plain(book: Ledger) -> list:
    if isinstance(book, HaircutLedger):
        return ["haircut", str(book.balance), str(book.taint), str(book.mixed), book.conf_mass, book.hops]
    if isinstance(book, PoisonLedger):
        return ["poison", str(book.balance), book.poisoned, book.mixed, book.confidence, book.hops,
                str(book.received_taint)]
    assert isinstance(book, FifoLedger)
    return ["fifo", [[str(p.amount), _taint(p.taint)] for p in book.queue]]


def _ledger_from(v: list) -> Ledger:
    if v[0] == "haircut":
        book = HaircutLedger()
        book.balance, book.taint, book.mixed, book.conf_mass, book.hops = int(v[1]), int(v[2]), int(v[3]), v[4], v[5]
        return book
    if v[0] == "poison":
        p = PoisonLedger()
        p.balance, p.poisoned, p.mixed, p.confidence, p.hops, p.received_taint = (
            int(v[1]), v[2], v[3], v[4], v[5], int(v[6]))
        return p
    f = FifoLedger()
    for amount, t in v[1]:
        f.queue.append(_Piece(int(amount), _untaint(t)))
        f.total += int(amount)
        f._tainted += int(t[0])
    return f
