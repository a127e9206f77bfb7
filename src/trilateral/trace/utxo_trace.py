"""UTXO chains in the trace: find the transactions reachable from the seeds by following spends
(polars joins over the window's inputs and outputs), then run the exact pass over them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from trilateral.trace.account import BridgeLink
from trilateral.trace.loader import utxo_tables
from trilateral.trace.model import Injection, Role, TraceResult
from trilateral.trace.roles import DEPOSIT_CONFIDENCE, DEPOSIT_WINDOW
from trilateral.trace.utxo_pass import UtxoChain, UtxoTx, run_utxo_pass

if TYPE_CHECKING:
    from trilateral.trace.engine import TraceOptions, Tracer, _ChainWork

MAX_DEPTH = 10_000


def trace_utxo_chain(tracer: Tracer, chain: str, work: _ChainWork, result: TraceResult,
                     options: TraceOptions) -> list[Injection]:
    store = tracer.store
    starts = list(work.address_seeds.values()) + [i.timestamp for i in work.injections]
    since = min(starts) if starts else 0
    if work.tx_seeds:
        since = 0
    out_t, in_t = utxo_tables(tracer.con, store, chain, since)
    outputs = pl.from_arrow(out_t)
    inputs = pl.from_arrow(in_t)
    result.transfers_scanned += outputs.height
    ids = sorted(set(outputs["address_id"].to_list()) | set(inputs["address_id"].to_list()))
    ids = [i for i in ids if i is not None and i >= 0]
    text_of = dict(zip(ids, store.addresses(chain, ids), strict=True)) if ids else {}
    outputs = outputs.with_columns(pl.col("address_id").replace_strict(text_of, default=None,
                                                                        return_dtype=pl.String).alias("address"))
    inputs = inputs.with_columns(pl.col("address_id").replace_strict(text_of, default=None,
                                                                      return_dtype=pl.String).alias("address"))
    roles: dict[str, Role] = {}
    links = [lk for lk in tracer.links() if lk["in_chain"] == chain]
    link_txs = {lk["in_tx"] for lk in links}

    start_txs = set(work.tx_seeds)
    start_txs |= {i.tx_hash for i in work.injections if i.tx_hash}
    for address, after in work.address_seeds.items():
        hits = outputs.filter((pl.col("address") == address) & (pl.col("timestamp") >= after))
        start_txs |= set(hits["tx_hash"].to_list())
    reached = set(start_txs)
    frontier = set(start_txs)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        outs = outputs.filter(pl.col("tx_hash").is_in(list(frontier)))
        addrs = sorted(set(a for a in outs["address"].to_list() if a))
        for a, role in zip(addrs, tracer.roles_of(chain, addrs), strict=True):
            if role is not None:
                roles[a] = role
        stop = set(roles)
        follow = outs.filter(~pl.col("address").is_in(list(stop)))
        spends = inputs.join(follow.select(pl.col("tx_hash").alias("spent_tx_hash"),
                                           pl.col("output_index").alias("spent_output_index")),
                             on=["spent_tx_hash", "spent_output_index"], how="semi")
        new = set(spends["tx_hash"].to_list()) - reached
        reached |= new
        frontier = new
    for tx in link_txs & reached:
        for lk in links:
            if lk["in_tx"] == tx:
                for o in outputs.filter(pl.col("tx_hash") == tx).iter_rows(named=True):
                    if o["address"] and o["address"] != lk["in_address"]:
                        roles.setdefault(o["address"], Role("bridge", None, "bridge"))
    result.reached_addresses += len(reached)
    txs = _utxo_txs(outputs, inputs, reached)
    roles.update(_deposit_addresses(txs, roles, set(work.address_seeds)))
    result.subgraph_transfers += sum(len(t.outputs) for t in txs)
    result.decimals[(chain, "BTC")] = 8
    by_tx: dict[str, list[BridgeLink]] = {}
    from trilateral.trace.engine import _bridge_link

    for lk in links:
        by_tx.setdefault(lk["in_tx"], []).append(_bridge_link(lk))
    utxo = UtxoChain(chain, "BTC" if chain == "bitcoin" else chain.upper(), txs, roles,
                     dict(work.address_seeds), set(work.tx_seeds), by_tx, list(work.injections),
                     coinjoin=options.coinjoin)
    return run_utxo_pass(utxo, result)


def _deposit_addresses(txs: list[UtxoTx], roles: dict[str, Role], seeds: set[str]) -> dict[str, Role]:
    """Unlabelled addresses whose received outputs are all spent, within DEPOSIT_WINDOW, by
    transactions paying only one exchange's labelled addresses: that exchange's deposit addresses."""
    received: dict[str, int] = {}
    for tx in txs:
        for _, addr, _ in tx.outputs:
            received[addr] = min(received.get(addr, tx.timestamp), tx.timestamp)
    sweeps: dict[str, list[tuple[int, set]]] = {}
    for tx in txs:
        payees = {roles.get(addr) for _, addr, _ in tx.outputs}
        entities = {r.entity if r is not None and r.kind == "exchange" else None for r in payees}
        for addr in {a for _, _, a, _ in tx.inputs}:
            sweeps.setdefault(addr, []).append((tx.timestamp, entities))
    found: dict[str, Role] = {}
    for addr, spends in sweeps.items():
        if addr in roles or addr in seeds or addr not in received:
            continue
        entities = set().union(*(e for _, e in spends))
        if len(entities) != 1 or None in entities:
            continue
        if min(t for t, _ in spends) - received[addr] > DEPOSIT_WINDOW:
            continue
        entity = next(iter(entities))
        hot = next(r for r in roles.values() if r.kind == "exchange" and r.entity == entity)
        found[addr] = Role("deposit", entity, hot.category, hot.jurisdiction, DEPOSIT_CONFIDENCE * hot.confidence)
    return found


def _utxo_txs(outputs: pl.DataFrame, inputs: pl.DataFrame, reached: set[str]) -> list[UtxoTx]:
    wanted = list(reached)
    outs = outputs.filter(pl.col("tx_hash").is_in(wanted)).sort(["tx_hash", "output_index"])
    ins = inputs.filter(pl.col("tx_hash").is_in(wanted)).sort(["tx_hash", "input_index"])
    txs: dict[str, UtxoTx] = {}
    for o in outs.iter_rows(named=True):
        tx = txs.get(o["tx_hash"])
        if tx is None:
            tx = txs[o["tx_hash"]] = UtxoTx(o["tx_hash"], o["timestamp"], o["block_number"], [], [])
        tx.outputs.append((o["output_index"], o["address"] or f"id:{o['address_id']}", o["value"]))
    for i in ins.iter_rows(named=True):
        tx = txs.get(i["tx_hash"])
        if tx is not None:
            tx.inputs.append((i["spent_tx_hash"], i["spent_output_index"], i["address"] or "", i["value"]))
    return list(txs.values())
