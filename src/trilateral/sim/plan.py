"""The laundering plan on Ethereum: thief-side transactions with balances checked and steps recorded."""

from __future__ import annotations

import numpy as np

from trilateral.sim import eth_actions as act
from trilateral.sim.eth_events import BridgeSwap, btc_out_sats
from trilateral.sim.eth_tables import EthTx
from trilateral.sim.ledger import GroundTruth, Ledger
from trilateral.sim.world import MIXER_POOLS, TOKENS, Exchange, World

ETH = "ethereum"
SYMBOL_TOKEN = {t.symbol: t for t in TOKENS}


class Plan:
    """Everything the thief does on Ethereum, decided before any file is written."""

    def __init__(self, world: World, seed: int, ledger: Ledger, truth: GroundTruth) -> None:
        self.world, self.ledger, self.truth = world, ledger, truth
        self.rng = np.random.default_rng([seed, 4])
        self.events: list[EthTx] = []
        self.bridges: list[BridgeSwap] = []
        self.victim_funding: dict[str, int] = {}
        self.pool_reserve_wei: dict[int, int] = {}  # DEX pool (by token asset id) -> ETH it pays out
        self.btc_routes: list = []  # callables run by the Bitcoin phase, see scenarios

    # -- addresses and time ---------------------------------------------------------------------
    def fresh(self, chain: str = ETH) -> str:
        if chain == ETH:
            return self.truth.thief(ETH, "0x" + self.rng.bytes(20).hex())
        from trilateral.sim.encoding import p2wpkh_address
        return self.truth.thief(chain, p2wpkh_address(self.rng.bytes(20)))

    def after(self, block: int, min_seconds: float, max_seconds: float) -> int:
        seconds = self.rng.uniform(min_seconds, max_seconds)
        return min(self.world.eth_blocks - 1, block + max(1, int(seconds // self.world.eth_interval)))

    def time(self, block: int) -> int:
        return self.world.eth_time(block)

    def exchange(self) -> Exchange:
        weights = np.array([e.weight for e in self.world.exchanges], dtype=float)
        return self.world.exchanges[int(self.rng.choice(len(weights), p=weights / weights.sum()))]

    # -- steps ------------------------------------------------------------------------------------
    def fund_victim(self, asset: str, amount: int) -> None:
        self.victim_funding[asset] = self.victim_funding.get(asset, 0) + amount
        self.ledger.credit(ETH, self.world.victim_eth, asset, amount)

    def send(self, kind: str, block: int, sender: str, receiver: str, asset: str, amount: int,
             mixed_first: bool = False, record: bool = True) -> tuple[EthTx, int]:
        """A plain ETH or ERC-20 transfer; returns the tx and how much of it had passed a mixer."""
        from_mixed = self.ledger.move(ETH, sender, receiver, asset, amount, mixed_first)
        if asset == "ETH":
            tx = act.native(self.rng, block, sender, receiver, amount)
        else:
            tx = act.token_transfer(self.rng, block, SYMBOL_TOKEN[asset].address, sender, receiver, amount)
        self.events.append(tx)
        if record:
            self.truth.step(kind, ETH, tx.hash, sender, receiver, asset, amount, self.time(block),
                            via_mixer=from_mixed > 0)
        return tx, from_mixed

    def swap_to_eth(self, block: int, thief: str, asset: str, amount: int) -> int:
        """Token -> ETH in one transaction through the token's pool; returns the wei received."""
        token = SYMBOL_TOKEN[asset]
        pool = self.world.dex_pools[token.asset_id]
        # 0.3 % pool fee; 18-decimal tokens trade 1:1, stablecoins at 3 base units per gwei
        wei = amount * 997 // 1000 if token.decimals == 18 else amount * 997 // 3000 * 10**9
        self.ledger.debit(ETH, thief, asset, amount)
        self.ledger.credit(ETH, pool, asset, amount)
        self.ledger.credit(ETH, thief, "ETH", wei)
        self.pool_reserve_wei[token.asset_id] = self.pool_reserve_wei.get(token.asset_id, 0) + wei
        tx = act.swap_token_for_eth(self.rng, block, thief, pool, token.address, amount, wei)
        self.events.append(tx)
        self.truth.step("dex_swap", ETH, tx.hash, thief, pool, asset, amount, self.time(block),
                        out_asset="ETH", out_amount_base_units=str(wei))
        return wei

    def to_exchange(self, block: int, sender: str, asset: str, amount: int, mixed_first: bool = False,
                    exchange: Exchange | None = None) -> int:
        """Deposit at a (fresh, unlabelled) deposit address of an exchange, swept to its hot wallet later."""
        ex = exchange or self.exchange()
        deposit = "0x" + self.rng.bytes(20).hex()
        _, from_mixed = self.send("exchange_deposit", block, sender, deposit, asset, amount, mixed_first)
        self.truth.steps[-1].update(entity=ex.label, jurisdiction=ex.jurisdiction)
        self.truth.offramp(ETH, deposit, ex, asset, amount, from_mixed)
        sweep_block = self.after(block, 300, 6 * 3600)
        self.send("exchange_sweep", sweep_block, deposit, ex.eth_hot[0], asset, amount, mixed_first)
        return sweep_block

    def mixer_deposit(self, block: int, sender: str, denomination: int) -> None:
        tx, _ = act.mixer_deposit(self.rng, block, self.time(block), sender, denomination)
        self.ledger.move(ETH, sender, MIXER_POOLS[denomination], "ETH", denomination)
        self.events.append(tx)
        self.truth.step("mixer_deposit", ETH, tx.hash, sender, MIXER_POOLS[denomination], "ETH",
                        denomination, self.time(block))

    def mixer_withdrawal(self, block: int, denomination: int, recipient: str, relayed: bool) -> None:
        pool = MIXER_POOLS[denomination]
        relayer = self.world.relayers[int(self.rng.integers(len(self.world.relayers)))] if relayed else None
        fee = denomination * int(self.rng.integers(10, 50)) // 10_000 if relayer else 0
        tx, nullifier = act.mixer_withdrawal(self.rng, block, relayer or recipient, denomination, recipient,
                                             relayer, fee)
        self.ledger.debit(ETH, pool, "ETH", denomination)
        self.ledger.credit(ETH, recipient, "ETH", denomination - fee, via_mixer=True)
        if relayer:
            self.ledger.credit(ETH, relayer, "ETH", fee)
        self.events.append(tx)
        self.truth.step("mixer_withdrawal", ETH, tx.hash, pool, recipient, "ETH", denomination - fee,
                        self.time(block), relayer=relayer, fee_base_units=str(fee), nullifier=nullifier)

    def bridge_to_btc(self, block: int, sender: str, wei: int, mixed_first: bool = False) -> BridgeSwap | None:
        """ETH into the THORChain router with a memo naming a fresh thief BTC address."""
        wei = wei // 10**10 * 10**10
        if btc_out_sats(wei)[0] < 50_000:
            return None
        btc = self.fresh("bitcoin")
        memo = f"=:BTC.BTC:{btc}"
        vault = self.world.thor_eth_vault
        from_mixed = self.ledger.move(ETH, sender, vault, "ETH", wei, mixed_first)
        tx = act.thorchain_deposit(self.rng, block, self.time(block), sender, vault, wei, memo)
        self.events.append(tx)
        self.truth.step("bridge", ETH, tx.hash, sender, tx.to_address, "ETH", wei, self.time(block), memo=memo,
                        via_mixer=from_mixed > 0)
        swap = BridgeSwap(tx.hash, sender, wei, self.time(block), btc, memo, thief=True, via_mixer_wei=from_mixed)
        self.bridges.append(swap)
        return swap
