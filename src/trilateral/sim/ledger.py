"""Balances of the event-driven actors and the ground-truth record of every laundering step.

Thief addresses only ever receive stolen value (including gas top-ups, which come from other thief
addresses), so every unit a thief address sends is stolen. Within that, each holding is split by
whether it has passed a mixer (`via_mixer`); a payment spends the non-mixed part first unless the
step says otherwise, so the split at each off-ramp is exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime


class SimulationError(RuntimeError):
    """The scenario tried to spend more than an account holds: a bug in the simulator."""


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Ledger:
    """Exact balances (base units) of tracked accounts, split into clean/mixed lots for thief addresses."""

    balances: dict = field(default_factory=lambda: defaultdict(int))  # (chain, address, asset) -> int
    mixed: dict = field(default_factory=lambda: defaultdict(int))  # part of the balance that passed a mixer
    untracked: set = field(default_factory=set)  # (chain, address): funded beyond what we track (pools)

    def credit(self, chain: str, address: str, asset: str, amount: int, via_mixer: bool = False) -> None:
        self.balances[chain, address, asset] += amount
        if via_mixer:
            self.mixed[chain, address, asset] += amount

    def balance(self, chain: str, address: str, asset: str) -> int:
        return self.balances[chain, address, asset]

    def debit(self, chain: str, address: str, asset: str, amount: int, mixed_first: bool = False) -> int:
        """Remove `amount`; returns how much of it had passed a mixer."""
        key = (chain, address, asset)
        if (chain, address) in self.untracked:
            return 0
        if amount < 0 or self.balances[key] < amount:
            raise SimulationError(f"{address} would spend {amount} {asset} holding {self.balances[key]}")
        mixed = self.mixed[key]
        clean = self.balances[key] - mixed
        from_mixed = min(mixed, amount) if mixed_first else max(0, amount - clean)
        self.balances[key] -= amount
        self.mixed[key] -= from_mixed
        return from_mixed

    def move(self, chain: str, sender: str, receiver: str, asset: str, amount: int,
             mixed_first: bool = False) -> int:
        from_mixed = self.debit(chain, sender, asset, amount, mixed_first)
        self.balances[chain, receiver, asset] += amount
        self.mixed[chain, receiver, asset] += from_mixed
        return from_mixed


@dataclass
class GroundTruth:
    scenario: str
    seed: int
    transfers: int
    seeds: list = field(default_factory=list)
    theft_time: str | None = None
    stolen: dict = field(default_factory=lambda: defaultdict(int))  # (chain, asset) -> int
    thief_addresses: dict = field(default_factory=lambda: defaultdict(list))
    steps: list = field(default_factory=list)
    offramps: dict = field(default_factory=lambda: defaultdict(int))  # (chain, addr, entity, jur, asset, mixed)
    decoys: list = field(default_factory=list)
    scenario_steps: list = field(default_factory=list)

    def thief(self, chain: str, address: str) -> str:
        if address not in self.thief_addresses[chain]:
            self.thief_addresses[chain].append(address)
        return address

    def step(self, kind: str, chain: str, tx_hash: str, sender: str, receiver: str, asset: str,
             amount: int, time: int, **extra) -> None:
        self.steps.append({"kind": kind, "chain": chain, "tx_hash": tx_hash, "from": sender, "to": receiver,
                           "asset": asset, "amount_base_units": str(amount), "time": iso(time), **extra})

    def offramp(self, chain: str, address: str, exchange, asset: str, amount: int, via_mixer_amount: int) -> None:
        for mixed, value in ((True, via_mixer_amount), (False, amount - via_mixer_amount)):
            if value:
                self.offramps[chain, address, exchange.label, exchange.jurisdiction, asset, mixed] += value

    def document(self, ledger: Ledger, decimals: dict[str, int]) -> dict:
        """The ground_truth.json document (amounts as decimal strings of base units)."""
        dormant = []
        assets_of: dict = defaultdict(set)
        for chain, address, asset in ledger.balances:
            assets_of[chain, address].add(asset)
        for chain, addresses in self.thief_addresses.items():
            for address in addresses:
                for asset in sorted(assets_of[chain, address]):
                    left = ledger.balance(chain, address, asset)
                    if left > 0:
                        dormant.append({"chain": chain, "address": address, "asset": asset,
                                        "amount_base_units": str(left),
                                        "via_mixer_base_units": str(ledger.mixed[chain, address, asset])})
        return {
            "scenario": self.scenario, "seed": self.seed, "transfers": self.transfers,
            "scenario_steps": self.scenario_steps,
            "seeds": self.seeds, "theft_time": self.theft_time,
            "stolen": [{"chain": c, "asset": a, "amount_base_units": str(v), "decimals": decimals[a]}
                       for (c, a), v in sorted(self.stolen.items())],
            "thief_addresses": {c: list(v) for c, v in sorted(self.thief_addresses.items())},
            "steps": self.steps,
            "offramps": [{"chain": c, "address": a, "entity": e, "jurisdiction": j, "category": "exchange",
                          "asset": s, "amount_base_units": str(v), "via_mixer": m}
                         for (c, a, e, j, s, m), v in sorted(self.offramps.items(), key=lambda kv: kv[0][:2])],
            "dormant": dormant,
            "decoys": self.decoys,
        }
