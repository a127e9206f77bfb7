"""The simulated economy's cast: tokens, exchanges, DEX pools, mixer pools, bridge, users; and its clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from trilateral.sim.encoding import p2wpkh_address, random_hex, random_hex_one

GENESIS_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
SPAN_SECONDS = 20 * 86_400  # the simulated period: long enough for mixer delays of days
BTC_BLOCK_SECONDS = 600
GWEI = 10**9


@dataclass(frozen=True)
class Token:
    """An asset on the account chain; 18-decimal assets are carried in gwei (scale 1e9) in arrays."""

    asset_id: int
    symbol: str
    name: str
    address: str | None  # None = native ETH
    decimals: int
    scale: int  # base units per array unit (1e9 for 18-decimal assets, 1 otherwise)
    eth_price: tuple[int, int]  # array units of this asset per gwei of ETH, as a fraction (num, den)


TOKENS = (
    Token(0, "ETH", "Ether", None, 18, GWEI, (1, 1)),
    Token(1, "USDT", "Tether USD", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6, 1, (3, 1)),
    Token(2, "USDC", "USD Coin", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 6, 1, (3, 1)),
    Token(3, "WETH", "Wrapped Ether", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", 18, GWEI, (1, 1)),
)
# The Tornado Cash ETH pools (public contracts), by denomination in wei.
MIXER_POOLS = {
    10**17: "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc",
    10**18: "0x47ce0c6ed5b0ce3d3a51fdb1c52dc66a7c3c2936",
    10**19: "0x910cbd523d972eb0a6f4cae4618ad62622b39dbf",
    10**20: "0xa160cdab225685da1d56aa342ad8841c3b53f291",
}
THORCHAIN_ROUTER = "0xd37bbe5744d730a1d98d8dc97c42f0ca46ad7146"  # THORChain Router v4

# Fictional exchanges; jurisdictions are ISO 3166 alpha-2 (weights = share of deposit traffic).
EXCHANGES = (
    ("liberty-exchange", "Liberty Exchange", "US", 3),
    ("prairie-coin", "Prairie Coin", "US", 2),
    ("hangang-exchange", "Hangang Exchange", "KR", 3),
    ("gyeongbok-bit", "Gyeongbok Bit", "KR", 2),
    ("sakura-exchange", "Sakura Exchange", "JP", 3),
    ("lion-city-exchange", "Lion City Exchange", "SG", 2),
    ("harbour-exchange", "Harbour Exchange", "HK", 1),
    ("caribe-exchange", "Caribe Exchange", "SC", 2),
)


@dataclass
class Exchange:
    id: str
    label: str
    jurisdiction: str
    weight: int
    eth_hot: list[str]
    btc_hot: list[str]
    eth_deposits: list[str] = field(default_factory=list)
    btc_deposits: list[str] = field(default_factory=list)


def btc_address(rng: np.random.Generator) -> str:
    return p2wpkh_address(rng.bytes(20))


def btc_addresses(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(20 * n)
    return [p2wpkh_address(raw[20 * i:20 * i + 20]) for i in range(n)]


def eth_addresses(rng: np.random.Generator, n: int) -> list[str]:
    return random_hex(rng, n, 20).to_pylist()


@dataclass
class World:
    """Every named participant, the block clocks of both chains and the background account table."""

    seed: int
    transfers: int
    eth_blocks: int
    eth_interval: int
    btc_blocks: int
    exchanges: list[Exchange]
    dex_pools: dict[int, str]  # asset_id -> pool address (token/ETH pair)
    relayers: list[str]
    thor_eth_vault: str
    thor_btc_vault: str
    faucet: str
    victim_eth: str
    victim_btc: str
    users: pa.Array  # background senders (vectorised traffic)
    retail: list[str]  # users whose activity is event-driven (deposits, mixers, bridge)
    btc_users: list[str]
    block_hashes: np.ndarray  # (eth_blocks, 32) uint8
    genesis_time: int = GENESIS_TIME  # unix time of block 0 on both chains

    def eth_time(self, block: int) -> int:
        return self.genesis_time + block * self.eth_interval

    def eth_block_at(self, time: int) -> int:
        return max(1, min(self.eth_blocks - 1, (time - self.genesis_time) // self.eth_interval))

    def btc_time(self, height: int) -> int:
        return self.genesis_time + height * BTC_BLOCK_SECONDS

    def btc_height_at(self, time: int) -> int:
        return max(1, min(self.btc_blocks - 1, (time - self.genesis_time + BTC_BLOCK_SECONDS - 1) // BTC_BLOCK_SECONDS))

    def block_hash(self, block: int) -> str:
        return "0x" + self.block_hashes[block].tobytes().hex()

    def all_exchange_hot(self) -> dict[str, Exchange]:
        return {a: e for e in self.exchanges for a in e.eth_hot}


def build_world(seed: int, transfers: int, rng: np.random.Generator, genesis_time: int = GENESIS_TIME) -> World:
    """Draw every address from `rng` (deterministic per seed); sizes scale gently with `transfers`."""
    eth_blocks = int(min(120_000, max(1_000, transfers // 60)))
    interval = SPAN_SECONDS // eth_blocks
    btc_blocks = SPAN_SECONDS // BTC_BLOCK_SECONDS
    exchanges = []
    n_deposits = int(min(20_000, max(30, transfers // 500)))
    for ex_id, label, juris, weight in EXCHANGES:
        ex = Exchange(ex_id, label, juris, weight, eth_hot=eth_addresses(rng, 2), btc_hot=btc_addresses(rng, 1))
        ex.eth_deposits = eth_addresses(rng, n_deposits * weight)
        ex.btc_deposits = btc_addresses(rng, max(10, min(1_000, n_deposits // 4)) * weight)
        exchanges.append(ex)
    n_users = int(min(200_000, max(1_000, transfers // 50)))
    n_retail = int(min(50_000, max(300, transfers // 200)))
    n_btc_users = int(min(50_000, max(200, transfers // 400)))
    return World(
        seed=seed, transfers=transfers, eth_blocks=eth_blocks, eth_interval=interval, btc_blocks=btc_blocks,
        exchanges=exchanges,
        dex_pools={t.asset_id: random_hex_one(rng, 20) for t in TOKENS[1:]},
        relayers=eth_addresses(rng, 5),
        thor_eth_vault=random_hex_one(rng, 20),
        thor_btc_vault=btc_address(rng),
        faucet=random_hex_one(rng, 20),
        victim_eth=random_hex_one(rng, 20),
        victim_btc=btc_address(rng),
        users=random_hex(rng, n_users, 20),
        retail=eth_addresses(rng, n_retail),
        btc_users=btc_addresses(rng, n_btc_users),
        block_hashes=np.frombuffer(rng.bytes(32 * eth_blocks), dtype=np.uint8).reshape(eth_blocks, 32),
        genesis_time=genesis_time,
    )


class FastRng(random.Random):
    """Scalar draws for the per-event Python code (numpy's scalar calls cost microseconds each).

    Seeded from an integer, Mersenne Twister is deterministic across runs and platforms.
    """

    def integers(self, low: int, high: int | None = None) -> int:
        return self.randrange(low) if high is None else self.randrange(low, high)

    def bytes(self, n: int) -> bytes:
        return self.getrandbits(8 * n).to_bytes(n, "big")

    def permutation(self, n: int) -> list[int]:
        order = list(range(n))
        self.shuffle(order)
        return order


def fast_rng(*key: int) -> FastRng:
    """A FastRng seeded from a numpy SeedSequence of `key` (so streams stay independent)."""
    return FastRng(int(np.random.SeedSequence(list(key)).generate_state(2, np.uint64)[0]))
