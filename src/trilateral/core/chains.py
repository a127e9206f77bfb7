"""The one table of chains every command reads: id, native asset, address format, explorer family.

Adding a chain is adding a row here (and labels for it), not a code path: ingest, stats, trace,
screen, freeze and watch look a chain up in `CHAINS` and branch on its `model` and `address_format`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import base58

from trilateral.core.errors import InputError


@dataclass(frozen=True)
class Chain:
    """What Trilateral needs to know about one chain."""

    name: str
    model: str  # "account" | "utxo"
    chain_id: int | None  # EIP-155 chain id (EVM), Tron's own id; None for Bitcoin
    native: str  # ticker of the native asset
    decimals: int  # of the native asset
    address_format: str  # "evm" (0x + 40 hex) | "tron" (base58check T…, hex 41…) | "bitcoin"
    explorer: str  # explorer family whose saved responses `--format etherscan` reads, or "" if none
    thorchain: str | None = None  # THORChain/Midgard chain code, when THORChain serves it
    tokens: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # contract -> (issuer, ticker, decimals)

    @property
    def evm(self) -> bool:
        return self.address_format == "evm"


def _usd(usdt: str | None, usdc: str | None, usdt_decimals: int = 6) -> dict[str, tuple[str, str, int]]:
    out = {}
    if usdt:
        out[usdt] = ("Tether", "USDT", usdt_decimals)
    if usdc:
        out[usdc] = ("Circle", "USDC", 6)
    return out


TETHER_TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"

CHAINS: dict[str, Chain] = {c.name: c for c in (
    Chain("ethereum", "account", 1, "ETH", 18, "evm", "etherscan", "ETH",
          _usd("0xdac17f958d2ee523a2206206994597c13d831ec7", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")),
    Chain("bsc", "account", 56, "BNB", 18, "evm", "etherscan", "BSC",
          _usd("0x55d398326f99059ff775485246999027b3197955", "0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", 18)),
    Chain("polygon", "account", 137, "POL", 18, "evm", "etherscan", None,
          _usd("0xc2132d05d31c914a87c6611c10748aeb04b58e8f", "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359")),
    Chain("arbitrum", "account", 42161, "ETH", 18, "evm", "etherscan", None,
          _usd("0xfd086bc7cd5c481dcc9c85ebe478a1c0b69fcbb9", "0xaf88d065e77c8cc2239327c5edb3a432268e5831")),
    Chain("optimism", "account", 10, "ETH", 18, "evm", "etherscan", None,
          _usd("0x94b008aa00579c1307b0ef2c499ad98a8ce58e58", "0x0b2c639c533813f4aa9d7837caf62653d097ff85")),
    Chain("base", "account", 8453, "ETH", 18, "evm", "etherscan", "BASE",
          _usd(None, "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913")),
    Chain("avalanche", "account", 43114, "AVAX", 18, "evm", "etherscan", "AVAX",
          _usd("0x9702230a8ea53601f5cd2dc00fdbc13d4df4a8c7", "0xb97ef9ef8734c71904d8002f8b6bc66dd9c48a6e")),
    Chain("tron", "account", 728126428, "TRX", 6, "tron", "trongrid", None,
          _usd(TETHER_TRON, "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8")),
    Chain("bitcoin", "utxo", None, "BTC", 8, "bitcoin", "", "BTC"),
)}
EVM_CHAINS = tuple(c.name for c in CHAINS.values() if c.evm)
ACCOUNT_CHAINS = tuple(c.name for c in CHAINS.values() if c.model == "account")
THORCHAIN_CODES = {c.thorchain: c.name for c in CHAINS.values() if c.thorchain}


def chain(name: str) -> Chain:
    """The chain called `name` (case-insensitive), or a clear error listing the known ones."""
    found = CHAINS.get((name or "").strip().lower())
    if found is None:
        raise InputError(f"unknown chain {name!r} (use {', '.join(CHAINS)})")
    return found


def names() -> str:
    """'ethereum | bsc | …' for option help texts."""
    return " | ".join(CHAINS)


def issuers() -> dict[tuple[str, str], tuple[str, str]]:
    """(chain, token contract) -> (issuer, ticker): who can freeze a stablecoin where. Tron contracts
    appear both as users write them (`T…`) and as the store keeps them (`0x` + 40 hex)."""
    out = {}
    for c in CHAINS.values():
        for contract, (issuer, ticker, _) in c.tokens.items():
            out[(c.name, contract.lower() if c.evm else contract)] = (issuer, ticker)
            if c.address_format == "tron":
                out[(c.name, tron_to_hex(contract))] = (issuer, ticker)
    return out


# ---- Tron addresses: base58check `T…` (what users write) and hex `41…` (what nodes return) ---------------
TRON_BASE58 = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
TRON_HEX = re.compile(r"^(?:0x)?41[0-9a-fA-F]{40}$")
EVM_HEX = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX40 = re.compile(r"[0-9a-fA-F]{40}")


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def tron_to_base58(hex20: str) -> str:
    """`0x` + 40 hex (the store's form) or `41` + 40 hex -> `T…` base58check."""
    h = hex20.lower().removeprefix("0x")
    if len(h) == 42 and h.startswith("41"):
        h = h[2:]
    payload = b"\x41" + bytes.fromhex(h)
    return base58.b58encode(payload + _checksum(payload)).decode()


def tron_to_hex(address: str) -> str:
    """Any written Tron address (`T…`, `41…`, `0x41…`, or `0x` + 40 hex) -> `0x` + 40 lower-case hex.

    The store keeps Tron addresses as 20 bytes of hex, like every account chain, so the set-based
    ingest, the address dictionary and the trace need no Tron path; users see `T…` on the way out."""
    a = address.strip()
    if len(a) == 42 and a[:2] == "41" and _HEX40.fullmatch(a, 2):  # the node's own form: the common case first
        return "0x" + a[2:].lower()
    if TRON_BASE58.match(a):
        raw = base58.b58decode(a)
        payload, check = raw[:-4], raw[-4:]
        if len(payload) != 21 or payload[0] != 0x41 or _checksum(payload) != check:
            raise InputError(f"{address!r} is not a valid Tron address (base58check checksum fails)")
        return "0x" + payload[1:].hex()
    if TRON_HEX.match(a):
        return "0x" + a.lower().removeprefix("0x")[2:]
    if EVM_HEX.match(a):
        return a.lower()
    raise InputError(f"{address!r} is not a Tron address (T… base58check or 41 + 40 hex)")


def normalise_address(chain_name: str, address: str) -> str:
    """The form addresses of `chain_name` are compared and shown in: EVM lower-case hex, Tron `T…`,
    Bitcoin as written."""
    c = CHAINS.get(chain_name)
    a = address.strip()
    if c is None:
        return a.lower() if a.startswith("0x") else a
    if c.address_format == "evm":
        return a.lower()
    if c.address_format == "tron":
        try:
            return tron_to_base58(tron_to_hex(a))
        except InputError:
            return a
    return a
