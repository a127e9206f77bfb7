"""The trace: seeds -> reachable subgraph -> exact taint pass, chain after chain through bridges."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow.compute as pc

from trilateral.chain import ChainStore
from trilateral.core.amount import format_units
from trilateral.core.chains import normalise_address as shown_address
from trilateral.core.chains import tron_to_base58, tron_to_hex
from trilateral.core.errors import InputError
from trilateral.trace.account import AccountChain, BridgeLink, run_account_pass
from trilateral.trace.loader import (
    AccountGraph,
    bridge_in_rows,
    connect,
    contract_ids,
    load_account_graph,
    load_account_rows,
    opening_balances,
    tx_seed_rows,
)
from trilateral.trace.mixers import DEFAULT_HEURISTICS
from trilateral.trace.model import Injection, Role, TraceResult
from trilateral.trace.pools import (
    KNOWN_TORNADO_POOLS,
    PoolActivity,
    events_by_pool,
    first_funding,
    linkable,
    load_pool_transfers,
    pool_activity,
)
from trilateral.trace.reach import KIND_CODES, NEVER, subgraph_rows, time_respecting_reach
from trilateral.trace.roles import LabelSource, infer_deposit_addresses, role_from_labels
from trilateral.trace.services import frozen_by_events, mark_frozen
from trilateral.trace.taint import GAP_MODES, POLICIES
from trilateral.trace.utxo_pass import COINJOIN_POLICIES
from trilateral.trace.utxo_trace import trace_utxo_chain

EVM_TX = re.compile(r"^0x[0-9a-fA-F]{64}$")
EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
BTC_TX = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_ROUNDS = 6


@dataclass
class TraceOptions:
    policy: str = "haircut"
    after: int | None = None
    mixer_min_confidence: float = 0.5
    mixer_window: int = 30 * 86_400
    dust_fraction: float = 1e-5  # transfers below this share of an asset's stolen amount are not followed
    gaps: str = "taint"  # outflows beyond the known inflow: taint | clean | report (docs/tracing.md)
    mixer_heuristics: frozenset[str] = DEFAULT_HEURISTICS  # trace.mixers heuristics switched on
    coinjoin: str = "haircut"  # taint through a CoinJoin: haircut | poison (trace.utxo_pass)
    progress: Callable[[str], None] | None = None


@dataclass
class _ChainWork:
    address_seeds: dict[str, int] = field(default_factory=dict)  # address -> stolen from time
    tx_seeds: set[str] = field(default_factory=set)
    injections: list[Injection] = field(default_factory=list)


TRON_TX = re.compile(r"^(?:0x)?[0-9a-fA-F]{64}$")


def parse_seeds(chain: str, seeds: list[str]) -> tuple[list[str], list[str]]:
    """Split seed strings into (addresses, tx hashes); a clear error for anything else."""
    addresses, txs = [], []
    for raw in seeds:
        s = raw.strip()
        if not s:
            continue
        if chain == "bitcoin":
            (txs if BTC_TX.match(s) else addresses).append(s)
        elif chain == "tron" and TRON_TX.match(s):
            txs.append("0x" + s.lower().removeprefix("0x"))
        elif chain == "tron":
            addresses.append(tron_to_base58(tron_to_hex(s)))  # T… or 41…; a clear error otherwise
        elif EVM_TX.match(s):
            txs.append(s.lower())
        elif EVM_ADDRESS.match(s):
            addresses.append(s.lower())
        else:
            raise InputError(f"seed {s!r} is neither a transaction hash (0x + 64 hex) nor an address "
                             f"(0x + 40 hex) on {chain}")
    if not addresses and not txs:
        raise InputError("no seeds given: pass --from with transaction hashes and/or addresses")
    return addresses, txs


class Tracer:
    """Runs one trace over a chain store with a label source; keeps loaded graphs between runs."""

    def __init__(self, store: ChainStore, labels: LabelSource | None) -> None:
        self.store = store
        self.labels = labels
        self.graphs: dict[tuple[str, int], AccountGraph] = {}
        self._label_cache: dict[tuple[str, str], Role | None] = {}
        self._con = None
        self._links: list[dict] | None = None

    @property
    def con(self):
        """One DuckDB connection for the tracer's reads (a connection costs ~0.1 s to open)."""
        if self._con is None:
            self._con = connect()
        return self._con

    def say(self, options: TraceOptions, msg: str) -> None:
        if options.progress:
            options.progress(msg)

    def trace(self, chain: str, seeds: list[str], options: TraceOptions) -> TraceResult:
        if options.policy not in POLICIES:
            raise InputError(f"unknown policy {options.policy!r}: use one of {', '.join(POLICIES)}")
        if options.coinjoin not in COINJOIN_POLICIES:
            raise InputError(f"unknown --coinjoin {options.coinjoin!r}: use one of {', '.join(COINJOIN_POLICIES)}")
        if options.gaps not in GAP_MODES:
            raise InputError(f"unknown --gaps {options.gaps!r}: use one of {', '.join(GAP_MODES)}")
        if chain not in self.store.chains():
            raise InputError(f"chain {chain!r} is not in the chain store {self.store.root}: "
                             f"run `trilateral chain ingest --chain {chain} ...` first")
        started = time.perf_counter()
        addresses, txs = parse_seeds(chain, seeds)
        after = options.after
        work: dict[str, _ChainWork] = defaultdict(_ChainWork)
        work[chain].address_seeds = {a: after or 0 for a in addresses}
        work[chain].tx_seeds = set(txs)
        partials: dict[str, TraceResult] = {}
        done_injections: dict[str, int] = {}
        seed_list = [{"chain": chain, "address": a} for a in addresses] + \
                    [{"chain": chain, "tx_hash": t} for t in txs]
        for _ in range(MAX_ROUNDS):
            pending = [c for c, w in work.items()
                       if c not in partials or len(w.injections) != done_injections.get(c, 0)]
            if not pending:
                break
            for c in pending:
                if c not in self.store.chains():
                    partials.setdefault(c, TraceResult(options.policy))
                    done_injections[c] = len(work[c].injections)
                    for inj in work[c].injections:  # a chain we have no data for: the money leaves us
                        partials[c].flow("unresolved", c, inj.asset, inj.amount)
                    continue
                part = TraceResult(options.policy)
                self.say(options, f"tracing {c}")
                if self.store.model(c) == "utxo":
                    outgoing = trace_utxo_chain(self, c, work[c], part, options)
                else:
                    outgoing = self._trace_account(c, work[c], part, options)
                partials[c] = part
                done_injections[c] = len(work[c].injections)
                for inj in outgoing:
                    if inj not in work[inj.chain].injections:
                        work[inj.chain].injections.append(inj)
        result = _merge(options.policy, partials.values())
        mark_frozen(self, result)
        result.gaps = options.gaps
        result.seeds = seed_list
        result.theft_time = after if after is not None else result.theft_time
        result.seconds = time.perf_counter() - started
        return result

    def links(self) -> list[dict]:
        if self._links is None:
            self._links = self.store.crosschain_links().to_pylist()
        return self._links

    def services(self, result: TraceResult) -> set[tuple[str, str]]:
        """The trace's addresses never to be shared as the thief's (trace.services)."""
        from trilateral.trace.services import service_addresses

        return service_addresses(self, result)

    # -- labels ----------------------------------------------------------------------------------
    def roles_of(self, chain: str, texts: list[str]) -> list[Role | None]:
        missing = [t for t in texts if (chain, t) not in self._label_cache]
        if missing and self.labels is not None:
            for t, labels in zip(missing, self.labels.lookup(chain, missing), strict=True):
                self._label_cache[(chain, t)] = role_from_labels(labels)
        return [self._label_cache.get((chain, t)) for t in texts]

    # -- account model ---------------------------------------------------------------------------
    def _trace_account(self, chain: str, work: _ChainWork, result: TraceResult,
                       options: TraceOptions) -> list[Injection]:
        store = self.store
        seed_ids = dict(zip(store.address_ids(chain, list(work.address_seeds)).tolist(),
                            work.address_seeds.values(), strict=True))
        seed_ids.pop(-1, None)
        tx_rows = tx_seed_rows(self.con, store, chain, sorted(work.tx_seeds))
        if work.tx_seeds and tx_rows.num_rows == 0:
            raise InputError(f"seed transaction(s) {', '.join(sorted(work.tx_seeds))} not found on {chain}")
        if tx_rows.num_rows:
            result.theft_time = min(tx_rows.column("timestamp").to_pylist())
        inj_ids = store.address_ids(chain, [i.address for i in work.injections]).tolist()
        starts = list(seed_ids.values()) + tx_rows.column("timestamp").to_pylist() + \
            [i.timestamp for i, a in zip(work.injections, inj_ids, strict=True) if a >= 0]
        if not starts and not seed_ids:
            return []
        since = min(starts) if starts else 0
        key = (chain, since)
        if key not in self.graphs:
            self.say(options, f"loading {chain} transfers since {since}")
            self.graphs = {k: v for k, v in self.graphs.items() if k[0] != chain}
            self.graphs[key] = load_account_graph(self.con, store, chain, since)
        graph = self.graphs[key]
        result.transfers_scanned += len(graph)
        kind = np.zeros(graph.n_addresses, dtype=np.int8)
        roles: dict[int, Role] = {}

        events = store.events(chain)
        events = events.filter(pc.greater_equal(events.column("timestamp"), since))
        ev = {name: events.column(name).to_pylist() for name in
              ("timestamp", "tx_hash", "contract_id", "event", "to_id", "relayer_id", "fee_hi", "fee_lo")}
        ev["from_id"] = events.column("from_id").to_pylist()
        pool_events = events_by_pool(ev)
        known = [int(a) for a in store.address_ids(chain, list(KNOWN_TORNADO_POOLS)).tolist() if a >= 0]
        for pool in set(pool_events) | set(known):  # labelled pools join as the reach finds them
            roles[pool] = Role("mixer", "Tornado Cash", "mixing_service")
        activity: dict[int, PoolActivity] = {}

        def load_pools() -> None:
            if options.mixer_min_confidence > 1:
                return  # nothing can be linked: payouts stay plain (clean) transfers from the pool
            new = [a for a, r in roles.items() if r.kind == "mixer" and a not in activity]
            for pool, transfers in load_pool_transfers(self.con, store, chain, new, since).items():
                activity[pool] = pool_activity(pool, transfers, pool_events.get(pool, []))
        links = [lk for lk in self.links() if lk["in_chain"] == chain]
        in_ids = store.address_ids(chain, [lk["in_address"] for lk in links]) if links else np.zeros(0, np.int64)
        link_txs = [lk["in_tx"] for lk in links]
        link_senders = {int(a) for a in in_ids.tolist() if a >= 0}
        senders_done: set[int] = set()
        for address_id, role in roles.items():
            kind[address_id] = KIND_CODES[role.kind]

        reach = np.full(graph.n_addresses, NEVER, dtype=np.int64)

        def seed_reach() -> None:
            reach[:] = NEVER
            for a, t in seed_ids.items():
                reach[a] = min(reach[a], t)
            for ts, to in zip(tx_rows.column("timestamp").to_pylist(), tx_rows.column("to_id").to_pylist(),
                              strict=True):
                reach[to] = min(reach[to], ts)
            for inj, a in zip(work.injections, inj_ids, strict=True):
                if a >= 0:
                    reach[a] = min(reach[a], inj.timestamp)

        dust = _dust_thresholds(graph, seed_ids, tx_rows, work.injections, inj_ids, store.assets(chain),
                                options.dust_fraction)
        checked = np.zeros(graph.n_addresses, dtype=bool)
        seed_reach()
        for _ in range(50):
            time_respecting_reach(graph.from_id, graph.to_id, graph.timestamp, graph.tx_key, kind, reach,
                                  graph.amount_hi, graph.amount_lo, graph.asset_id, dust)
            grew = False
            load_pools()
            reached_pools = {p: int(reach[p]) for p in activity if reach[p] < NEVER}
            funded = first_funding(graph.from_id, graph.to_id, graph.timestamp, graph.asset_id, reach,
                                   sorted({w.to for p in reached_pools for w in activity[p].withdrawals})) \
                if "gas_funding" in options.mixer_heuristics else {}
            for w in linkable(activity, reached_pools, lambda a, t: bool(reach[a] <= t), options.mixer_window,
                              options.mixer_min_confidence, options.mixer_heuristics, funded):
                if reach[w.to] > w.timestamp:  # some heuristic could link it: its recipient is reached
                    reach[w.to] = w.timestamp
                    grew = True
            new = np.flatnonzero((reach < NEVER) & ~checked)
            checked[new] = True
            new_roles = False
            if new.size:
                texts = store.addresses(chain, new)
                for a, role in zip(new.tolist(), self.roles_of(chain, texts), strict=True):
                    if role is not None and a not in roles:
                        roles[a] = role
                        kind[a] = KIND_CODES[role.kind]
                        new_roles = True
            senders = [a for a in new.tolist() if a in link_senders and a not in senders_done]
            if senders:  # reached senders of cross-chain links: what they paid in those txs is a bridge
                senders_done.update(senders)
                for to_id in bridge_in_rows(self.con, store, graph, link_txs, np.asarray(senders, np.int64)):
                    if to_id not in roles:
                        roles[to_id] = Role("bridge", None, "bridge")
                        kind[to_id] = KIND_CODES["bridge"]
                        new_roles = True
            if new_roles:  # a stop node was passed through: sweep again from the seeds
                seed_reach()
                checked[:] = False
                continue
            if not grew:
                break
        plain = np.flatnonzero((reach < NEVER) & (kind == 0))
        result.reached_addresses += int(plain.size)
        self.say(options, f"{chain}: {plain.size} addresses reached; loading their transfers")
        rows = load_account_rows(self.con, store, graph, subgraph_rows(graph.from_id, graph.to_id, kind, reach,
                                                                        graph.timestamp))
        result.subgraph_transfers += len(rows)

        load_pools()
        ids = set(rows.from_id.tolist()) | set(rows.to_id.tolist()) | set(roles) | \
            {w.to for act in activity.values() for w in act.withdrawals}
        id_list = sorted(i for i in ids if i >= 0)
        texts = dict(zip(id_list, store.addresses(chain, id_list), strict=True))
        outflows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        first_in: dict[int, int] = {}
        for i in range(len(rows)):
            f, t, ts, amt = int(rows.from_id[i]), int(rows.to_id[i]), int(rows.timestamp[i]), rows.amount[i]
            if amt > 0:
                if reach[f] < NEVER and kind[f] == 0:
                    outflows[f].append((ts, t, amt))
                first_in.setdefault(t, ts)
        # roles of counterparties that the reach never had to check (e.g. senders of clean inflows)
        roles.update(infer_deposit_addresses(outflows, first_in, roles, set(seed_ids), texts))

        assets = store.assets(chain)
        symbols = dict(zip(assets.column("asset_id").to_pylist(), assets.column("symbol").to_pylist(), strict=True))
        contracts = dict(zip(assets.column("asset_id").to_pylist(), assets.column("contract").to_pylist(),
                             strict=True))
        for aid, sym in symbols.items():
            if contracts.get(aid):
                result.contracts[(chain, sym or f"asset:{aid}")] = shown_address(chain, str(contracts[aid]))
            result.decimals[(chain, sym or f"asset:{aid}")] = int(
                assets.column("decimals").to_pylist()[assets.column("asset_id").to_pylist().index(aid)])
        payouts = {(rows.tx_hash[i], int(rows.from_id[i]), int(rows.to_id[i])): rows.amount[i]
                   for i in range(len(rows)) if roles.get(int(rows.from_id[i]), Role("x")).kind == "mixer"}
        withdrawals = [w if w.amount else replace(w, amount=payouts.get((w.tx_hash, pool, w.to), 0))
                       for pool, act in activity.items() if reach[pool] < NEVER for w in act.withdrawals]
        deposit_times = {pool: act.deposit_times for pool, act in activity.items()}
        links_by_tx: dict[str, list[BridgeLink]] = defaultdict(list)
        for lk in links:
            links_by_tx[lk["in_tx"]].append(_bridge_link(lk))
        injections = []
        for inj, a in zip(work.injections, inj_ids, strict=True):
            if a >= 0:
                injections.append((inj.timestamp, a, _resolve_asset(inj.asset, symbols, contracts), inj.taint, inj))
            else:
                result.flow("unresolved", chain, inj.asset, inj.amount)
        acc = AccountChain(chain, rows, texts, {k: v or f"asset:{k}" for k, v in symbols.items()}, roles,
                           {a: t for a, t in seed_ids.items()}, set(work.tx_seeds), withdrawals,
                           dict(links_by_tx), injections, dict(deposit_times), gaps=options.gaps,
                           contracts=contract_ids(self.con, store, chain, id_list),
                           mixer_deposits={p: act.deposits for p, act in activity.items()},
                           mixer_heuristics=options.mixer_heuristics)
        outgoing = self._exact_pass(acc, result, options, since)
        frozen_by_events(result, chain, lambda: store.events(chain), lambda ids: store.addresses(chain, ids))
        coverage = store.coverage(chain)
        for (c, address, asset), amount in sorted(result.holdings.items()):
            held_since = result.holding_info.get((c, address, asset), (0.0, since))[1]
            if c == chain and not coverage.history_complete(address, held_since):
                units = format_units(amount, result.decimals.get((chain, asset), 18))
                result.warn("end_of_data", chain, address,
                            f"{address} holds {units} stolen {asset}, but the store does not have its history "
                            f"after it got them: the value may have moved on (add its transactions)")
        return outgoing

    def _exact_pass(self, acc: AccountChain, result: TraceResult, options: TraceOptions,
                    since: int) -> list[Injection]:
        """The exact pass; rerun once with the balances the store shows from before the window for
        the addresses that sent more than the window shows them receiving (so only true gaps stay)."""
        scratch = TraceResult(options.policy)
        outgoing = run_account_pass(acc, scratch, options.mixer_min_confidence, options.mixer_window)
        if scratch.unexplained:
            ids = {t: a for a, t in acc.address_text.items()}
            wanted = sorted({ids[u["address"]] for u in scratch.unexplained if u["address"] in ids})
            acc.opening = opening_balances(self.con, self.store, acc.chain, wanted, since)
            if acc.opening:
                scratch = TraceResult(options.policy)
                outgoing = run_account_pass(acc, scratch, options.mixer_min_confidence, options.mixer_window)
        _absorb(result, scratch)
        return outgoing


