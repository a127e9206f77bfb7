"""Event-driven honest Ethereum activity (exchange deposits and sweeps, Tornado users, THORChain users)
and the genesis-phase funding of every account from the faucet.

Retail users' spending is checked against a ledger that counts only their funding (never what they
receive), so they cannot overspend whatever the order of rows. Deposit addresses sweep exactly what
each deposit brought; mixer withdrawals always follow a deposit of the same denomination.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trilateral.sim import eth_actions as act
from trilateral.sim.encoding import (
    TOPIC_TRANSFER,
    ZERO_ADDRESS,
    address_words,
    hex_matrix,
    random_hex,
)
from trilateral.sim.eth_background import decimal_text, scaled_words
from trilateral.sim.eth_tables import EthTx
from trilateral.sim.ledger import Ledger
from trilateral.sim.world import MIXER_POOLS, TOKENS, World, fast_rng

DENOMINATIONS = sorted(MIXER_POOLS)
DENOMINATION_SHARES = np.array([0.40, 0.35, 0.20, 0.05])
USDT = TOKENS[1]
HONEST_EVENT_SHARE = 0.012  # of all transfers
BRIDGE_SHARE = 0.08  # honest THORChain swaps, relative to the other event-driven activity


@dataclass
class BridgeSwap:
    """An ETH -> BTC swap through the THORChain router, paid out on the Bitcoin side later."""

    in_tx: str
    in_address: str
    wei: int
    time: int
    btc_address: str
    memo: str
    thief: bool
    via_mixer_wei: int = 0
    out_tx: str | None = None  # filled by the Bitcoin phase: the vault's outbound
    out_height: int = 0
    out_sats: int = 0
    fees: tuple[int, int] = (0, 0)  # (liquidity fee, network fee) in sats


def btc_out_sats(wei: int) -> tuple[int, int, int]:
    """(sats paid, liquidity fee sats, network fee sats) for `wei` at 1 ETH = 0.05 BTC."""
    gross = wei // 10**10 * 5 // 100
    liquidity = gross * 3 // 1000
    network = 20_000
    return gross - liquidity - network, liquidity, network


class HonestActivity:
    """Draws the event-driven honest rows chunk by chunk; follow-ups wait in a heap keyed by block."""

    def __init__(self, world: World, ledger: Ledger, seed: int, first_block: int) -> None:
        self.world, self.ledger, self.seed = world, ledger, seed
        self.first_block = first_block
        self.rate = HONEST_EVENT_SHARE * world.transfers / max(1, world.eth_blocks - first_block)
        self.pending: list = []
        self.sequence = 0
        self.bridges: list[BridgeSwap] = []
        n = len(world.retail)
        weights = 1.0 / np.arange(1, n + 1) ** 0.9
        self.cdf = np.cumsum(weights) / weights.sum()

    def _later(self, block: int, action) -> None:
        self.sequence += 1
        heapq.heappush(self.pending, (block, self.sequence, action))

    def chunk(self, b0: int, b1: int, chunk: int) -> list[EthTx]:
        draws = np.random.default_rng([self.seed, 3, chunk])
        rng = fast_rng(self.seed, 3, chunk)
        out: list[EthTx] = []
        n = int(draws.poisson(self.rate * (b1 - b0)))
        blocks = np.sort(draws.integers(max(b0, self.first_block), b1, size=n)).tolist()
        users = np.searchsorted(self.cdf, draws.random(n)).tolist()
        for block, u in zip(blocks, users, strict=True):
            user = self.world.retail[u]
            r = rng.random()
            if r < 0.76:
                self._deposit(rng, int(block), user, out)
            else:
                self._mix(rng, int(block), user, out)
        while self.pending and self.pending[0][0] < b1:
            block, _, action = heapq.heappop(self.pending)
            out.append(action(rng, block))
        return out

    def bridges_upfront(self) -> list[EthTx]:
        """Honest THORChain users, drawn before streaming so the Bitcoin side can run in parallel."""
        draws = np.random.default_rng([self.seed, 8])
        rng = fast_rng(self.seed, 8)
        out: list[EthTx] = []
        n = int(draws.poisson(BRIDGE_SHARE * self.rate * (self.world.eth_blocks - self.first_block)))
        blocks = np.sort(draws.integers(self.first_block, self.world.eth_blocks, size=n)).tolist()
        users = np.searchsorted(self.cdf, draws.random(n)).tolist()
        for block, u in zip(blocks, users, strict=True):
            self._bridge(rng, block, self.world.retail[u], out)
        return out

    def _deposit(self, rng, block: int, user: str, out: list) -> None:
        world, ledger = self.world, self.ledger
        ex = world.exchanges[int(rng.integers(len(world.exchanges)))]
        if rng.random() < 0.25 and ledger.balance("ethereum", user, "USDT") > 10**6:
            amount = int(ledger.balance("ethereum", user, "USDT") * rng.uniform(0.05, 0.6))
            out.append(self._pay_exchange(rng, block, user, ex, "USDT", amount))
        else:
            amount = int(ledger.balance("ethereum", user, "ETH") * rng.uniform(0.02, 0.3)) // 10**9 * 10**9
            if amount > 0:
                out.append(self._pay_exchange(rng, block, user, ex, "ETH", amount))

    def _pay_exchange(self, rng, block: int, user: str, ex, asset: str, amount: int) -> EthTx:
        """The user's (reused) deposit address at `ex` receives `amount`; swept to the hot wallet later."""
        deposit = ex.eth_deposits[(int(user[2:12], 16) + len(ex.id)) % len(ex.eth_deposits)]
        hot = ex.eth_hot[0]
        self.ledger.move("ethereum", user, deposit, asset, amount)

        def sweep(rng, b):
            self.ledger.move("ethereum", deposit, hot, asset, amount)
            if asset == "ETH":
                return act.native(rng, b, deposit, hot, amount)
            return act.token_transfer(rng, b, USDT.address, deposit, hot, amount)
        self._later(block + int(rng.integers(1, max(2, 21_600 // self.world.eth_interval))), sweep)
        if asset == "ETH":
            return act.native(rng, block, user, deposit, amount)
        return act.token_transfer(rng, block, USDT.address, user, deposit, amount)

    def _mix(self, rng, block: int, user: str, out: list) -> None:
        world, ledger = self.world, self.ledger
        denomination = rng.choices(DENOMINATIONS, weights=DENOMINATION_SHARES)[0]
        if ledger.balance("ethereum", user, "ETH") < denomination:
            denomination = DENOMINATIONS[0]
            if ledger.balance("ethereum", user, "ETH") < denomination:
                return
        tx, _ = act.mixer_deposit(rng, block, world.eth_time(block), user, denomination)
        ledger.move("ethereum", user, MIXER_POOLS[denomination], "ETH", denomination)
        out.append(tx)
        delay = int(rng.uniform(2 * 3600, 5 * 86_400)) // world.eth_interval + 1
        recipient = "0x" + rng.bytes(20).hex()
        relayed = rng.random() < 0.6
        relayer = world.relayers[int(rng.integers(len(world.relayers)))] if relayed else None

        def withdraw(rng, b, d=denomination, to=recipient, rel=relayer):
            fee = d * int(rng.integers(10, 50)) // 10_000 if rel else 0
            pool = MIXER_POOLS[d]
            self.ledger.move("ethereum", pool, to, "ETH", d - fee)
            if fee:
                self.ledger.move("ethereum", pool, rel, "ETH", fee)
            tx, _ = act.mixer_withdrawal(rng, b, rel or to, d, to, rel, fee)
            if rng.random() < 0.5:  # half the honest withdrawals are cashed out at an exchange later
                ex = self.world.exchanges[int(rng.integers(len(self.world.exchanges)))]
                self._later(b + int(rng.uniform(3600, 2 * 86_400)) // self.world.eth_interval + 1,
                            lambda rng, bb: self._pay_exchange(rng, bb, to, ex, "ETH", d - fee))
            return tx
        if block + delay < world.eth_blocks:
            self._later(block + delay, withdraw)

    def _bridge(self, rng, block: int, user: str, out: list) -> None:
        world, ledger = self.world, self.ledger
        wei = int(ledger.balance("ethereum", user, "ETH") * rng.uniform(0.1, 0.5)) // 10**10 * 10**10
        if btc_out_sats(wei)[0] < 10_000:
            return
        btc = world.btc_users[int(rng.integers(len(world.btc_users)))]
        memo = f"=:BTC.BTC:{btc}"
        tx = act.thorchain_deposit(rng, block, world.eth_time(block), user, world.thor_eth_vault, wei, memo)
        ledger.move("ethereum", user, world.thor_eth_vault, "ETH", wei)
        out.append(tx)
        self.bridges.append(BridgeSwap(tx.hash, user, wei, world.eth_time(block), btc, memo, thief=False))


def funding_columns(world: World, payees: list[str] | pa.Array, assets: np.ndarray, units: np.ndarray,
                    first_block: int, per_block: int, seed: int) -> tuple:
    """Genesis-phase rows: the faucet pays ETH (native tx) and mints tokens (Transfer from 0x0)."""
    rng = np.random.default_rng([seed, 5])
    payees = pa.array(payees, type=pa.string()) if not isinstance(payees, pa.Array) else payees
    n = len(payees)
    block = first_block + np.arange(n) // per_block
    index = np.arange(n) % per_block
    hashes = random_hex(rng, n, 32)
    scale = np.array([t.scale for t in TOKENS], dtype=np.uint64)[assets]
    token_addr = pa.array([t.address or "" for t in TOKENS]).take(pa.array(assets))
    is_eth = pa.array(assets == 0)
    words = hex_matrix(scaled_words(units, scale), prefix="")
    mint_input = pc.binary_join_element_wise("0x40c10f19", pc.utf8_slice_codeunits(address_words(payees), 2),
                                             words, "")
    values = decimal_text(units, scale)
    tx = {"hash": hashes, "block": pa.array(block), "index": pa.array(index),
          "from": pa.repeat(pa.scalar(world.faucet), n), "to": pc.if_else(is_eth, payees, token_addr),
          "value": pc.if_else(is_eth, values, "0"), "input": pc.if_else(is_eth, "0x", mint_input),
          "gas": pa.array(np.where(assets == 0, 21_000, 60_000))}
    sel = np.flatnonzero(assets > 0)
    sel_a = pa.array(sel)
    lblock = block[sel]
    log_index = np.arange(len(sel)) - np.searchsorted(lblock, lblock, side="left")
    holders = payees.take(sel_a)
    zero = pa.repeat(pa.scalar(ZERO_ADDRESS), len(sel))
    tt = {"token": token_addr.take(sel_a), "from": zero, "to": holders, "value": values.take(sel_a),
          "hash": hashes.take(sel_a), "log_index": pa.array(log_index), "block": pa.array(lblock)}
    log = {"log_index": pa.array(log_index), "hash": hashes.take(sel_a), "index": pa.array(index[sel]),
           "block": pa.array(lblock), "address": token_addr.take(sel_a),
           "data": pc.binary_join_element_wise("0x", words.take(sel_a), ""),
           "topics": pc.binary_join_element_wise(TOPIC_TRANSFER, address_words(zero), address_words(holders), ",")}
    empty = pa.array([], type=pa.string())
    trace = {"block": pa.array([], type=pa.int64()), "hash": empty, "index": pa.array([], type=pa.int64()),
             "from": empty, "to": empty, "value": empty, "trace_address": empty}
    return tx, tt, log, trace
