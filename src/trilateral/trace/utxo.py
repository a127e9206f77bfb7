"""Taint policies of the UTXO model: one transaction's inputs to its outputs, exact integers (no I/O).

Each function takes the inputs in order as (value, taint) and the output values in order, and
returns the taint of each output plus the taint left in the fee, so that for haircut and FIFO
sum(outputs) + fee == sum(input taints) exactly. Poison taints every output in full.
"""

from __future__ import annotations

from trilateral.trace.taint import NO_TAINT, Taint, sum_taints


def _split_exact(taint: Taint, weights: list[int]) -> list[Taint]:
    """Split `taint` over `weights` in proportion, largest remainder first, summing exactly."""
    total = sum(weights)
    if total <= 0 or not taint:
        return [NO_TAINT] * len(weights)
    floors = [taint.amount * w // total for w in weights]
    rems = [taint.amount * w % total for w in weights]
    left = taint.amount - sum(floors)
    for i in sorted(range(len(weights)), key=lambda k: (-rems[k], k))[:left]:
        floors[i] += 1
    mixed_floors = [taint.mixed * w // total for w in weights]
    mixed_left = taint.mixed - sum(mixed_floors)
    for i in sorted(range(len(weights)), key=lambda k: (-(taint.mixed * weights[k] % total), k)):
        if mixed_left == 0:
            break
        if mixed_floors[i] < floors[i]:
            mixed_floors[i] += 1
            mixed_left -= 1
    out = []
    for amount, mixed in zip(floors, mixed_floors, strict=True):
        out.append(Taint(amount, min(mixed, amount), taint.conf_mass * amount / taint.amount, taint.hops + 1)
                   if amount else NO_TAINT)
    return out


def haircut_tx(inputs: list[tuple[int, Taint]], outputs: list[int], fee: int) -> tuple[list[Taint], Taint]:
    """Every output (and the fee) gets the transaction's tainted share of its value."""
    parts = _split_exact(sum_taints([t for _, t in inputs]), [*outputs, max(fee, 0)])
    return parts[:-1], parts[-1]


def poison_tx(inputs: list[tuple[int, Taint]], outputs: list[int], fee: int) -> tuple[list[Taint], Taint]:
    """Any tainted input taints every output in full (Möser et al.'s 'poison')."""
    taint = sum_taints([t for _, t in inputs])
    if not taint:
        return [NO_TAINT] * len(outputs), NO_TAINT
    conf = taint.confidence
    mixed = taint.mixed > 0

    def full(v: int) -> Taint:
        return Taint(v, v if mixed else 0, v * conf, taint.hops + 1) if v > 0 else NO_TAINT

    return [full(v) for v in outputs], full(max(fee, 0))


def fifo_tx(inputs: list[tuple[int, Taint]], outputs: list[int], fee: int) -> tuple[list[Taint], Taint]:
    """Input value in input order fills outputs in output order, the fee last (Anderson et al.).

    Each input is one piece: its tainted part first, then its clean part (an input whose taint
    is partial keeps that order, which is what a FIFO-traced coin looks like)."""
    pieces: list[tuple[int, Taint]] = []  # (amount, taint with amount == piece or clean)
    for value, taint in inputs:
        if taint.amount:
            pieces.append((taint.amount, taint))
        if value - taint.amount > 0:
            pieces.append((value - taint.amount, NO_TAINT))
    results: list[Taint] = []
    idx, used = 0, 0  # current piece and how much of it is consumed
    for need in [*outputs, max(fee, 0)]:
        got: list[Taint] = []
        while need > 0 and idx < len(pieces):
            amount, taint = pieces[idx]
            take = min(need, amount - used)
            if taint:
                part = taint.scaled(take, amount)
                got.append(Taint(take, min(part.mixed, take), taint.conf_mass * take / amount, taint.hops))
            used += take
            need -= take
            if used == amount:
                idx, used = idx + 1, 0
        total = sum_taints(got)
        results.append(Taint(total.amount, total.mixed, total.conf_mass, total.hops + 1) if total else NO_TAINT)
    return results[:-1], results[-1]


UTXO_POLICIES = {"haircut": haircut_tx, "poison": poison_tx, "fifo": fifo_tx}
