"""The exact-value pass of the UTXO model over the tainted transactions, in dependency order (no I/O).

Taint lives on outputs (tx_hash, index). A transaction spends tainted outputs and the policy of
trace.utxo spreads that taint over its outputs. Outputs paying an off-ramp are credited there and
stop; outputs paying a bridge leave through the cross-chain link of their transaction. A peel
chain needs no special case for value: the policy follows every output; `peel` marks the edges of
transactions with one large change output so that `--explain` reads as the analyst expects.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from trilateral.trace.account import BridgeLink
from trilateral.trace.model import Edge, Injection, Role, TraceResult
from trilateral.trace.taint import NO_TAINT, Taint, fresh_taint
from trilateral.trace.utxo import UTXO_POLICIES

COINJOIN_MIN = 3  # equal outputs and distinct input addresses that make a CoinJoin
COINJOIN_POLICIES = ("haircut", "poison")
PEEL_SHARE = (9, 10)  # a change output of >= 90 % of the value marks a peel-chain step


@dataclass
class UtxoTx:
    tx_hash: str
    timestamp: int
    block: int
    inputs: list[tuple[str, int, str, int]]  # (spent_tx, spent_index, address, value)
    outputs: list[tuple[int, str, int]]  # (index, address, value)
    fee: int = 0


@dataclass
class UtxoChain:
    chain: str
    symbol: str
    txs: list[UtxoTx]  # every transaction of the subgraph, any order
    roles: dict[str, Role] = field(default_factory=dict)  # address text -> role
    source_after: dict[str, int] = field(default_factory=dict)
    seed_txs: set[str] = field(default_factory=set)
    links_by_tx: dict[str, list[BridgeLink]] = field(default_factory=dict)
    injections: list[Injection] = field(default_factory=list)
    coinjoin: str = "haircut"  # policy through CoinJoin transactions (COINJOIN_POLICIES)


def run_utxo_pass(chain: UtxoChain, result: TraceResult) -> list[Injection]:
    allocate = UTXO_POLICIES[result.policy]
    taint: dict[tuple[str, int], Taint] = {}
    by_hash = {tx.tx_hash: tx for tx in chain.txs}
    for inj in chain.injections:  # taint arriving on a bridge exit's output
        tx = by_hash.get(inj.tx_hash or "")
        for idx, addr, value in tx.outputs if tx else []:
            if addr == inj.address:
                taint[(tx.tx_hash, idx)] = Taint(min(inj.taint.amount, value), inj.taint.mixed,
                                                 inj.taint.conf_mass, inj.taint.hops)
                break
    outgoing: list[Injection] = []
    sym = chain.symbol
    for tx in _dependency_order(chain.txs):
        ins = [(value, taint.pop((stx, sidx), NO_TAINT)) for stx, sidx, _, value in tx.inputs]
        values = [v for _, _, v in tx.outputs]
        joined = None
        if tx.tx_hash in chain.seed_txs:
            outs = [fresh_taint(v, hops=1) for v in values]
            for v in values:
                result.stolen[(chain.chain, sym)] += v
            fee_taint = NO_TAINT
        elif any(t for _, t in ins):
            fee = max(sum(v for v, _ in ins) - sum(values), 0)
            joined = coinjoin_denomination(tx)
            if joined:
                outs, fee_taint = coinjoin_taint(chain, tx, ins, values, fee, joined, result)
            else:
                outs, fee_taint = allocate(ins, values, fee)
        else:
            outs, fee_taint = [NO_TAINT] * len(values), NO_TAINT
        if fee_taint:
            result.flow("unresolved", chain.chain, sym, fee_taint.amount)  # paid to miners
        peel = _is_peel(values)
        senders = sorted({addr for _, _, addr, _ in tx.inputs})
        src_text = senders[0] if senders else tx.tx_hash
        for (idx, addr, value), out in zip(tx.outputs, outs, strict=True):
            after = chain.source_after.get(addr)
            if after is not None and tx.timestamp >= after and addr not in senders:
                result.stolen[(chain.chain, sym)] += value - out.amount
                out = fresh_taint(value, hops=0)
            if not out:
                continue
            role = chain.roles.get(addr)
            kind = "coinjoin" if joined else "peel" if peel else "transfer"
            if role is None:
                taint[(tx.tx_hash, idx)] = out
                result.edges.append(Edge(chain.chain, tx.timestamp, tx.tx_hash, src_text, addr, sym, value,
                                         out.amount, out.confidence, kind))
            elif role.is_offramp:
                result.offramps[(chain.chain, addr, sym)].add(out.with_confidence(role.confidence), tx.timestamp)
                result.roles[(chain.chain, addr)] = role
                result.flow("exchange", chain.chain, sym, out.amount)
                result.edges.append(Edge(chain.chain, tx.timestamp, tx.tx_hash, src_text, addr, sym, value,
                                         out.amount, out.confidence, "exchange"))
            elif role.kind == "bridge":
                result.flow("bridge", chain.chain, sym, out.amount)
                result.edges.append(Edge(chain.chain, tx.timestamp, tx.tx_hash, src_text, addr, sym, value,
                                         out.amount, out.confidence, "bridge"))
                links = chain.links_by_tx.get(tx.tx_hash, [])
                if not links:
                    result.flow("unresolved", chain.chain, sym, out.amount)
                for lk in links:
                    moved = out.scaled(lk.out_amount, max(lk.in_amount, value))
                    if moved:
                        moved = Taint(min(moved.amount, lk.out_amount), min(moved.mixed, moved.amount),
                                      moved.conf_mass, out.hops + 1)
                        outgoing.append(Injection(lk.out_chain, lk.out_time, lk.out_address, lk.out_asset,
                                                  moved.amount, moved, "bridge", lk.out_tx,
                                                  f"link {lk.in_tx} -> {lk.out_tx}", chain.chain, src_text))
                        result.edges.append(Edge(chain.chain, tx.timestamp, tx.tx_hash, addr, lk.out_address,
                                                 lk.out_asset, lk.out_amount, moved.amount, moved.confidence,
                                                 "bridge", target_chain=lk.out_chain))
            else:
                result.flow("mixer" if role.kind == "mixer" else "unresolved", chain.chain, sym, out.amount)
    held: dict[str, list] = {}  # address -> [amount, confidence mass, first time]
    for tx in chain.txs:
        for idx, addr, _ in tx.outputs:
            t = taint.get((tx.tx_hash, idx))
            if t:
                got = held.setdefault(addr, [0, 0.0, tx.timestamp])
                got[0] += t.amount
                got[1] += t.conf_mass
                got[2] = min(got[2], tx.timestamp)
    for addr, (amount, conf_mass, since) in held.items():  # tainted outputs never spent in the window
        result.holdings[(chain.chain, addr, sym)] = amount
        result.holding_info[(chain.chain, addr, sym)] = (min(1.0, conf_mass / amount), since)
        result.flow("unresolved", chain.chain, sym, amount)
    return outgoing


def coinjoin_denomination(tx: UtxoTx) -> tuple[int, int] | None:
    """(denomination, count) of a Wasabi/Whirlpool-style CoinJoin: at least COINJOIN_MIN equal outputs
    paid from at least COINJOIN_MIN distinct input addresses (a batch payout has one sender)."""
    counts = Counter(v for _, _, v in tx.outputs if v > 0)
    if not counts:
        return None
    value, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    senders = {addr for _, _, addr, _ in tx.inputs}
    return (value, n) if n >= COINJOIN_MIN and len(senders) >= COINJOIN_MIN else None


def coinjoin_taint(chain: UtxoChain, tx: UtxoTx, ins: list[tuple[int, Taint]], values: list[int], fee: int,
                   joined: tuple[int, int], result: TraceResult) -> tuple[list[Taint], Taint]:
    """Taint through a CoinJoin by the chain's CoinJoin policy, marked mixed, and the CoinJoin flagged
    in the findings: `haircut` gives every output (the equal ones are indistinguishable) the
    transaction's tainted share of its value; `poison` taints every output in full."""
    outs, fee_taint = UTXO_POLICIES[chain.coinjoin](ins, values, fee)
    tainted_in = sum(t.amount for _, t in ins)
    result.mixer_flows[(chain.chain, chain.symbol)] += tainted_in
    result.coinjoins.append({
        "chain": chain.chain, "tx_hash": tx.tx_hash, "time": tx.timestamp, "policy": chain.coinjoin,
        "denomination_base_units": str(joined[0]), "equal_outputs": joined[1],
        "inputs": len(tx.inputs), "input_addresses": len({a for _, _, a, _ in tx.inputs}),
        "tainted_in_base_units": str(tainted_in),
        "tainted_out_base_units": str(sum(t.amount for t in outs))})
    return [t.as_mixed() if t else t for t in outs], fee_taint


def _is_peel(values: list[int]) -> bool:
    total = sum(values)
    return len(values) == 2 and total > 0 and max(values) * PEEL_SHARE[1] >= total * PEEL_SHARE[0]


def _dependency_order(txs: list[UtxoTx]) -> list[UtxoTx]:
    """Transactions so that each comes after the ones whose outputs it spends (time, then Kahn)."""
    by_hash = {tx.tx_hash: tx for tx in txs}
    ordered: list[UtxoTx] = []
    state: dict[str, int] = {}
    for start in sorted(txs, key=lambda t: (t.block, t.timestamp, t.tx_hash)):
        stack = [(start, False)]
        while stack:
            tx, expanded = stack.pop()
            if expanded:
                state[tx.tx_hash] = 2
                ordered.append(tx)
                continue
            if state.get(tx.tx_hash):
                continue
            state[tx.tx_hash] = 1
            stack.append((tx, True))
            for stx, _, _, _ in tx.inputs:
                parent = by_hash.get(stx)
                if parent is not None and not state.get(stx):
                    stack.append((parent, False))
    return ordered
