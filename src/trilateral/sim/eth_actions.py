"""Single Ethereum transactions as the contracts would emit them (transfers, swaps, Tornado, THORChain)."""

from __future__ import annotations

from trilateral.sim.encoding import (
    SELECTOR_ERC20_TRANSFER,
    SELECTOR_THOR_DEPOSIT,
    TOPIC_TORNADO_DEPOSIT,
    TOPIC_TORNADO_WITHDRAWAL,
    ZERO_ADDRESS,
    abi_string_tail,
    address_word,
    word,
)
from trilateral.sim.eth_tables import EthLog, EthTx
from trilateral.sim.world import MIXER_POOLS, THORCHAIN_ROUTER

LEAF_PLACEHOLDER = "{leaf}"
SELECTOR_TORNADO_DEPOSIT = "0xb214faa5"  # deposit(bytes32)
SELECTOR_TORNADO_WITHDRAW = "0x21a0adb6"  # withdraw(address,bytes,bytes32,bytes32,address,address,uint256,uint256)
SELECTOR_SWAP_TOKEN_IN = "0x18cbafe5"


def tx_hash(rng) -> str:
    return "0x" + rng.bytes(32).hex()


def native(rng, block: int, sender: str, receiver: str, wei: int) -> EthTx:
    return EthTx(tx_hash(rng), block, sender, receiver, wei)


def token_transfer(rng, block: int, token: str, sender: str, receiver: str, amount: int) -> EthTx:
    tx = EthTx(tx_hash(rng), block, sender, token, 0,
               SELECTOR_ERC20_TRANSFER + address_word(receiver) + word(amount), gas=52_000)
    tx.token_transfer(token, sender, receiver, amount)
    return tx


def mint(rng, block: int, minter: str, token: str, holder: str, amount: int) -> EthTx:
    tx = EthTx(tx_hash(rng), block, minter, token, 0, "0x40c10f19" + address_word(holder) + word(amount),
               gas=60_000)
    tx.token_transfer(token, ZERO_ADDRESS, holder, amount)
    return tx


def swap_token_for_eth(rng, block: int, user: str, pool: str, token: str, amount_in: int, wei_out: int) -> EthTx:
    """One swap transaction: tokens into the pool (Transfer log), ETH back out (internal call)."""
    tx = EthTx(tx_hash(rng), block, user, pool, 0, SELECTOR_SWAP_TOKEN_IN + word(amount_in) + word(wei_out),
               gas=130_000)
    tx.token_transfer(token, user, pool, amount_in)
    tx.traces.append((pool, user, wei_out))
    return tx


def mixer_deposit(rng, block: int, timestamp: int, user: str, denomination: int) -> tuple[EthTx, str]:
    pool = MIXER_POOLS[denomination]
    commitment = "0x" + rng.bytes(32).hex()
    tx = EthTx(tx_hash(rng), block, user, pool, denomination, SELECTOR_TORNADO_DEPOSIT + commitment[2:],
               gas=1_000_000)
    tx.logs.append(EthLog(pool, [TOPIC_TORNADO_DEPOSIT, commitment], "0x" + LEAF_PLACEHOLDER + word(timestamp)))
    return tx, commitment


def mixer_withdrawal(rng, block: int, sender: str, denomination: int, recipient: str,
                     relayer: str | None, fee: int) -> tuple[EthTx, str]:
    """Withdrawal sent by a relayer (fee > 0) or by the recipient itself (no relayer, no fee)."""
    pool = MIXER_POOLS[denomination]
    nullifier = "0x" + rng.bytes(32).hex()
    relayer_address = relayer or ZERO_ADDRESS
    data = "0x" + address_word(recipient) + nullifier[2:] + word(fee)
    tx = EthTx(tx_hash(rng), block, sender, pool, 0,
               SELECTOR_TORNADO_WITHDRAW + rng.bytes(64).hex() + nullifier[2:] + address_word(recipient)
               + address_word(relayer_address) + word(fee), gas=400_000)
    tx.logs.append(EthLog(pool, [TOPIC_TORNADO_WITHDRAWAL, "0x" + address_word(relayer_address)], data))
    tx.traces.append((pool, recipient, denomination - fee))
    if fee:
        tx.traces.append((pool, relayer_address, fee))
    return tx, nullifier


def thorchain_deposit(rng, block: int, timestamp: int, user: str, vault: str, wei: int, memo: str) -> EthTx:
    """depositWithExpiry(vault, ETH, amount, memo, expiry) on the router; the router forwards ETH to the vault."""
    args = (address_word(vault) + word(0) + word(wei) + word(5 * 32) + word(timestamp + 3600)
            + abi_string_tail(memo))
    tx = EthTx(tx_hash(rng), block, user, THORCHAIN_ROUTER, wei, SELECTOR_THOR_DEPOSIT + args, gas=90_000)
    tx.traces.append((THORCHAIN_ROUTER, vault, wei))
    return tx


def assign_leaf_indexes(events: list[EthTx], counters: dict[str, int]) -> None:
    """Fill Tornado Deposit leafIndex in block order (the order the pool's Merkle tree grows)."""
    for ev in sorted(events, key=lambda e: e.block):
        for log in ev.logs:
            if LEAF_PLACEHOLDER in log.data:
                leaf = counters.get(log.address, 0)
                counters[log.address] = leaf + 1
                log.data = log.data.replace(LEAF_PLACEHOLDER, word(leaf))