def _dust_thresholds(graph: AccountGraph, seed_ids: dict[int, int], tx_rows, injections: list[Injection],
                     inj_ids: list[int], assets, fraction: float) -> np.ndarray:
    """Per asset id: the smallest transfer the reach follows, `fraction` of the stolen amount of that
    asset (0 for assets not stolen, which only swaps can taint)."""
    n_assets = max([int(a) for a in assets.column("asset_id").to_pylist()] + [int(graph.asset_id.max(initial=0))]) + 1
    stolen = np.zeros(n_assets, dtype=np.float64)
    if seed_ids:
        ids = np.fromiter(seed_ids, dtype=np.int64)
        after = np.fromiter(seed_ids.values(), dtype=np.int64)
        lookup = dict(zip(ids.tolist(), after.tolist(), strict=True))
        mask = np.isin(graph.to_id, ids)
        for k in np.flatnonzero(mask):
            if graph.timestamp[k] >= lookup[int(graph.to_id[k])]:
                stolen[graph.asset_id[k]] += float(graph.amount_hi[k]) * 2.0**64 + float(graph.amount_lo[k])
    if tx_rows.num_rows:
        for a, v in zip(tx_rows.column("asset_id").to_pylist(), tx_rows.column("amount").to_pylist(), strict=True):
            stolen[int(a)] += float(v)
    for inj, a in zip(injections, inj_ids, strict=True):
        if a >= 0:
            stolen[0] += float(inj.amount)  # bridge exits arrive in the native asset in practice
    return stolen * fraction


