"""Hand-built blocks and labels for the watch tests."""

from __future__ import annotations

from trilateral.trace.model import Role
from trilateral.watch.core import CaseSpec, WatchCore
from trilateral.watch.model import Block, Transfer

THIEF = "0x" + "11" * 20
HOT = "0x" + "ee" * 20  # exchange hot wallet (labelled)
POOL = "0x" + "90" * 20  # mixer pool
BRIDGE = "0x" + "b0" * 20
DEX = "0x" + "de" * 20
USDT = "0x" + "da" * 20  # token contract
ETH = 10**18


def addr(n: int) -> str:
    return "0x" + f"{n:040x}"


def labels() -> dict[str, dict[str, Role]]:
    return {"ethereum": {HOT: Role("exchange", "Upbit", "exchange", "KR"),
                         BRIDGE: Role("bridge", "Some Bridge", "bridge"),
                         DEX: Role("dex", "Uniswap", "defi_dex")}}


def core(policy: str = "haircut") -> WatchCore:
    c = WatchCore(labels=labels(), natives={"ethereum": ("ETH", 18), "bitcoin": ("BTC", 8)})
    c.add_case(CaseSpec(1, "ethereum", policy, frozenset({THIEF})))
    return c


class Chain:
    """Makes consecutive blocks with linked hashes."""

    def __init__(self, chain: str = "ethereum", start: int = 100) -> None:
        self.chain, self.number, self.parent = chain, start, "0x" + "00" * 32

    def block(self, *transfers: tuple, **extra) -> Block:
        self.number += 1
        h = f"0x{self.number:064x}"
        txs = [Transfer(*t) if len(t) == 5 else Transfer(f"0x{self.number:032x}{i:032x}", *t)
               for i, t in enumerate(transfers)]
        b = Block(self.chain, self.number, h, self.parent, 1_700_000_000 + 12 * self.number, txs, **extra)
        self.parent = h
        return b
