"""The exact-value pass of the account model over the small tainted subgraph, in time order (no I/O).

Transfers are grouped per transaction. A transaction that touches a DEX address is a swap: the
taint fraction of what went into the DEX is carried to what came out of it in the same
transaction, whatever the assets. Value into an off-ramp is credited there and stops; value into
a mixer pool waits for linked withdrawals (trace.mixers); value into a bridge leaves through the
cross-chain link of its transaction as an injection on the other chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from trilateral.trace.mixers import DEFAULT_HEURISTICS, MixerBook, MixerWithdrawal
from trilateral.trace.model import Edge, Injection, Role, TraceResult
from trilateral.trace.taint import NO_TAINT, Ledger, Ledgers, Taint, fresh_taint, sum_taints

GAP_CONFIDENCE = 0.5  # value presumed stolen because the data lacks its inflow counts half


@dataclass(frozen=True)
class BridgeLink:
    """A cross-chain link as the pass needs it: the in side on this chain, the out side anywhere."""

    in_tx: str
    in_address: str
    in_amount: int
    out_chain: str
    out_tx: str
    out_address: str
    out_asset: str
    out_amount: int
    out_time: int
    confidence: float = 1.0  # a matched bridge link's (chain.bridges); protocol-stated links are certain


@dataclass
class AccountRows:
    """The subgraph's transfers in time order; `amount` holds exact Python ints."""

    timestamp: np.ndarray
    tx_key: np.ndarray  # equal for rows of one transaction
    from_id: np.ndarray
    to_id: np.ndarray
    asset_id: np.ndarray
    amount: list[int]
    tx_hash: list[str]
    native_asset: int = 0

    def __len__(self) -> int:
        return len(self.amount)


@dataclass
class AccountChain:
    """One account-model chain's inputs to the pass."""

    chain: str
    rows: AccountRows
    address_text: dict[int, str]  # address_id -> text, for every id the rows mention
    symbols: dict[int, str]  # asset_id -> ticker
    roles: dict[int, Role] = field(default_factory=dict)
    source_after: dict[int, int] = field(default_factory=dict)  # address seeds: id -> stolen from time
    seed_txs: set[str] = field(default_factory=set)  # tx seeds: the value they moved is stolen
    withdrawals: list[MixerWithdrawal] = field(default_factory=list)
    links_by_tx: dict[str, list[BridgeLink]] = field(default_factory=dict)
    injections: list[tuple[int, int, int, Taint, Injection]] = field(default_factory=list)  # ts, addr, asset
    mixer_deposit_times: dict[int, list[int]] = field(default_factory=dict)  # pool -> every deposit's time
    gaps: str = "taint"  # what value sent beyond the known balance carries (taint.GAP_MODES)
    opening: dict[tuple[int, int], int] = field(default_factory=dict)  # (address, asset) -> balance before
    contracts: set[int] = field(default_factory=set)  # addresses known to be contracts
    mixer_deposits: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # pool -> [(time, depositor)]
    mixer_heuristics: frozenset[str] = DEFAULT_HEURISTICS  # trace.mixers heuristics switched on


def run_account_pass(chain: AccountChain, result: TraceResult, mixer_min_confidence: float = 0.5,
                     mixer_window: int = 30 * 86_400) -> list[Injection]:
    """Move taint through the chain's subgraph; return the injections it sends to other chains."""
    return _AccountPass(chain, result, mixer_min_confidence, mixer_window).run()