def _bridge_link(lk: dict) -> BridgeLink:
    return BridgeLink(lk["in_tx"], (lk["in_address"] or "").lower() if (lk["in_address"] or "").startswith("0x")
                      else lk["in_address"], _int(lk["in_amount"]), lk["out_chain"], lk["out_tx"] or "",
                      lk["out_address"] or "", lk["out_asset"] or "", _int(lk["out_amount"]), int(lk["timestamp"]),
                      1.0 if lk.get("confidence") is None else float(lk["confidence"]))


def _int(text: str | None) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def _resolve_asset(name: str, symbols: dict[int, str], contracts: dict[int, str | None]) -> int:
    """Asset id of a link's asset name: 'ETH', 'ETH.ETH', 'ETH.USDT-0XDAC1…' (THORChain notation)."""
    tail = name.split(".", 1)[-1]
    sym, _, contract = tail.partition("-")
    if contract:
        for aid, c in contracts.items():
            if c and c.lower() == contract.lower():
                return aid
    for aid, s in symbols.items():
        if s and s.upper() == sym.upper():
            return aid
    return 0


def _merge(policy: str, parts) -> TraceResult:
    out = TraceResult(policy)
    for p in parts:
        _absorb(out, p)
    return out


def _absorb(out: TraceResult, p: TraceResult) -> None:
    """Add everything `p` found to `out` (chains of one trace, or an exact pass into its chain)."""
    for k, credit in p.offramps.items():
        o = out.offramps[k]
        o.taint_amount += credit.taint_amount
        o.mixed += credit.mixed
        o.conf_mass += credit.conf_mass
        o.hops = min(o.hops, credit.hops)
        o.first_seen = min(o.first_seen, credit.first_seen)
    out.roles.update(p.roles)
    for kind, flows in p.flows.items():
        for k, v in flows.items():
            out.flows[kind][k] += v
    for k, v in p.mixer_flows.items():
        out.mixer_flows[k] += v
    for k, v in p.stolen.items():
        out.stolen[k] += v
    out.edges.extend(p.edges)
    out.mixer_links.extend(p.mixer_links)
    out.coinjoins.extend(p.coinjoins)
    out.holdings.update(p.holdings)
    out.holding_info.update(p.holding_info)
    for k, v in p.presumed.items():
        out.presumed[k] += v
    out.unexplained.extend(p.unexplained)
    for w in p.warnings:
        out.warn(w["kind"], w["chain"], w["address"], w["detail"])
    out.frozen.update(p.frozen)
    out.victims |= p.victims
    out.contracts.update(p.contracts)
    out.decimals.update(p.decimals)
    if p.theft_time is not None:
        out.theft_time = p.theft_time if out.theft_time is None else min(out.theft_time, p.theft_time)
    out.transfers_scanned += p.transfers_scanned
    out.subgraph_transfers += p.subgraph_transfers
    out.reached_addresses += p.reached_addresses
