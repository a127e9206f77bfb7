"""The scenarios: which laundering steps each uses, on which chain, in which order.

Each step imitates publicly reported behaviour (see docs/scenarios.md for the reports).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trilateral.sim.btc_laundering import BtcLaunderer
from trilateral.sim.plan import ETH, Plan

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    steps: tuple[str, ...]
    plan_eth: Callable[[Plan], None]
    route_btc: Callable[[Plan, BtcLaunderer], Callable | None]  # continuation for thief BTC after a payout
    plan_btc: Callable[[Plan, BtcLaunderer], None] | None = None


def _theft_block(plan: Plan) -> int:
    return plan.world.eth_block_at(plan.world.eth_time(0) + 2 * DAY)


def _steal(plan: Plan, block: int, thief: str, asset: str, amount: int) -> None:
    plan.fund_victim(asset, amount)
    tx, _ = plan.send("theft", block, plan.world.victim_eth, thief, asset, amount)
    plan.truth.seeds.append({"chain": ETH, "tx_hash": tx.hash, "address": thief})
    plan.truth.stolen[ETH, asset] += amount


def _split(plan: Plan, total: int, parts: int, unit: int) -> list[int]:
    weights = plan.rng.dirichlet([1.5] * parts)
    amounts = [int(total * w) // unit * unit for w in weights]
    amounts[-1] += total - sum(amounts)
    return [a for a in amounts if a > 0]


# ---------------------------------------------------------------------------------------------------
def lazarus_eth(plan: Plan) -> None:
    """Bridge/hot-wallet theft of ETH + ERC-20s, swaps, fan-out, Tornado, THORChain, exchange deposits."""
    rng, world = plan.rng, plan.world
    b = _theft_block(plan)
    plan.truth.theft_time = world.eth_time(b)
    main, second = plan.fresh(), plan.fresh()
    eth = int(rng.integers(3_000, 6_000)) * 10**18
    usdt = int(rng.integers(5_000_000, 20_000_000)) * 10**6
    usdc = int(rng.integers(2_000_000, 8_000_000)) * 10**6
    weth = int(rng.integers(500, 1_500)) * 10**18
    _steal(plan, b, main, "ETH", eth)
    _steal(plan, b, main, "USDT", usdt)
    _steal(plan, b, second, "USDC", usdc)
    _steal(plan, b, second, "WETH", weth)
    # consolidation of the second wallet into the main one
    b = plan.after(b, 10 * 60, 40 * 60)
    plan.send("consolidation", b, second, main, "USDC", usdc)
    plan.send("consolidation", plan.after(b, 60, 600), second, main, "WETH", weth)
    # DEX swaps token -> ETH in tranches; keep 10 % of the USDT for a direct exchange deposit
    b = plan.after(b, HOUR, 3 * HOUR)
    kept_usdt = usdt // 10
    for asset, amount in (("USDT", usdt - kept_usdt), ("USDC", usdc), ("WETH", weth)):
        for tranche in _split(plan, amount, int(rng.integers(2, 5)), 10**6):
            b = plan.after(b, 120, 1_800)
            plan.swap_to_eth(b, main, asset, tranche)
    plan.to_exchange(plan.after(b, HOUR, 6 * HOUR), main, "USDT", kept_usdt)
    # fan-out over fresh intermediaries
    b = plan.after(b, HOUR, 8 * HOUR)
    balance = plan.ledger.balance(ETH, main, "ETH")
    reserve = 50 * 10**18  # left dormant at the main address
    hops = [plan.fresh() for _ in range(int(rng.integers(30, 60)))]
    for hop, amount in zip(hops, _split(plan, balance - reserve, len(hops), 10**15), strict=False):
        b = plan.after(b, 30, 600)
        plan.send("fan_out", b, main, hop, "ETH", amount)
    fan_end = b
    # decoys: dust from a few intermediaries to ordinary users
    for hop in hops[:6]:
        decoy = world.users[int(rng.integers(len(world.users)))].as_py()
        amount = int(rng.integers(1, 10)) * 10**15
        plan.send("decoy_dust", plan.after(fan_end, 600, 3 * HOUR), hop, decoy, "ETH", amount)
        plan.truth.decoys.append({"chain": ETH, "address": decoy, "asset": "ETH", "amount_base_units": str(amount)})
    routes = ["mixer", "mixer", "bridge", "exchange", "mixer", "bridge", "exchange", "dormant"]
    for i, hop in enumerate(hops):
        start = plan.after(fan_end, HOUR, 12 * HOUR)
        route = routes[i % len(routes)]
        if route == "mixer":
            _mixer_route(plan, hop, start)
        elif route == "bridge":
            plan.bridge_to_btc(start, hop, plan.ledger.balance(ETH, hop, "ETH"))
        elif route == "exchange":
            relay = plan.fresh()
            amount = plan.ledger.balance(ETH, hop, "ETH")
            plan.send("hop", start, hop, relay, "ETH", amount)
            plan.to_exchange(plan.after(start, 600, 4 * HOUR), relay, "ETH", amount)


def _mixer_route(plan: Plan, hop: str, block: int) -> None:
    """Deposits in fixed denominations, then withdrawals after hours to days to fresh addresses."""
    rng = plan.rng
    gas_reserve = 5 * 10**16
    deposits: list[int] = []
    last = block
    for denomination in (10**20, 10**19, 10**18, 10**17):
        while plan.ledger.balance(ETH, hop, "ETH") - gas_reserve >= denomination and len(deposits) < 40:
            last = plan.after(last, 60, 900)
            plan.mixer_deposit(last, hop, denomination)
            deposits.append(denomination)
    order = [deposits[int(j)] for j in rng.permutation(len(deposits))]
    while order:
        size = int(rng.integers(1, 6))
        group, order = order[:size], order[size:]
        recipient = plan.fresh()
        # linkable: the hop pays the fresh address's gas, so the recipient withdraws by itself
        linked = rng.random() < 0.5 and plan.ledger.balance(ETH, hop, "ETH") >= 2 * 10**16
        if linked:
            plan.send("gas_funding", plan.after(last, 600, 5 * HOUR), hop, recipient, "ETH", 10**16)
        w = plan.after(last, 6 * HOUR, 4 * DAY)
        for denomination in group:
            w = plan.after(w, 60, 2 * HOUR)
            plan.mixer_withdrawal(w, denomination, recipient, relayed=not linked)
        mixed = plan.ledger.mixed[ETH, recipient, "ETH"]
        r = rng.random()
        onward = plan.after(w, HOUR, DAY)
        if r < 0.5:
            plan.to_exchange(onward, recipient, "ETH", mixed, mixed_first=True)
        elif r < 0.9:
            plan.bridge_to_btc(onward, recipient, mixed, mixed_first=True)
        # else: dormant


def lazarus_btc(plan: Plan, btc: BtcLaunderer) -> Callable:
    """Thief BTC from THORChain: alternately a peel chain, a CoinJoin then deposits, or left dormant."""
    counter = [0]

    def pick():
        return plan.exchange()

    def after_coinjoin(height: int, mine: list[str], change: str | None) -> None:
        kept = max(1, len(mine) // 5)  # a fifth of the mixed outputs stays dormant
        rest = mine[kept:]
        while rest:
            size = int(plan.rng.integers(2, 9))
            group, rest = rest[:size], rest[size:]
            btc.chain.at(height + int(plan.rng.integers(3, 60)), lambda h, g=group: btc.deposit(h, g, pick()))

    def route(height: int, address: str) -> None:
        counter[0] += 1
        kind = ("peel", "coinjoin", "peel", "dormant")[counter[0] % 4]
        later = height + int(plan.rng.integers(2, 36))
        if kind == "peel":
            btc.chain.at(later, lambda h: btc.peel(h, address, int(plan.rng.integers(8, 25)), pick))
        elif kind == "coinjoin":
            btc.chain.at(later, lambda h: btc.coinjoin(h, address, after_coinjoin))
    return route


# ---------------------------------------------------------------------------------------------------
def direct_eth(plan: Plan) -> None:
    """Hot-wallet theft sent over two hops straight to exchange deposit addresses."""
    rng = plan.rng
    b = _theft_block(plan)
    plan.truth.theft_time = plan.world.eth_time(b)
    main = plan.fresh()
    eth = int(rng.integers(500, 1_500)) * 10**18
    usdt = int(rng.integers(1_000_000, 3_000_000)) * 10**6
    _steal(plan, b, main, "ETH", eth)
    _steal(plan, b, main, "USDT", usdt)
    b = plan.after(b, 600, 2 * HOUR)
    for part in _split(plan, usdt, 2, 10**6):
        b = plan.after(b, 60, HOUR)
        plan.to_exchange(b, main, "USDT", part)
    hops = [plan.fresh() for _ in range(int(rng.integers(3, 7)))]
    for hop, amount in zip(hops, _split(plan, eth * 95 // 100, len(hops), 10**15), strict=False):
        b = plan.after(b, 60, HOUR)
        plan.send("fan_out", b, main, hop, "ETH", amount)
        relay = plan.fresh()
        h = plan.after(b, 600, 3 * HOUR)
        plan.send("hop", h, hop, relay, "ETH", amount)
        plan.to_exchange(plan.after(h, 600, 3 * HOUR), relay, "ETH", amount)


def no_eth(plan: Plan) -> None:
    """No Ethereum laundering (the Ethereum side is background only)."""


def no_route(plan: Plan, btc: BtcLaunderer) -> None:
    return None


def peel_btc(plan: Plan, btc: BtcLaunderer) -> None:
    """BTC hot-wallet theft split over two addresses, each peeled hop by hop into exchanges."""
    rng, world = plan.rng, plan.world
    height = world.btc_height_at(world.btc_time(0) + 2 * DAY)

    def theft(h: int) -> None:
        victim = world.victim_btc
        utxos, total, _ = btc._spend_all(victim)
        first, second = btc.fresh(), btc.fresh()
        stolen = total * 9 // 10
        a = stolen * int(rng.integers(40, 60)) // 100
        fee = 3_000
        outputs = [(first, a), (second, stolen - a), (victim, total - stolen - fee)]
        txid = btc.chain.make_tx([u[:4] for u in utxos], outputs)
        btc.ledger.debit("bitcoin", victim, "BTC", total)
        btc._receive(txid, 0, first, a, False)
        btc._receive(txid, 1, second, stolen - a, False)
        btc.chain.own(txid, 2, victim, total - stolen - fee)
        btc.ledger.credit("bitcoin", victim, "BTC", total - stolen - fee)
        t = world.btc_time(h)
        plan.truth.theft_time = t
        plan.truth.stolen["bitcoin", "BTC"] += stolen
        for vout, (address, value) in enumerate(outputs[:2]):
            plan.truth.seeds.append({"chain": "bitcoin", "tx_hash": txid, "address": address})
            plan.truth.step("theft", "bitcoin", txid, victim, address, "BTC", value, t, vout=vout)
            btc.chain.at(h + int(rng.integers(1, 6)),
                         lambda hh, ad=address: btc.peel(hh, ad, int(rng.integers(15, 35)), plan.exchange))
    btc.chain.at(height, theft)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("lazarus-bridge-hack",
             "Bridge/hot-wallet theft of ETH and ERC-20s laundered through DEX swaps, fan-out, Tornado-style "
             "mixing, THORChain to Bitcoin, peel chains, CoinJoin and exchange deposits in several jurisdictions.",
             ("theft", "consolidation", "dex_swap", "fan_out", "decoy_dust", "mixer_deposit", "gas_funding",
              "mixer_withdrawal", "bridge", "bridge_out", "peel", "coinjoin", "hop", "exchange_deposit",
              "exchange_sweep", "dormant"),
             lazarus_eth, lazarus_btc),
    Scenario("peel-chain-btc",
             "Bitcoin hot-wallet theft peeled over many hops, each hop paying a small amount into an exchange.",
             ("theft", "peel", "exchange_deposit", "exchange_sweep", "dormant"),
             no_eth, no_route, plan_btc=peel_btc),
    Scenario("direct-to-exchange",
             "Hot-wallet theft of ETH and USDT moved over two hops straight into exchange deposit addresses.",
             ("theft", "fan_out", "hop", "exchange_deposit", "exchange_sweep", "dormant"),
             direct_eth, no_route),
)}
