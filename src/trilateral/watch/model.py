"""The watch's plain data: blocks as arrays of transfers, and the alerts they raise (no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

ALERT_KINDS = ("exchange", "exchange_deposit", "bridge", "mixer", "issuer_freeze")
STABLECOINS = frozenset({"USDT", "USDC"})


class Transfer(NamedTuple):
    """One value movement of an account-model chain: native value (asset = the chain's ticker) or a
    token `Transfer` log (asset = the token contract, lower-case)."""

    tx_hash: str
    src: str
    dst: str
    asset: str
    amount: int


class Withdrawal(NamedTuple):
    """A mixer pool's Withdrawal event: the payout itself is an internal transfer nodes rarely show,
    so `amount` is 0 when unknown (the linked deposit minus the fee is paid then)."""

    tx_hash: str
    pool: str
    to: str
    relayer: str
    fee: int
    amount: int = 0


class UtxoTx(NamedTuple):
    """A UTXO transaction as Bitcoin Core's `getblock HASH 2` gives it: spent outpoints, paid
    outputs (address, value) and the fee (None when the node did not report it)."""

    tx_hash: str
    inputs: list[tuple[str, int]]
    outputs: list[tuple[str, int]]
    fee: int | None = None


@dataclass
class Block:
    """One block of one chain, as the node adapter hands it to the core."""

    chain: str
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    transfers: list[Transfer] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    mixer_deposits: list[tuple[str, str]] = field(default_factory=list)  # (pool, tx_hash) Deposit events
    utxo_txs: list[UtxoTx] = field(default_factory=list)
    assets: dict[str, tuple[str, int]] = field(default_factory=dict)  # asset key -> (ticker, decimals)
    blacklists: list[tuple[str, str, bool]] = field(default_factory=list)  # (token contract, address, added?)


@dataclass(frozen=True)
class Alert:
    """Stolen value of one case reached a place where it can still be stopped (kind: ALERT_KINDS)."""

    case_id: int
    kind: str
    chain: str
    block_number: int
    block_hash: str
    timestamp: int
    tx_hash: str
    address: str  # where the value is: the deposit address, hot wallet, pool, bridge or holder
    asset: str  # ticker
    asset_key: str  # ticker of the native asset or token contract
    decimals: int
    amount: int  # stolen base units that arrived
    confidence: float
    seq: int  # position among the block's alerts (several alerts in one tx stay distinct)
    entity: str | None = None
    category: str | None = None
    jurisdiction: str | None = None
    hot_wallet: str | None = None
    source: str | None = None  # the address the value came from

    @property
    def key(self) -> str:
        """Idempotency key: the same event always has the same key; a reorged-in twin has another."""
        text = "|".join(map(str, (self.case_id, self.chain, self.block_hash, self.tx_hash, self.kind,
                                  self.address, self.asset_key, self.seq)))
        return "alert-" + hashlib.sha256(text.encode()).hexdigest()[:32]
