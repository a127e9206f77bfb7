"""The UTXO side of the watch core: taint lives on outputs and the policy spreads it over a
transaction's outputs (trace.utxo), no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trilateral.trace.taint import NO_TAINT, Taint, fresh_taint
from trilateral.trace.utxo import UTXO_POLICIES
from trilateral.watch.model import UtxoTx

if TYPE_CHECKING:
    from trilateral.watch.core import Case, _BlockRun


def utxo_tx(run: _BlockRun, tx: UtxoTx) -> None:
    """One Bitcoin transaction applied to every case whose outputs, seed addresses or seed txs it touches."""
    idx = run.idx
    ids: set[int] = set()
    for outpoint in tx.inputs:
        ids |= idx.get(outpoint, set())
    for addr, _ in tx.outputs:
        ids |= idx.get(addr, set())
    ids |= run.seeds.get(tx.tx_hash, set())
    for case_id in sorted(ids):
        case = run.core.cases.get(case_id)
        if case is not None:
            _utxo_case(run, case, tx)


def _utxo_case(run: _BlockRun, case: Case, tx: UtxoTx) -> None:
    kv, values = case.kv, [v for _, v in tx.outputs]
    senders = sorted({kv.get("utxos", o, ("",))[0] for o in tx.inputs} - {""})
    spent: list[tuple[int, Taint] | None] = []
    for outpoint in tx.inputs:
        held = kv.get("utxos", outpoint)
        if held is None:
            spent.append(None)
            continue
        kv.delete("utxos", outpoint)
        spent.append((held[1], held[2]))
    if tx.tx_hash in case.spec.seed_txs:
        outs = [fresh_taint(v, hops=1) for v in values]
    elif any(s for s in spent):
        known = sum(s[0] for s in spent if s)
        clean = max(sum(values) + (tx.fee or 0) - known, 0)
        ins: list[tuple[int, Taint]] = []
        for s in spent:
            if s:
                ins.append(s)
            elif clean:
                ins.append((clean, NO_TAINT))
                clean = 0
        fee = max(sum(v for v, _ in ins) - sum(values), 0)
        outs, _fee_taint = UTXO_POLICIES[case.spec.policy](ins, values, fee)
    else:
        outs = [NO_TAINT] * len(values)
    src = senders[0] if senders else tx.tx_hash
    for n, ((addr, value), out) in enumerate(zip(tx.outputs, outs, strict=True)):
        if addr in case.spec.seeds:
            out = fresh_taint(value, hops=0)
        if not out:
            continue
        role = run.core.role(case, addr)
        if role is None:
            kv.put("utxos", (tx.tx_hash, n), (addr, value, out))
            run.idx.setdefault((tx.tx_hash, n), set()).add(case.spec.id)
            run.edge(case, tx.tx_hash, src, addr, run.native, value, out, "transfer")
            continue
        run.edge(case, tx.tx_hash, src, addr, run.native, value, out, role.kind)
        if role.is_offramp:
            run.alert(case, "exchange_deposit" if role.kind == "deposit" else "exchange", tx.tx_hash, addr,
                       run.native, out, role, source=src, hot=role.hot_wallet)
        elif role.kind in ("mixer", "bridge"):
            run.alert(case, role.kind, tx.tx_hash, addr, run.native, out, role, source=src)
