"""The incremental taint core: blocks in, state changes and alerts out (no I/O).

Each open case keeps ledgers (address, asset) -> stolen value under the case's policy, with the
same ledgers, mixer link rule, deposit-address heuristic and UTXO allocation as `trilateral trace`
(trilateral.trace.taint / mixers / roles / utxo). A block is applied once; its journal is the undo
that `revert` uses when a reorg removes the block. Transfers touching no case cost two dict
look-ups, so one process can follow every chain at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from trilateral.trace.mixers import HEURISTICS, MixerBook, MixerWithdrawal, _Deposit
from trilateral.trace.model import Role
from trilateral.trace.roles import infer_deposit_addresses
from trilateral.trace.taint import NO_TAINT, Taint, fresh_taint, ledger_factory, sum_taints
from trilateral.watch.model import STABLECOINS, Alert, Block, Transfer, Withdrawal
from trilateral.watch.state import KV, MISSING, Journal, UndoEntry
from trilateral.watch.utxo import utxo_tx

ISSUERS = {"USDT": "Tether", "USDC": "Circle"}
NOT_DEPOSIT = ((0, "", 0),)  # `sends` of an address that paid something other than an exchange: never a deposit address


@dataclass(frozen=True)
class CaseSpec:
    """What a case follows: seed addresses (everything they send is stolen) and seed transactions."""

    id: int
    chain: str
    policy: str = "haircut"
    seeds: frozenset[str] = frozenset()
    seed_txs: frozenset[str] = frozenset()


class Case:
    def __init__(self, spec: CaseSpec, kv: KV | None = None) -> None:
        self.spec = spec
        self.kv = kv or KV(f"case:{spec.id}")
        self.ledger_cls = ledger_factory(spec.policy)

    def holdings(self) -> dict[tuple[str, str], int]:
        """address, asset -> stolen base units held there now."""
        out = {key: book.tainted for key, book in self.kv.maps["ledgers"].items() if book.tainted}
        for addr, value, taint in self.kv.maps["utxos"].values():
            out[(addr, "BTC")] = out.get((addr, "BTC"), 0) + min(taint.amount, value)
        return out


@dataclass
class Outcome:
    """What one block did: the alerts it raised and its undo (old values of every changed key)."""

    block: Block
    alerts: list[Alert]
    undo: list[UndoEntry]

    def changed(self) -> list[tuple[str, str, Any]]:
        return [(o, n, k) for o, n, k, _ in self.undo]


@dataclass
class WatchCore:
    """Every open case of every chain. `labels`: chain -> address -> Role (exchanges, mixers, ...);
    `natives`: chain -> (ticker, decimals) of the chain's own asset."""

    labels: dict[str, dict[str, Role]] = field(default_factory=dict)
    natives: dict[str, tuple[str, int]] = field(default_factory=dict)
    mixer_min_confidence: float = 0.5
    mixer_window: int = 30 * 86_400
    cases: dict[int, Case] = field(default_factory=dict)
    chains: dict[str, KV] = field(default_factory=dict)
    index: dict[str, dict[Any, set[int]]] = field(default_factory=dict)  # chain -> address/outpoint -> cases
    tx_seeds: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    assets: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)

    def chain_kv(self, chain: str) -> KV:
        if chain not in self.chains:
            self.chains[chain] = KV(f"chain:{chain}")
        return self.chains[chain]

    def owner(self, name: str) -> KV:
        kind, _, ident = name.partition(":")
        return self.cases[int(ident)].kv if kind == "case" else self.chain_kv(ident)

    # -- cases ---------------------------------------------------------------------------------
    def add_case(self, spec: CaseSpec, kv: KV | None = None) -> Case:
        case = self.cases[spec.id] = Case(spec, kv)
        idx = self.index.setdefault(spec.chain, {})
        for address in spec.seeds:
            idx.setdefault(address, set()).add(spec.id)
        for tx in spec.seed_txs:
            self.tx_seeds.setdefault(spec.chain, {}).setdefault(tx, set()).add(spec.id)
        for name in ("touched", "pools", "utxos"):
            for key in case.kv.maps[name]:
                idx.setdefault(key, set()).add(spec.id)
        return case

    def remove_case(self, case_id: int) -> None:
        case = self.cases.pop(case_id, None)
        if case is None:
            return
        for ids in self.index.get(case.spec.chain, {}).values():
            ids.discard(case_id)
        for ids in self.tx_seeds.get(case.spec.chain, {}).values():
            ids.discard(case_id)

    # -- blocks --------------------------------------------------------------------------------
    def apply(self, block: Block) -> Outcome:
        journal = Journal()
        kvs = [c.kv for c in self.cases.values() if c.spec.chain == block.chain] + [self.chain_kv(block.chain)]
        for kv in kvs:
            kv.journal = journal
        try:
            run = _BlockRun(self, block)
            run.run()
        finally:
            for kv in kvs:
                kv.journal = None
        return Outcome(block, run.alerts, journal.entries)

    def revert(self, undo: list[UndoEntry]) -> None:
        """Put back what a block changed (its undo, newest change last), e.g. after a reorg."""
        for owner, name, key, old in reversed(undo):
            kv = self.owner(owner)
            kv.restore(name, key, old)
            if owner.startswith("case:") and old is not MISSING and name in ("touched", "pools", "utxos"):
                chain = self.cases[int(owner[5:])].spec.chain
                self.index.setdefault(chain, {}).setdefault(key, set()).add(int(owner[5:]))

    def role(self, case: Case, address: str) -> Role | None:
        inferred = case.kv.maps["roles"].get(address)
        if inferred is not None:
            return inferred
        chain = case.spec.chain
        if address in self.chain_kv(chain).maps["pool_roles"]:
            return Role("mixer", "mixer pool", "mixing_service")
        return self.labels.get(chain, {}).get(address)

    def asset_info(self, chain: str, key: str) -> tuple[str, int]:
        native = self.natives.get(chain, (chain.upper()[:3], 18))
        if key == native[0]:
            return native
        return self.assets.get(chain, {}).get(key, (key, 0))


