"""Thief-side Bitcoin steps: bridge payouts from the vault, peel chains, CoinJoin-like mixes, deposits."""

from __future__ import annotations

from trilateral.sim.btc_chain import BtcChain
from trilateral.sim.eth_events import BridgeSwap, btc_out_sats
from trilateral.sim.ledger import GroundTruth, Ledger
from trilateral.sim.world import Exchange

BTC = "bitcoin"
COINJOIN_DENOMINATION = 10_000_000  # 0.1 BTC outputs, as Wasabi-style rounds


class BtcLaunderer:
    """Runs inside the Bitcoin block loop; every value it moves is checked against the ledger."""

    def __init__(self, chain: BtcChain, ledger: Ledger, truth: GroundTruth) -> None:
        self.chain, self.ledger, self.truth = chain, ledger, truth
        self.rng = chain.rng
        self.world = chain.world

    def _time(self, height: int) -> int:
        return self.world.btc_time(height)

    def fresh(self) -> str:
        return self.truth.thief(BTC, self.chain.new_address())

    def _spend_all(self, address: str) -> tuple[list, int, int]:
        utxos = self.chain.take_owned(address)
        total = sum(u[3] for u in utxos)
        mixed = sum(u[3] for u in utxos if u[4])
        return utxos, total, mixed

    def _receive(self, txid: str, vout: int, address: str, value: int, mixed: bool) -> None:
        self.chain.own(txid, vout, address, value, mixed)
        self.ledger.credit(BTC, address, "BTC", value, via_mixer=mixed)

    # -- bridge payout --------------------------------------------------------------------------
    def payout(self, height: int, swap: BridgeSwap, then) -> None:
        """The vault's outbound for a THORChain swap (honest or thief)."""
        vault = self.world.thor_btc_vault
        sats, liquidity, network = btc_out_sats(swap.wei)
        utxos, total, _ = self._spend_all(vault)
        fee = 2_000
        change = total - sats - fee
        if change <= 546:
            raise RuntimeError("THORChain vault underfunded")
        txid = self.chain.make_tx([u[:4] for u in utxos], [(swap.btc_address, sats), (vault, change)])
        self.chain.own(txid, 1, vault, change)
        swap.out_tx, swap.out_height, swap.out_sats = txid, height, sats
        swap.fees = (liquidity, network)
        if swap.thief:
            mixed = swap.via_mixer_wei > 0
            self._receive(txid, 0, swap.btc_address, sats, mixed)
            self.truth.step("bridge_out", BTC, txid, vault, swap.btc_address, "BTC", sats, self._time(height),
                            in_tx=swap.in_tx, via_mixer=mixed)
            if then is not None:
                then(height, swap.btc_address)
        else:
            self.chain.pool.append((txid, 0, swap.btc_address, sats))

    # -- exchange deposits ------------------------------------------------------------------------
    def deposit_address(self, ex: Exchange) -> str:
        address = self.chain.new_address()
        self.chain.deposit_sweeps[address] = ex.btc_hot[0]
        return address

    def schedule_sweep(self, height: int, deposit: str) -> None:
        def sweep(h: int, d: str = deposit) -> None:
            swept = self.chain.sweep(d)
            if swept is not None:
                txid, total, fee = swept
                hot = self.chain.deposit_sweeps[d]
                self.ledger.debit(BTC, d, "BTC", total)
                self.ledger.credit(BTC, hot, "BTC", total - fee)
                self.truth.step("exchange_sweep", BTC, txid, d, hot, "BTC", total - fee, self._time(h))
        self.chain.at(height + int(self.rng.integers(1, 12)), sweep)

    def deposit(self, height: int, address: str | list[str], ex: Exchange) -> None:
        """Send everything at one or more thief addresses to a fresh deposit address of `ex`."""
        utxos, total, mixed = [], 0, 0
        for a in [address] if isinstance(address, str) else address:
            u, t, m = self._spend_all(a)
            utxos, total, mixed = utxos + u, total + t, mixed + m
        fee = 500 + 100 * len(utxos)
        if total <= fee + 546:
            self._restore(utxos)
            return
        deposit = self.deposit_address(ex)
        txid = self.chain.make_tx([u[:4] for u in utxos], [(deposit, total - fee)])
        for u in utxos:
            self.ledger.debit(BTC, u[2], "BTC", u[3])
        self.ledger.credit(BTC, deposit, "BTC", total - fee)
        self.chain.own(txid, 0, deposit, total - fee, mixed > 0)
        self.truth.step("exchange_deposit", BTC, txid, utxos[0][2], deposit, "BTC", total - fee, self._time(height),
                        entity=ex.label, jurisdiction=ex.jurisdiction, via_mixer=mixed > 0,
                        inputs_from=sorted({u[2] for u in utxos}))
        self.truth.offramp(BTC, deposit, ex, "BTC", total - fee, total - fee if mixed else 0)
        self.schedule_sweep(height, deposit)

    def _restore(self, utxos: list) -> None:
        for t, v, a, value, mixed in utxos:
            self.chain.own(t, v, a, value, mixed)

    # -- peel chain -------------------------------------------------------------------------------
    def peel(self, height: int, address: str, hops: int, pick_exchange) -> None:
        """One hop: a small payment to an exchange deposit address, the large change to a fresh address."""
        utxos, total, mixed = self._spend_all(address)
        fee = 1_000
        payment = int(total * self.rng.uniform(0.03, 0.10))
        if hops <= 0 or payment < 100_000 or total - payment - fee < 100_000:
            self._restore(utxos)  # what is left stays dormant
            return
        ex = pick_exchange()
        deposit = self.deposit_address(ex)
        change_to = self.fresh()
        change = total - payment - fee
        txid = self.chain.make_tx([u[:4] for u in utxos], [(deposit, payment), (change_to, change)])
        is_mixed = mixed > 0
        self.ledger.debit(BTC, address, "BTC", total)
        self.ledger.credit(BTC, deposit, "BTC", payment)
        self.chain.own(txid, 0, deposit, payment, is_mixed)
        self._receive(txid, 1, change_to, change, is_mixed)
        t = self._time(height)
        self.truth.step("peel", BTC, txid, address, change_to, "BTC", change, t, via_mixer=is_mixed)
        self.truth.step("exchange_deposit", BTC, txid, address, deposit, "BTC", payment, t,
                        entity=ex.label, jurisdiction=ex.jurisdiction, via_mixer=is_mixed)
        self.truth.offramp(BTC, deposit, ex, "BTC", payment, payment if is_mixed else 0)
        self.schedule_sweep(height, deposit)
        self.chain.at(height + int(self.rng.integers(1, 7)),
                      lambda h: self.peel(h, change_to, hops - 1, pick_exchange))

    # -- CoinJoin ---------------------------------------------------------------------------------
    def coinjoin(self, height: int, address: str, then) -> None:
        """Many participants, equal 0.1 BTC outputs; the thief's equal outputs go to fresh addresses."""
        utxos, total, _ = self._spend_all(address)
        d = COINJOIN_DENOMINATION
        fee_each = 2_000
        k = min(40, (total - fee_each) // (d + fee_each))
        if k < 1:
            self._restore(utxos)
            return
        participants = []
        skipped = []
        while len(participants) < int(self.rng.integers(5, 20)) and self.chain.pool and len(skipped) < 400:
            u = self.chain.pool.popleft()
            (participants if u[3] >= d + fee_each + 546 else skipped).append(u)
        self.chain.pool.extendleft(reversed(skipped))
        outputs, mine = [], []
        for _ in range(k):
            a = self.fresh()
            outputs.append((a, d))
            mine.append(a)
        thief_change = total - k * (d + fee_each)
        change_to = self.fresh() if thief_change > 546 else None
        if change_to:
            outputs.append((change_to, thief_change))
        for u in participants:
            outputs.append((self.world.btc_users[int(self.rng.integers(len(self.world.btc_users)))], d))
            rest = u[3] - d - fee_each
            if rest > 546:
                outputs.append((u[2], rest))
        order = self.rng.permutation(len(outputs))
        shuffled = [outputs[i] for i in order]
        txid = self.chain.make_tx([u[:4] for u in utxos] + list(participants), shuffled)
        self.ledger.debit(BTC, address, "BTC", total)
        t = self._time(height)
        for vout, (a, value) in enumerate(shuffled):
            if a in mine or a == change_to:
                self._receive(txid, vout, a, value, a in mine)
                self.truth.step("coinjoin", BTC, txid, address, a, "BTC", value, t, via_mixer=a in mine)
            else:
                self.chain.pool.append((txid, vout, a, value))
        then(height, mine, change_to)