class _AccountPass:
    def __init__(self, chain: AccountChain, result: TraceResult, mixer_min_confidence: float,
                 mixer_window: int) -> None:
        self.c = chain
        self.r = result
        self.ledgers = Ledgers(result.policy)
        self.mixers = MixerBook(chain.chain, mixer_min_confidence, mixer_window, chain.mixer_heuristics)
        for pool, times in chain.mixer_deposit_times.items():
            self.mixers.set_deposit_times(pool, times)
        self.mixers.set_patterns(chain.mixer_deposits, chain.withdrawals)
        self.touched: set[int] = set()  # addresses that ever held taint
        self.gas_funded: dict[int, int] = {}  # address -> time it got native value from a tainted address
        self.outgoing: list[Injection] = []
        self.row_taint: dict[tuple[str, int], Taint] = {}  # injections riding on existing rows
        self.withdrawal_rows = {(w.tx_hash, w.to) for w in chain.withdrawals if w.amount}
        self.inflow: dict[tuple[int, int], list[int]] = {}  # (address, asset) -> [received, tainted]
        self.first_taint: dict[tuple[int, int], int] = {}  # (address, asset) -> first tainted receipt
        self.seed_received: dict[int, int] = dict.fromkeys(chain.source_after, 0)
        for (address, asset), amount in chain.opening.items():
            if amount > 0:
                self.ledgers.get(chain.chain, address, asset).receive(amount, NO_TAINT)
                self.inflow[(address, asset)] = [amount, 0]

    # -- helpers -------------------------------------------------------------------------------
    def text(self, address: int) -> str:
        return self.c.address_text.get(address, f"id:{address}")

    def symbol(self, asset: int) -> str:
        return self.c.symbols.get(asset, f"asset:{asset}")

    def edge(self, ts: int, tx: str, src: int, dst: int, asset: int, amount: int, taint: Taint, kind: str) -> None:
        self.r.edges.append(Edge(self.c.chain, ts, tx, self.text(src), self.text(dst), self.symbol(asset),
                                 amount, taint.amount, taint.confidence, kind))

    def run(self) -> list[Injection]:
        rows = self.c.rows
        n = len(rows)
        # events in time order: transaction groups (by first row), withdrawals, injections
        starts = [0] + [i for i in range(1, n) if rows.tx_key[i] != rows.tx_key[i - 1]] if n else []
        items: list[tuple[int, int, int, object]] = []
        for g, s in enumerate(starts):
            items.append((int(rows.timestamp[s]), 1, g, s))
        for k, w in enumerate(self.c.withdrawals):
            items.append((w.timestamp, 2, k, w))
        on_rows = {(rows.tx_hash[i], int(rows.to_id[i])) for i in range(n)}
        for k, inj in enumerate(self.c.injections):
            ts, address, _asset, taint, meta = inj
            if (meta.tx_hash, address) in on_rows:  # the bridge's own payout row carries the taint
                self.row_taint[(meta.tx_hash, address)] = taint
            else:
                items.append((ts, 0, k, inj))
        items.sort(key=lambda it: (it[0], it[1], it[2]))
        bounds = [*starts, n]
        group_end = {s: bounds[g + 1] for g, s in enumerate(starts)}
        for ts, kind, _, payload in items:
            if kind == 1:
                s = payload
                self.transaction(s, group_end[s])
            elif kind == 2:
                self.withdrawal(payload)
            else:
                _, address, asset, taint, inj = payload
                self.deliver(ts, inj.tx_hash or "", -1, address, asset, inj.amount, taint, inj.via)
        self.finish()
        return self.outgoing

    # -- transactions ------------------------------------------------------------------------
    def transaction(self, start: int, end: int) -> None:
        rows, roles = self.c.rows, self.c.roles
        dex_rows = [i for i in range(start, end)
                    if _kind(roles, int(rows.from_id[i])) == "dex" or _kind(roles, int(rows.to_id[i])) == "dex"]
        if dex_rows:
            self.swap(start, end)
            return
        for i in range(start, end):
            self.transfer(i)

    def send_taint(self, i: int) -> Taint:
        """Taint carried by row i out of its sender (full value if the tx is a seed)."""
        rows = self.c.rows
        src, asset, amount = int(rows.from_id[i]), int(rows.asset_id[i]), rows.amount[i]
        role = self.c.roles.get(src)
        taint = NO_TAINT
        if role is None:
            book = self.ledgers.get(self.c.chain, src, asset)
            if amount > book.held and (src in self.touched or src in self.c.source_after):
                self.gap(i, src, asset, amount - book.held, book)
            taint = book.send(amount)
        elif self.row_taint and (rows.tx_hash[i], int(rows.to_id[i])) in self.row_taint:
            return self.row_taint.pop((rows.tx_hash[i], int(rows.to_id[i])))
        if rows.tx_hash[i] in self.c.seed_txs and amount > 0 and not taint:
            self.r.stolen[(self.c.chain, self.symbol(asset))] += amount
            taint = fresh_taint(amount, hops=1)
            self.r.victims.add((self.c.chain, self.text(src)))
        return taint

    def transfer(self, i: int) -> None:
        rows = self.c.rows
        if (rows.tx_hash[i], int(rows.to_id[i])) in self.withdrawal_rows and \
                _kind(self.c.roles, int(rows.from_id[i])) == "mixer":
            return  # a withdrawal's payout: delivered by its withdrawal event
        amount = rows.amount[i]
        taint = self.send_taint(i)
        self.deliver(int(rows.timestamp[i]), rows.tx_hash[i], int(rows.from_id[i]), int(rows.to_id[i]),
                     int(rows.asset_id[i]), amount, taint, "transfer")

    def deliver(self, ts: int, tx: str, src: int, dst: int, asset: int, amount: int, taint: Taint,
                via: str) -> None:
        """Value `amount` with `taint` arrives at `dst`: credit, hold or pass it by dst's role."""
        chain = self.c.chain
        if taint.amount > amount:  # never more taint than value (e.g. a bridge payout net of its fee)
            self.r.flow("unresolved", chain, self.symbol(asset), taint.amount - amount)
            taint = taint.scaled(amount, taint.amount)
        if src >= 0 and taint and asset == self.c.rows.native_asset:
            self.gas_funded.setdefault(dst, ts)
        after = self.c.source_after.get(dst)
        if after is not None and ts >= after and amount > 0 and via == "transfer":
            fresh = fresh_taint(amount, hops=0)
            if src >= 0 and src not in self.touched and src not in self.c.source_after:
                self.r.victims.add((chain, self.text(src)))  # the theft's source: never an indicator
            self.r.stolen[(chain, self.symbol(asset))] += amount - min(taint.amount, amount)
            taint = fresh
        role = self.c.roles.get(dst)
        if role is None:
            self.ledgers.get(chain, dst, asset).receive(amount, taint)
            got = self.inflow.setdefault((dst, asset), [0, 0])
            got[0] += amount
            got[1] += taint.amount
            if dst in self.seed_received:
                self.seed_received[dst] += taint.amount
            if taint:
                self.touched.add(dst)
                self.first_taint.setdefault((dst, asset), ts)
                if dst in self.c.contracts:
                    self.r.warn("unlabelled_contract", chain, self.text(dst),
                                f"stolen {self.symbol(asset)} entered contract {self.text(dst)}, which has no "
                                f"label: the trace cannot tell whether it is a swap, a bridge or a wallet")
                if src >= 0:
                    self.edge(ts, tx, src, dst, asset, amount, taint, via)
            return
        if not taint:
            return
        sym = self.symbol(asset)
        if role.is_offramp:
            self.r.offramps[(chain, self.text(dst), sym)].add(taint.with_confidence(role.confidence), ts)
            self.r.roles[(chain, self.text(dst))] = role
            self.r.flow("exchange", chain, sym, taint.amount)
            self.edge(ts, tx, src, dst, asset, amount, taint, "exchange")
        elif role.kind == "mixer":
            self.mixers.deposit(dst, ts, tx, src, amount, taint, self.text(src), asset)
            self.r.flow("mixer", chain, sym, taint.amount)
            self.edge(ts, tx, src, dst, asset, amount, taint, "mixer")
        elif role.kind == "bridge":
            self.bridge(ts, tx, src, dst, asset, amount, taint)
        else:  # a DEX outside a swap transaction: taint ends there
            self.r.flow("unresolved", chain, sym, taint.amount)
            self.edge(ts, tx, src, dst, asset, amount, taint, "unresolved")

    def bridge(self, ts: int, tx: str, src: int, dst: int, asset: int, amount: int, taint: Taint) -> None:
        chain, sym = self.c.chain, self.symbol(asset)
        links = self.c.links_by_tx.get(tx, [])
        src_text = self.text(src)
        mine = [lk for lk in links if lk.in_address == src_text] or links
        self.r.flow("bridge", chain, sym, taint.amount)
        self.edge(ts, tx, src, dst, asset, amount, taint, "bridge")
        if not mine:
            self.r.flow("unresolved", chain, sym, taint.amount)
            return
        total_in = sum(lk.in_amount for lk in mine) or amount
        for lk in mine:
            share = taint.scaled(lk.in_amount, total_in) if len(mine) > 1 else taint
            # out side in proportion to the in side (or to the transfer, if it carried more)
            out = share.scaled(lk.out_amount, max(lk.in_amount, amount))
            if not out:
                continue
            out = Taint(min(out.amount, lk.out_amount), min(out.mixed, out.amount), out.conf_mass * lk.confidence,
                        taint.hops + 1)
            self.outgoing.append(Injection(lk.out_chain, lk.out_time, lk.out_address, lk.out_asset, out.amount,
                                           out, "bridge", lk.out_tx, f"link {lk.in_tx} -> {lk.out_tx}",
                                           chain, src_text))
            self.r.edges.append(Edge(chain, ts, tx, src_text, lk.out_address, lk.out_asset, lk.out_amount,
                                     out.amount, out.confidence, "bridge", target_chain=lk.out_chain))

    def swap(self, start: int, end: int) -> None:
        """A transaction through DEX addresses: carry the input taint fraction to the outputs."""
        rows, roles, chain = self.c.rows, self.c.roles, self.c.chain
        ins: dict[int, list[tuple[int, Taint]]] = {}
        outs: list[int] = []
        for i in range(start, end):
            f_dex = _kind(roles, int(rows.from_id[i])) == "dex"
            t_dex = _kind(roles, int(rows.to_id[i])) == "dex"
            if t_dex and not f_dex:
                taint = self.send_taint(i)
                ins.setdefault(int(rows.asset_id[i]), []).append((rows.amount[i], taint))
                if taint:
                    self.edge(int(rows.timestamp[i]), rows.tx_hash[i], int(rows.from_id[i]), int(rows.to_id[i]),
                              int(rows.asset_id[i]), rows.amount[i], taint, "dex_swap")
                    self.r.flow("dex_swap", chain, self.symbol(int(rows.asset_id[i])), taint.amount)
            elif f_dex and not t_dex:
                outs.append(i)
            elif not f_dex and not t_dex:
                self.transfer(i)
        taints = [t for pieces in ins.values() for _, t in pieces if t]
        if not taints:
            for i in outs:
                self.deliver(int(rows.timestamp[i]), rows.tx_hash[i], int(rows.from_id[i]), int(rows.to_id[i]),
                             int(rows.asset_id[i]), rows.amount[i], NO_TAINT, "dex_swap")
            return
        fractions = [Fraction(sum(t.amount for _, t in p), sum(a for a, _ in p) or 1) for p in ins.values()]
        fraction = sum(fractions, Fraction(0)) / len(fractions)
        carried = sum_taints(taints)
        if not outs:
            for asset, pieces in ins.items():
                self.r.flow("unresolved", chain, self.symbol(asset), sum(t.amount for _, t in pieces))
            return
        for i in outs:
            amount = rows.amount[i]
            share = amount * fraction.numerator // fraction.denominator
            taint = (Taint(share, carried.mixed * share // carried.amount, carried.conf_mass * share / carried.amount,
                           carried.hops + 1) if share else NO_TAINT)
            self.deliver(int(rows.timestamp[i]), rows.tx_hash[i], int(rows.from_id[i]), int(rows.to_id[i]),
                         int(rows.asset_id[i]), amount, taint, "dex_swap")

    # -- gaps -----------------------------------------------------------------------------------
    def gap(self, i: int, src: int, asset: int, missing: int, book: Ledger) -> None:
        """Row i sends `missing` more than the data shows `src` received. Under `--gaps taint` that
        value is presumed stolen at the address's known tainted share (seed addresses: in full) when
        it is the native asset or a token the address is seen receiving: a token transfer "from" an
        address that never held the token is how impersonation tokens spoof a sender, not value."""
        rows = self.c.rows
        presumed = NO_TAINT
        spoofable = asset != rows.native_asset and (src, asset) not in self.inflow
        if self.c.gaps == "taint" and not spoofable:
            num, den = self.taint_share(src, asset)
            amount = missing * num // den if den else 0
            if amount:
                held = book.taint_held()
                conf = (held.confidence if held else 1.0) * GAP_CONFIDENCE
                presumed = Taint(amount, 0, amount * conf, held.hops if held else 0)
                self.r.presumed[(self.c.chain, self.symbol(asset))] += amount
                book.receive(missing, presumed)
                self.touched.add(src)
                self.first_taint.setdefault((src, asset), int(rows.timestamp[i]))
        self.r.unexplained.append({
            "chain": self.c.chain, "address": self.text(src), "asset": self.symbol(asset),
            "amount_base_units": str(missing), "presumed_stolen_base_units": str(presumed.amount),
            "time": int(rows.timestamp[i]), "tx_hash": rows.tx_hash[i], "to": self.text(int(rows.to_id[i])),
            "never_received": spoofable})

    def taint_share(self, address: int, asset: int) -> tuple[int, int]:
        """The tainted share of what `address` is known to have received of `asset` (of all its
        assets, averaged, when it received none of this one); a seed address's is 1."""
        if address in self.c.source_after:
            return 1, 1
        got = self.inflow.get((address, asset))
        if got and got[0]:
            return got[1], got[0]
        shares = [Fraction(t, r) for (a, _), (r, t) in self.inflow.items() if a == address and r]
        if not shares:
            return 0, 1
        mean = sum(shares, Fraction(0)) / len(shares)
        return mean.numerator, mean.denominator

    # -- mixers --------------------------------------------------------------------------------
    def withdrawal(self, w: MixerWithdrawal) -> None:
        linked = self.mixers.withdraw(w, self.touched, self.gas_funded)
        asset = w.asset if w.asset >= 0 else self.c.rows.native_asset
        if linked is None:  # not linked: the payout still arrives, clean
            if w.amount:
                self.deliver(w.timestamp, w.tx_hash, w.pool, w.to, asset, w.amount, NO_TAINT, "mixer")
            return
        taint, link = linked
        link["to"] = self.text(w.to)
        link["pool"] = self.text(w.pool)
        self.r.mixer_links.append(link)
        self.r.mixer_flows[(self.c.chain, self.symbol(asset))] += taint.amount
        self.deliver(w.timestamp, w.tx_hash, w.pool, w.to, asset, w.amount, taint, "mixer")

    def finish(self) -> None:
        chain = self.c.chain
        for (ch, address, asset), book in self.ledgers.books.items():
            held = book.tainted
            if held:
                key = (ch, self.text(address), self.symbol(asset))
                self.r.holdings[key] = held
                self.r.holding_info[key] = (min(1.0, book.taint_held().confidence),
                                            self.first_taint.get((address, asset), 0))
                self.r.flow("unresolved", chain, self.symbol(asset), held)
        for seed, got in self.seed_received.items():
            if got == 0:
                self.r.warn("seed_without_inflow", chain, self.text(seed),
                            f"seed address {self.text(seed)} receives no value in the data from the seed time "
                            f"on: the theft itself is not in the store")
        for asset_sym, amount in self.mixers.unlinked().items():
            self.r.flow("unresolved", chain, self.symbol(asset_sym), amount)


def _kind(roles: dict[int, Role], address: int) -> str | None:
    role = roles.get(address)
    return role.kind if role else None
