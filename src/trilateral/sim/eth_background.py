"""Vectorised ordinary Ethereum traffic: peer payments, ERC-20 transfers, DEX swaps, exchange withdrawals.

Each chunk is drawn from its own seeded generator, so the same chunk can be drawn twice: once (cheaply)
to total what every account will ever send, which sets its funding, and once to write it. An account
funded with at least everything it will ever send can never go negative, whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trilateral.sim.encoding import (
    SELECTOR_ERC20_TRANSFER,
    TOPIC_TRANSFER,
    address_words,
    hex_matrix,
    random_hex,
)
from trilateral.sim.world import TOKENS, World

NATIVE, TOKEN, SWAP_ETH_IN, SWAP_TOKEN_IN, EXCH_WITHDRAW = range(5)
KIND_SHARES = np.array([0.45, 0.30, 0.08, 0.07, 0.10])
TRANSFERS_PER_EVENT = float(KIND_SHARES @ np.array([1, 1, 2, 2, 1]))
TOKEN_SHARES = np.array([0.45, 0.35, 0.20])  # USDT, USDC, WETH among token traffic
SELECTOR_SWAP_ETH_IN = "0x7ff36ab5"  # swapExactETHForTokens
SELECTOR_SWAP_TOKEN_IN = "0x18cbafe5"  # swapExactTokensForETH
GAS = np.array([21_000, 52_000, 120_000, 130_000, 21_000], dtype=np.int64)


@dataclass(frozen=True)
class Layout:
    """Dense account numbering of background payers: users, exchange hot wallets, DEX pools."""

    n_users: int
    hot: list[str]
    pools: list[str]  # by asset_id - 1

    @property
    def size(self) -> int:
        return self.n_users + len(self.hot) + len(self.pools)

    def hot_index(self, i: np.ndarray) -> np.ndarray:
        return self.n_users + i

    def pool_index(self, asset: np.ndarray) -> np.ndarray:
        return self.n_users + len(self.hot) + asset - 1


def layout_of(world: World) -> Layout:
    hot = [a for e in world.exchanges for a in e.eth_hot]
    return Layout(len(world.users), hot, [world.dex_pools[t.asset_id] for t in TOKENS[1:]])


class ZipfSampler:
    """Heavy-tailed account choice: inverse CDF with a lookup table (exactly np.searchsorted's answer)."""

    BINS = 1 << 20

    def __init__(self, n: int, exponent: float, rng: np.random.Generator) -> None:
        weights = 1.0 / np.arange(1, n + 1) ** exponent
        weights = weights[rng.permutation(n)]  # heavy users at random positions
        cdf = np.cumsum(weights)
        self.cdf = cdf / cdf[-1]
        self.n = n
        self.table = np.searchsorted(self.cdf, np.arange(self.BINS + 1) / self.BINS)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        b = (u * self.BINS).astype(np.int64)
        lo, hi = self.table[b], self.table[b + 1]
        out = lo.copy()
        unsure = lo != hi
        out[unsure] = np.searchsorted(self.cdf, u[unsure])
        return np.minimum(out, self.n - 1)


def _heavy(rng: np.random.Generator, n: int, typical: float, cap: float) -> np.ndarray:
    """Pareto-tailed positive amounts around `typical`, capped (array units, uint64)."""
    return np.minimum((rng.pareto(1.3, n) + 0.05) * typical, cap).astype(np.uint64) + np.uint64(1)


def draw_core(world: World, layout: Layout, sampler: ZipfSampler, seed: int, chunk: int,
              b0: int, b1: int, n: int) -> dict[str, np.ndarray]:
    """Who pays whom how much in blocks [b0, b1): pure numbers, no text."""
    rng = np.random.default_rng([seed, 1, chunk])
    kind = np.searchsorted(np.cumsum(KIND_SHARES)[:-1], rng.random(n), side="right")
    block = np.sort(rng.integers(b0, b1, size=n))
    user = sampler(rng.random(n))
    other = sampler(rng.random(n))
    other = np.where(other == user, (other + 1) % layout.n_users, other)
    asset = np.where((kind == TOKEN) | (kind == SWAP_ETH_IN) | (kind == SWAP_TOKEN_IN),
                     np.searchsorted(np.cumsum(TOKEN_SHARES)[:-1], rng.random(n), side="right") + 1, 0)
    stable = (asset == 1) | (asset == 2)
    amount = np.where(stable & (kind != SWAP_ETH_IN), _heavy(rng, n, 2e8, 1e13), _heavy(rng, n, 5e7, 2e12))
    hot = rng.integers(0, len(layout.hot), size=n)
    # second leg of swaps (array units of the received asset), 0.3 % pool fee
    out = np.zeros(n, dtype=np.uint64)
    eth_in = kind == SWAP_ETH_IN
    tok_in = kind == SWAP_TOKEN_IN
    price = np.array([1, 3, 3, 1], dtype=np.uint64)  # array units of asset per gwei
    out[eth_in] = amount[eth_in] * price[asset[eth_in]] * np.uint64(997) // np.uint64(1000)
    out[tok_in] = amount[tok_in] * np.uint64(997) // (np.uint64(1000) * price[asset[tok_in]])
    out[tok_in] = np.maximum(out[tok_in], 1)
    return {"kind": kind, "block": block, "user": user, "other": other, "asset": asset, "amount": amount,
            "out": out, "hot": hot}


def payer_totals(core: dict[str, np.ndarray], layout: Layout, totals: np.ndarray) -> None:
    """Add what each account pays in this chunk to totals[account, asset] (array units)."""
    kind, asset = core["kind"], core["asset"]
    payer = np.where(kind == EXCH_WITHDRAW, layout.hot_index(core["hot"]), core["user"])
    np.add.at(totals, (payer, np.where(kind == SWAP_ETH_IN, 0, asset)), core["amount"])
    swap = (kind == SWAP_ETH_IN) | (kind == SWAP_TOKEN_IN)
    pool = layout.pool_index(core["asset"][swap])
    np.add.at(totals, (pool, np.where(kind[swap] == SWAP_ETH_IN, core["asset"][swap], 0)), core["out"][swap])


def scaled_words(units: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 ABI words of units * scale (scale 1 or 1e9), exact to 2**128."""
    n = len(units)
    high, low = units >> np.uint64(32), units & np.uint64(0xFFFFFFFF)
    x = high * scale
    lo = (x & np.uint64(0xFFFFFFFF)) << np.uint64(32)
    add = low * scale
    lo2 = lo + add
    hi = (x >> np.uint64(32)) + (lo2 < lo).astype(np.uint64)
    out = np.zeros((n, 32), dtype=np.uint8)
    out[:, 16:24] = hi.astype(">u8").view(np.uint8).reshape(n, 8)
    out[:, 24:] = lo2.astype(">u8").view(np.uint8).reshape(n, 8)
    return out


def decimal_text(units: np.ndarray, scale: np.ndarray) -> pa.Array:
    """Decimal strings of units * scale, scale being 1 or 1e9 (append nine zeros)."""
    text = pc.cast(pa.array(units), pa.string())
    padded = pc.binary_join_element_wise(text, "000000000", "")
    return pc.if_else(pa.array(scale > 1), padded, text)


def to_columns(world: World, layout: Layout, core: dict[str, np.ndarray], seed: int, chunk: int) -> tuple:
    """The chunk's rows as column dicts (tx, token transfers, logs, traces) in the writer's shape."""
    rng = np.random.default_rng([seed, 2, chunk])
    kind, block, asset = core["kind"], core["block"], core["asset"]
    n = len(kind)
    starts = np.searchsorted(block, block, side="left")
    tx_index = np.arange(n) - starts
    hashes = random_hex(rng, n, 32)
    users = world.users
    user = users.take(pa.array(core["user"]))
    other = users.take(pa.array(core["other"]))
    hot = pa.array(layout.hot).take(pa.array(core["hot"]))
    pool_addr = pa.array(layout.pools + [""]).take(pa.array(np.where(asset > 0, asset - 1, len(layout.pools))))
    token_addr = pa.array([t.address or "" for t in TOKENS]).take(pa.array(asset))
    scale_of = np.array([t.scale for t in TOKENS], dtype=np.uint64)

    is_hot = pa.array(kind == EXCH_WITHDRAW)
    is_token = pa.array(kind == TOKEN)
    is_swap = pa.array((kind == SWAP_ETH_IN) | (kind == SWAP_TOKEN_IN))
    sender = pc.if_else(is_hot, hot, user)
    receiver = pc.if_else(is_token, token_addr, pc.if_else(is_swap, pool_addr, other))
    receiver = pc.if_else(is_hot, user, receiver)
    pays_eth = (kind == NATIVE) | (kind == SWAP_ETH_IN) | (kind == EXCH_WITHDRAW)
    eth_value = decimal_text(np.where(pays_eth, core["amount"], 0), np.where(pays_eth, 10**9, 1).astype(np.uint64))
    # token movements: user->user, pool->user (ETH in), user->pool (token in)
    has_log = (kind == TOKEN) | (kind == SWAP_ETH_IN) | (kind == SWAP_TOKEN_IN)
    tok_units = np.where(kind == SWAP_ETH_IN, core["out"], core["amount"])
    words = scaled_words(tok_units, scale_of[asset])
    amount_word = hex_matrix(words, prefix="")
    transfer_input = pc.binary_join_element_wise(SELECTOR_ERC20_TRANSFER, pc.utf8_slice_codeunits(
        address_words(other), 2), amount_word, "")
    tx_input = pc.if_else(is_token, transfer_input, pc.if_else(
        pa.array(kind == SWAP_ETH_IN), SELECTOR_SWAP_ETH_IN, pc.if_else(
            pa.array(kind == SWAP_TOKEN_IN), SELECTOR_SWAP_TOKEN_IN, "0x")))
    tx = {"hash": hashes, "block": pa.array(block), "index": pa.array(tx_index), "from": sender,
          "to": receiver, "value": eth_value, "input": tx_input, "gas": pa.array(GAS[kind])}

    sel = np.flatnonzero(has_log)
    sel_a = pa.array(sel)
    lblock = block[sel]
    log_index = np.arange(len(sel)) - np.searchsorted(lblock, lblock, side="left")
    t_from = pc.if_else(pa.array(kind[sel] == SWAP_ETH_IN), pool_addr.take(sel_a), user.take(sel_a))
    t_to = pc.if_else(pa.array(kind[sel] == TOKEN), other.take(sel_a),
                      pc.if_else(pa.array(kind[sel] == SWAP_ETH_IN), user.take(sel_a), pool_addr.take(sel_a)))
    t_hash = hashes.take(sel_a)
    t_token = token_addr.take(sel_a)
    tt = {"token": t_token, "from": t_from, "to": t_to,
          "value": decimal_text(tok_units[sel], scale_of[asset[sel]]), "hash": t_hash,
          "log_index": pa.array(log_index), "block": pa.array(lblock)}
    topics = pc.binary_join_element_wise(TOPIC_TRANSFER, address_words(t_from), address_words(t_to), ",")
    log = {"log_index": pa.array(log_index), "hash": t_hash, "index": pa.array(tx_index[sel]),
           "block": pa.array(lblock), "address": t_token,
           "data": pc.binary_join_element_wise("0x", amount_word.take(sel_a), ""), "topics": topics}

    tsel = np.flatnonzero(kind == SWAP_TOKEN_IN)
    tsel_a = pa.array(tsel)
    trace = {"block": pa.array(block[tsel]), "hash": hashes.take(tsel_a), "index": pa.array(tx_index[tsel]),
             "from": pool_addr.take(tsel_a), "to": user.take(tsel_a),
             "value": decimal_text(core["out"][tsel], np.full(len(tsel), 10**9, dtype=np.uint64)),
             "trace_address": pa.repeat(pa.scalar("0"), len(tsel))}
    tx_count = np.bincount(block - block[0], minlength=0) if n else np.zeros(0, dtype=np.int64)
    log_count = np.bincount(lblock - block[0]) if len(sel) else np.zeros(0, dtype=np.int64)
    first = int(block[0]) if n else 0
    bases = ({first + i: int(c) for i, c in enumerate(tx_count) if c},
             {first + i: int(c) for i, c in enumerate(log_count) if c})
    return tx, tt, log, trace, bases