class _BlockRun:
    """One block applied to every case it touches."""

    def __init__(self, core: WatchCore, block: Block) -> None:
        self.core = core
        self.block = block
        self.chain = block.chain
        self.idx = core.index.setdefault(block.chain, {})
        self.seeds = core.tx_seeds.get(block.chain, {})
        self.native = core.natives.get(block.chain, (block.chain.upper()[:3], 18))[0]
        self.alerts: list[Alert] = []
        self.stable: dict[tuple[int, str, str], str] = {}  # (case, address, asset) -> tx that brought it
        self.edges = 0

    def run(self) -> None:
        block, chain_kv = self.block, self.core.chain_kv(self.block.chain)
        if block.assets:
            self.core.assets.setdefault(block.chain, {}).update(block.assets)
        for contract, address, added in block.blacklists:  # the issuer froze (or released) an address
            if added:
                chain_kv.put("blacklisted", (contract, address), 1)
            elif (contract, address) in chain_kv.maps["blacklisted"]:
                chain_kv.delete("blacklisted", (contract, address))
        for pool, _tx in block.mixer_deposits:
            chain_kv.put("pool_times", pool, (*chain_kv.get("pool_times", pool, ()), block.timestamp))
            if pool not in chain_kv.maps["pool_roles"]:
                chain_kv.put("pool_roles", pool, 1)
        if block.utxo_txs:
            for tx in block.utxo_txs:
                utxo_tx(self, tx)
        else:
            withdrawals: dict[str, list[Withdrawal]] = {}
            for w in block.withdrawals:
                withdrawals.setdefault(w.tx_hash, []).append(w)
            transfers = block.transfers
            start = 0
            for i in range(1, len(transfers) + 1):
                if i == len(transfers) or transfers[i].tx_hash != transfers[start].tx_hash:
                    tx = transfers[start].tx_hash
                    for w in withdrawals.pop(tx, ()):
                        self.withdrawal(w)
                    self.transaction(transfers[start:i])
                    start = i
            for ws in withdrawals.values():
                for w in ws:
                    self.withdrawal(w)
        self.finish()

    # -- account model ---------------------------------------------------------------------------
    def transaction(self, group: list[Transfer]) -> None:
        idx = self.idx
        ids: set[int] | None = None
        for t in group:
            hit = idx.get(t.src)
            if hit:
                ids = hit | ids if ids else set(hit)
            hit = idx.get(t.dst)
            if hit:
                ids = hit | ids if ids else set(hit)
        seeded = self.seeds.get(group[0].tx_hash)
        if seeded:
            ids = seeded | ids if ids else set(seeded)
        if not ids:
            return
        labels = self.core.labels.get(self.chain, {})
        swap = any(_kind(labels.get(t.src)) == "dex" or _kind(labels.get(t.dst)) == "dex" for t in group)
        for case_id in sorted(ids):
            case = self.core.cases.get(case_id)
            if case is None:
                continue
            if swap:
                self.swap(case, group)
            else:
                for t in group:
                    self.transfer(case, t)

    def send_taint(self, case: Case, t: Transfer) -> Taint:
        if t.src in case.spec.seeds or t.tx_hash in case.spec.seed_txs:
            return fresh_taint(t.amount, hops=1)
        kv = case.kv
        if (t.src, t.asset) not in kv.maps["ledgers"] or self.core.role(case, t.src) is not None:
            return NO_TAINT
        book = kv.touch("ledgers", (t.src, t.asset))
        taint = book.send(t.amount)
        if t.amount > 0 and t.src in kv.maps["touched"]:
            sends = kv.get("sends", t.src, ())
            if sends != NOT_DEPOSIT:  # only addresses that so far paid exchanges alone can be deposit addresses
                role = self.core.role(case, t.dst)
                kv.put("sends", t.src, (*sends, (self.block.timestamp, t.dst, t.amount))
                       if role is not None and role.kind == "exchange" else NOT_DEPOSIT)
        return taint

    def transfer(self, case: Case, t: Transfer) -> None:
        taint = self.send_taint(case, t)
        if taint and _kind(self.core.role(case, t.dst)) == "exchange" and self.core.role(case, t.src) is None \
                and t.src not in case.spec.seeds and self.deposit_sweep(case, t, taint):
            return
        self.deliver(case, t.tx_hash, t.src, t.dst, t.asset, t.amount, taint, "transfer")

    def deposit_sweep(self, case: Case, t: Transfer, taint: Taint) -> bool:
        """A tainted address forwarding to an exchange's labelled address: if it sends only there,
        soon after it first received, it is that exchange's deposit address (trace.roles)."""
        kv = case.kv
        sends = list(kv.get("sends", t.src, ()))
        targets = {to: self.core.role(case, to) for _, to, _ in sends}
        found = infer_deposit_addresses({t.src: sends}, {t.src: kv.get("first_in", t.src, self.block.timestamp)},
                                        {a: r for a, r in targets.items() if r is not None}, set(case.spec.seeds),
                                        {a: a for a in targets})
        role = found.get(t.src)
        if role is None:
            return False
        kv.put("roles", t.src, role)
        self.edge(case, t.tx_hash, t.src, t.dst, t.asset, t.amount, taint, "exchange")
        self.alert(case, "exchange_deposit", t.tx_hash, t.src, t.asset, taint, role, source=t.src, hot=t.dst)
        return True

    def deliver(self, case: Case, tx: str, src: str, dst: str, asset: str, amount: int, taint: Taint,
                via: str) -> None:
        """Value arrives at dst: held in its ledger, or alerted by dst's role (off-ramp, mixer, bridge)."""
        kv = case.kv
        if taint.amount > amount:
            taint = taint.scaled(amount, taint.amount)
        if taint and asset == self.native and dst not in kv.maps["gas"]:
            kv.put("gas", dst, self.block.timestamp)
        role = self.core.role(case, dst)
        if role is None:
            key = (dst, asset)
            if key in kv.maps["ledgers"]:
                book = kv.touch("ledgers", key)
            elif taint:
                book = case.ledger_cls()
                kv.put("ledgers", key, book)
            else:
                return
            book.receive(amount, taint)
            if taint:
                if dst not in kv.maps["touched"]:
                    kv.put("touched", dst, 1)
                    kv.put("first_in", dst, self.block.timestamp)
                    self.idx.setdefault(dst, set()).add(case.spec.id)
                self.edge(case, tx, src, dst, asset, amount, taint, via)
                if self.core.asset_info(self.chain, asset)[0] in STABLECOINS:
                    self.stable[(case.spec.id, dst, asset)] = tx
            return
        if not taint:
            return
        self.edge(case, tx, src, dst, asset, amount, taint, role.kind)
        if role.is_offramp:
            self.alert(case, "exchange_deposit" if role.kind == "deposit" else "exchange", tx, dst, asset, taint,
                       role, source=src, hot=role.hot_wallet)
        elif role.kind == "mixer":
            pool = (*kv.get("pools", dst, ()), (self.block.timestamp, tx, src, amount, taint))
            kv.put("pools", dst, pool)
            if src not in kv.maps["depositors"]:
                kv.put("depositors", src, 1)
            self.idx.setdefault(dst, set()).add(case.spec.id)
            self.alert(case, "mixer", tx, dst, asset, taint, role, source=src)
        elif role.kind == "bridge":
            self.alert(case, "bridge", tx, dst, asset, taint, role, source=src)

    def swap(self, case: Case, group: list[Transfer]) -> None:
        """A transaction through DEX addresses carries the input taint fraction to its outputs
        (the rule of trace.account's swap)."""
        ins: dict[str, list[tuple[int, Taint]]] = {}
        outs: list[Transfer] = []
        for t in group:
            f_dex = _kind(self.core.role(case, t.src)) == "dex"
            t_dex = _kind(self.core.role(case, t.dst)) == "dex"
            if t_dex and not f_dex:
                taint = self.send_taint(case, t)
                ins.setdefault(t.asset, []).append((t.amount, taint))
                if taint:
                    self.edge(case, t.tx_hash, t.src, t.dst, t.asset, t.amount, taint, "dex_swap")
            elif f_dex and not t_dex:
                outs.append(t)
            elif not f_dex and not t_dex:
                self.transfer(case, t)
        taints = [t for pieces in ins.values() for _, t in pieces if t]
        if not taints:
            for t in outs:
                self.deliver(case, t.tx_hash, t.src, t.dst, t.asset, t.amount, NO_TAINT, "dex_swap")
            return
        fractions = [Fraction(sum(t.amount for _, t in p), sum(a for a, _ in p) or 1) for p in ins.values()]
        fraction = sum(fractions, Fraction(0)) / len(fractions)
        carried = sum_taints(taints)
        for t in outs:
            share = t.amount * fraction.numerator // fraction.denominator
            taint = (Taint(share, carried.mixed * share // carried.amount, carried.conf_mass * share / carried.amount,
                           carried.hops + 1) if share else NO_TAINT)
            self.deliver(case, t.tx_hash, t.src, t.dst, t.asset, t.amount, taint, "dex_swap")

    def withdrawal(self, w: Withdrawal) -> None:
        """A pool withdrawal linked to a case's waiting tainted deposits (trace.mixers' rule)."""
        for case_id in sorted(self.idx.get(w.pool, ())):
            case = self.core.cases.get(case_id)
            if case is None or not case.kv.get("pools", w.pool):
                continue
            kv = case.kv
            book = MixerBook(self.chain, self.core.mixer_min_confidence, self.core.mixer_window,
                             frozenset(HEURISTICS))  # the watch links on the pool's tainted share too
            waiting = kv.get("pools", w.pool)
            pool = book.pools[w.pool]
            pool.tainted = deque(_Deposit(ts, tx, dep, dep, amount, taint) for ts, tx, dep, amount, taint in waiting)
            pool.denomination = waiting[0][3]
            book.depositors = kv.maps["depositors"]  # type: ignore[assignment]
            book.relayers = _Relayers(kv)  # type: ignore[assignment]
            times = self.core.chain_kv(self.chain).get("pool_times", w.pool)
            if times:
                book.set_deposit_times(w.pool, list(times))
            relayer = int(w.relayer, 16) if w.relayer.startswith("0x") and int(w.relayer, 16) else -1
            mw = MixerWithdrawal(self.block.timestamp, w.pool, w.to, relayer, w.fee, w.amount, w.tx_hash)
            linked = book.withdraw(mw, kv.maps["touched"], kv.maps["gas"])  # type: ignore[arg-type]
            left = tuple((d.timestamp, d.tx_hash, d.depositor, d.amount, d.taint) for d in pool.tainted)
            if left != waiting:
                kv.put("pools", w.pool, left)
            if linked is None:
                continue
            taint, _link = linked
            paid_from = waiting[len(waiting) - len(left) - 1][3]
            amount = w.amount or max(paid_from - w.fee, taint.amount)
            self.deliver(case, w.tx_hash, w.pool, w.to, self.native, amount, taint, "mixer")

    # -- alerts ----------------------------------------------------------------------------------
    def edge(self, case: Case, tx: str, src: str, dst: str, asset: str, amount: int, taint: Taint, kind: str) -> None:
        self.edges += 1
        case.kv.put("edges", (self.block.number, self.edges),
                    (self.block.timestamp, tx, src, dst, asset, str(amount), str(taint.amount),
                     round(taint.confidence, 6), kind))

    def alert(self, case: Case, kind: str, tx: str, address: str, asset: str, taint: Taint, role: Role | None,
              source: str | None = None, hot: str | None = None, amount: int | None = None) -> None:
        b = self.block
        symbol, decimals = self.core.asset_info(b.chain, asset)
        confidence = taint.confidence * (role.confidence if role else 1.0)
        self.alerts.append(Alert(case.spec.id, kind, b.chain, b.number, b.hash, b.timestamp, tx, address, symbol,
                                 asset, decimals, taint.amount if amount is None else amount, round(confidence, 4),
                                 len(self.alerts), role.entity if role else ISSUERS.get(symbol),
                                 role.category if role else "stablecoin_issuer",
                                 role.jurisdiction if role else None, hot, source))

    def finish(self) -> None:
        """Stablecoins that came to rest in this block at an address no service controls: the
        issuer can freeze them there (unless it already blacklisted the address: no alert then)."""
        blacklisted = self.core.chain_kv(self.chain).maps["blacklisted"]
        for (case_id, address, asset), tx in sorted(self.stable.items()):
            if (asset, address) in blacklisted:
                continue
            case = self.core.cases[case_id]
            held = case.kv.maps["ledgers"][(address, asset)].tainted
            alerted = case.kv.get("stable", (address, asset), 0)
            if held > alerted:
                case.kv.put("stable", (address, asset), held)
                self.alert(case, "issuer_freeze", tx, address, asset, Taint(held, 0, float(held), 0),
                           None, amount=held)


class _Relayers:
    """MixerBook's relayer set, kept in the case's journalled state."""

    def __init__(self, kv: KV) -> None:
        self.kv = kv

    def __contains__(self, relayer: object) -> bool:
        return relayer in self.kv.maps["relayers"]

    def add(self, relayer: int) -> None:
        if relayer not in self.kv.maps["relayers"]:
            self.kv.put("relayers", relayer, 1)


def _kind(role: Role | None) -> str | None:
    return role.kind if role else None
