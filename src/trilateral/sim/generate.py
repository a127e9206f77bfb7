"""`trilateral sim generate`: one scenario in a simulated economy, written in the real tools' formats.

Order of work: draw the world; plan the thief's Ethereum moves; total (pass 1) what every background
account will send so the genesis phase can fund it; stream Ethereum chunk by chunk (background +
event-driven rows per block range); then the Bitcoin chain block by block; then Midgard, labels,
incident and ground truth. Output goes to a hidden sibling directory renamed into place at the end,
so an interrupted run leaves no half-written OUT_DIR.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from trilateral.core.errors import InputError
from trilateral.sim import eth_actions
from trilateral.sim.btc_chain import BtcChain
from trilateral.sim.btc_laundering import BtcLaunderer
from trilateral.sim.eth_background import (
    TRANSFERS_PER_EVENT,
    ZipfSampler,
    draw_core,
    layout_of,
    payer_totals,
    to_columns,
)
from trilateral.sim.eth_events import HONEST_EVENT_SHARE, HonestActivity, btc_out_sats, funding_columns
from trilateral.sim.eth_tables import EthWriter, concat_columns, events_to_columns
from trilateral.sim.ledger import GroundTruth, Ledger, iso
from trilateral.sim.metadata import write_incident, write_labels
from trilateral.sim.plan import Plan
from trilateral.sim.scenarios import SCENARIOS
from trilateral.sim.thorchain import write_actions
from trilateral.sim.world import GENESIS_TIME, GWEI, TOKENS, build_world

EVENTS_PER_CHUNK = 150_000
FUNDING_PER_BLOCK = 3_000
BTC_SHARE = 0.05
MIN_TRANSFERS = 5_000
Progress = Callable[[str, float], None]


def generate(scenario: str, transfers: int, seed: int, out_dir: Path, progress: Progress | None = None,
             start: int | None = None, partition_blocks: int | None = None) -> dict:
    """Write the scenario's files into `out_dir` (must not exist or be empty); returns a summary.

    `start` is the unix time of block 0 (default 2026-01-01T00:00:00Z); the same seed and start give the
    same files. `partition_blocks` writes Ethereum in ethereum-etl's partitioned `export_all` layout
    (see EthWriter); the rows are the same.
    """
    from trilateral.sim.multichain import NAME as MULTICHAIN

    if scenario not in SCENARIOS and scenario != MULTICHAIN:
        raise InputError(f"unknown scenario {scenario!r}; choose one of {', '.join([*SCENARIOS, MULTICHAIN])} "
                         "(trilateral sim list)")
    if transfers < MIN_TRANSFERS:
        raise InputError(f"--transfers {transfers} is too small: use at least {MIN_TRANSFERS}")
    if seed < 0:
        raise InputError(f"--seed {seed} must be a non-negative integer")
    if partition_blocks is not None and partition_blocks < 1:
        raise InputError(f"--partition-blocks {partition_blocks} must be at least 1")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir} exists and is not an empty directory; choose a new OUT_DIR")
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if scenario == MULTICHAIN:  # Ethereum, BSC and Tron: its own generator (sim.multichain)
            from trilateral.sim.multichain import generate_bridge_tron

            summary = generate_bridge_tron(transfers, seed, tmp, start if start is not None else GENESIS_TIME)
        else:
            summary = _generate(SCENARIOS[scenario], transfers, seed, tmp, progress or (lambda stage, done: None),
                                start if start is not None else GENESIS_TIME, partition_blocks)
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _generate(scenario, transfers: int, seed: int, out: Path, progress: Progress, start: int,
              partition_blocks: int | None = None) -> dict:
    world_rng = np.random.default_rng([seed, 0])
    world = build_world(seed, transfers, world_rng, start)
    layout = layout_of(world)
    ledger, truth = Ledger(), GroundTruth(scenario.name, seed, transfers, scenario_steps=list(scenario.steps))
    plan = Plan(world, seed, ledger, truth)
    scenario.plan_eth(plan)

    # genesis phase size (upper bound, so it is known before pass 1)
    funding_rows = 4 * layout.size + 2 * len(world.retail) + 16
    first_bg = 1 + math.ceil(funding_rows / FUNDING_PER_BLOCK) + 1
    if min((e.block for e in plan.events), default=world.eth_blocks) <= first_bg:
        raise RuntimeError("laundering planned inside the funding phase")
    eth_budget = transfers * (1 - BTC_SHARE) - funding_rows - 2 * HONEST_EVENT_SHARE * transfers
    n_events = max(0, int(eth_budget / TRANSFERS_PER_EVENT))
    span = world.eth_blocks - first_bg
    chunk_blocks = max(1, math.ceil(span * EVENTS_PER_CHUNK / max(1, n_events)))
    chunks = [(c, b0, min(world.eth_blocks, b0 + chunk_blocks))
              for c, b0 in enumerate(range(first_bg, world.eth_blocks, chunk_blocks))]
    per_chunk = [int(n_events * (b1 - first_bg) / span) - int(n_events * (b0 - first_bg) / span) for _, b0, b1 in chunks]
    sampler = ZipfSampler(layout.n_users, 1.1, world_rng)

    # pass 1: what every background payer will send (array units: gwei for 18 decimals)
    totals = np.zeros((layout.size, len(TOKENS)), dtype=np.uint64)
    for (c, b0, b1), n in zip(chunks, per_chunk, strict=True):
        payer_totals(draw_core(world, layout, sampler, seed, c, b0, b1, n), layout, totals)
        progress("plan", (c + 1) / len(chunks) * 0.1)
    for asset_id, wei in plan.pool_reserve_wei.items():
        totals[layout.n_users + len(layout.hot) + asset_id - 1, 0] += np.uint64(wei // GWEI + 1)
    funding = list(_funding(world, layout, totals, plan, ledger, seed, world_rng))
    honest = HonestActivity(world, ledger, seed, first_bg)
    plan_events = sorted(plan.events + honest.bridges_upfront(), key=lambda e: e.block)
    swaps = honest.bridges + plan.bridges

    # Everything that does not depend on the Ethereum stream (Bitcoin, Midgard, labels, incident, ground
    # truth: the thief's Ethereum moves are all planned by now) runs in a forked process alongside it.
    side = _start(_bitcoin_and_side_files, scenario, world, plan, ledger, truth, swaps, transfers, out)
    eth = _ethereum(world, layout, sampler, seed, chunks, per_chunk, first_bg, funding, honest, plan_events,
                    out, progress, partition_blocks)
    side_summary = _finish(side, out)
    progress("done", 1.0)
    return {"scenario": scenario.name, "seed": seed, "transfers_requested": transfers,
            "transfers_written": eth["value_transfers"] + side_summary["bitcoin_outputs"],
            "ethereum_rows": eth["rows"], **side_summary}


def _ethereum(world, layout, sampler, seed, chunks, per_chunk, first_bg, funding, honest, plan_events, out,
              progress, partition_blocks: int | None = None) -> dict:
    """Stream ethereum/*.csv: the funding phase, then background + event-driven rows chunk by chunk."""
    writer = EthWriter(out / "ethereum", world, partition_blocks)
    writer.write_tokens(TOKENS)
    writer.write_chunk(0, first_bg, *funding)
    funding.clear()  # the genesis phase can be large (every account); free it before streaming
    leaf_counters: dict[str, int] = {}
    cursor = 0
    # CSV writing (pyarrow, GIL released) of chunk c overlaps drawing chunk c+1; at most two in memory
    pool = ThreadPoolExecutor(max_workers=1)
    pending = None
    for (c, b0, b1), n in zip(chunks, per_chunk, strict=True):
        core = draw_core(world, layout, sampler, seed, c, b0, b1, n)
        tx, tt, log, trace, (tx_base, log_base) = to_columns(world, layout, core, seed, c)
        events = honest.chunk(b0, b1, c)
        while cursor < len(plan_events) and plan_events[cursor].block < b1:
            events.append(plan_events[cursor])
            cursor += 1
        events.sort(key=lambda e: e.block)
        eth_actions.assign_leaf_indexes(events, leaf_counters)
        ev = events_to_columns(events, tx_base, log_base, world)
        if pending is not None:
            pending.result()
        pending = pool.submit(writer.write_chunk, b0, b1, concat_columns([tx, ev["tx"]]),
                              concat_columns([tt, ev["tt"]]), concat_columns([log, ev["log"]]),
                              concat_columns([trace, ev["trace"]]))
        progress("ethereum", 0.1 + 0.85 * (c + 1) / len(chunks))
    if pending is not None:
        pending.result()
    pool.shutdown()
    writer.close()
    return {"value_transfers": writer.value_transfers, "rows": dict(writer.rows)}


def _bitcoin_and_side_files(scenario, world, plan, ledger, truth, swaps, transfers, out) -> dict:
    """bitcoin/transactions.json, thorchain/actions.json, labels, actors, incident, ground truth."""
    (out / "bitcoin").mkdir()
    chain = BtcChain(world, world.seed, out / "bitcoin" / "transactions.json", int(transfers * BTC_SHARE / 2))
    btc_rng = chain.rng
    launderer = BtcLaunderer(chain, ledger, truth)
    vault_need = sum(btc_out_sats(s.wei)[0] + 2_000 for s in swaps) + 10**8
    genesis = [(world.thor_btc_vault, vault_need)]
    tracked = {world.thor_btc_vault}
    if scenario.plan_btc is not None:
        victim_sats = int(plan.rng.integers(300, 1_200)) * 10**8
        genesis.append((world.victim_btc, victim_sats))
        tracked.add(world.victim_btc)
        ledger.credit("bitcoin", world.victim_btc, "BTC", victim_sats)
    genesis += [(ex.btc_hot[0], 50 * 10**8) for ex in world.exchanges]
    genesis += [(u, int(btc_rng.integers(1, 40)) * 10**7) for u in world.btc_users[:2_000]]
    route = scenario.route_btc(plan, launderer)
    for swap in swaps:
        height = world.btc_height_at(swap.time) + int(btc_rng.integers(1, 4))
        chain.at(height, lambda h, s=swap: launderer.payout(h, s, route if s.thief else None))
    if scenario.plan_btc is not None:
        scenario.plan_btc(plan, launderer)
    chain.run(genesis, tracked, lambda h: None)

    n_actions = write_actions(out / "thorchain" / "actions.json", swaps, world.btc_time)
    write_labels(out, world, iso(world.eth_time(0))[:10])
    decimals = {t.symbol: t.decimals for t in TOKENS} | {"BTC": 8}
    document = truth.document(ledger, decimals)
    document["theft_time"] = iso(truth.theft_time) if truth.theft_time else None
    write_incident(out, scenario.name, scenario.summary, world.seed, truth.theft_time or world.eth_time(0),
                   document["stolen"])
    (out / "ground_truth.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return {"bitcoin_transactions": chain.transactions_written, "bitcoin_outputs": chain.outputs_written,
            "thorchain_actions": n_actions, "offramps": len(document["offramps"]),
            "steps": len(document["steps"])}


SIDE_SUMMARY = ".side-summary.json"


def _side_entry(function, args, out: Path) -> None:
    try:
        summary = function(*args)
    except BaseException as exc:  # reported by the parent as one line
        (out / SIDE_SUMMARY).write_bytes(orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        os._exit(1)
    (out / SIDE_SUMMARY).write_bytes(orjson.dumps(summary))
    os._exit(0)


def _start(function, *args):
    """Run `function(*args)` in a forked child (its result lands in OUT/.side-summary.json); in-process
    where fork is unavailable."""
    out = args[-1]
    if "fork" not in mp.get_all_start_methods():
        return function(*args)
    process = mp.get_context("fork").Process(target=_side_entry, args=(function, args, out), daemon=True)
    process.start()
    return process


def _finish(side, out: Path) -> dict:
    if isinstance(side, dict):
        return side
    side.join()
    path = out / SIDE_SUMMARY
    result = orjson.loads(path.read_bytes()) if path.exists() else {"error": f"exit code {side.exitcode}"}
    path.unlink(missing_ok=True)
    if "error" in result:
        raise RuntimeError(f"Bitcoin/side-file generation failed: {result['error']}")
    return result


def _funding(world, layout, totals: np.ndarray, plan: Plan, ledger: Ledger, seed: int, rng) -> tuple:
    """Faucet payments and token mints covering everything each account will send, plus slack."""
    payees, assets, units = [], [], []
    slack = (rng.pareto(1.5, layout.size) * 2e7 + 1e7).astype(np.uint64)  # 0.01 ETH and up, in gwei
    background = pa.concat_arrays([world.users, pa.array(layout.hot + layout.pools)])
    for asset in range(len(TOKENS)):
        need = totals[:, asset]
        who = np.arange(layout.size) if asset == 0 else np.flatnonzero(need)
        payees.append(background.take(pa.array(who)))
        assets.append(np.full(len(who), asset))
        units.append(need[who] + (slack[who] if asset == 0 else np.uint64(1_000)))
    extra_payees, extra_assets, extra_units = [], [], []
    for address in world.retail:
        eth = int(rng.pareto(1.2) * 2e9 + 1e8)  # gwei
        extra_payees.append(address), extra_assets.append(0), extra_units.append(eth)
        ledger.credit("ethereum", address, "ETH", eth * GWEI)
        if rng.random() < 0.3:
            usdt = int(rng.pareto(1.2) * 2e9 + 1e8)
            extra_payees.append(address), extra_assets.append(1), extra_units.append(usdt)
            ledger.credit("ethereum", address, "USDT", usdt)
    symbol_id = {t.symbol: t for t in TOKENS}
    for symbol, amount in plan.victim_funding.items():
        token = symbol_id[symbol]
        extra_payees.append(world.victim_eth), extra_assets.append(token.asset_id)
        extra_units.append(amount // token.scale)
    payees.append(pa.array(extra_payees, type=pa.string()))
    assets.append(np.array(extra_assets, dtype=np.int64))
    units.append(np.array(extra_units, dtype=np.uint64))
    return funding_columns(world, pa.concat_arrays(payees), np.concatenate(assets).astype(np.int64),
                           np.concatenate(units).astype(np.uint64), 1, FUNDING_PER_BLOCK, seed)
