"""The trace's plain data: address roles, seeds, injections, tainted edges and results (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from trilateral.trace.taint import Taint

STEP_KINDS = ("dex_swap", "mixer", "bridge", "exchange", "unresolved")
WARNING_KINDS = ("seed_without_inflow", "outflow_exceeds_inflow", "end_of_data", "unlabelled_contract",
                 "nothing_found")
OFFRAMP_CATEGORIES = frozenset({"exchange", "otc", "payment_processor", "market"})


@dataclass(frozen=True)
class Role:
    """What a labelled (or inferred) address is to the trace. kind: exchange | deposit | dex |
    mixer | bridge. Exchanges and deposit addresses are off-ramps; the others are laundering steps."""

    kind: str
    entity: str | None = None
    category: str | None = None
    jurisdiction: str | None = None
    confidence: float = 1.0
    hot_wallet: str | None = None  # for deposit addresses: the exchange address it forwards to

    @property
    def is_offramp(self) -> bool:
        return self.kind in ("exchange", "deposit")


@dataclass(frozen=True)
class Injection:
    """Taint arriving at an address from outside the chain's own transfers: a bridge exit or a
    mixer withdrawal linked to tainted deposits. `tx_hash` locates it (UTXO: its output)."""

    chain: str
    timestamp: int
    address: str
    asset: str  # ticker or contract as the link names it; resolved against the chain's assets
    amount: int
    taint: Taint
    via: str  # bridge | mixer
    tx_hash: str | None = None
    evidence: str = ""
    source_chain: str | None = None
    source_address: str | None = None


@dataclass(frozen=True)
class Edge:
    """One tainted transfer, kept so `--explain` can walk paths back to the seeds."""

    chain: str
    timestamp: int
    tx_hash: str
    source: str  # address text
    target: str
    asset: str
    amount: int  # transfer amount
    tainted: int  # taint it carried
    confidence: float
    kind: str  # transfer | dex_swap | mixer | bridge | exchange | seed
    target_chain: str | None = None  # for bridge edges: the chain of `target`


@dataclass
class OfframpCredit:
    taint_amount: int = 0
    mixed: int = 0
    conf_mass: float = 0.0
    hops: int = 1 << 30
    first_seen: int = 1 << 62

    def add(self, taint: Taint, timestamp: int) -> None:
        self.taint_amount += taint.amount
        self.mixed += taint.mixed
        self.conf_mass += taint.conf_mass
        self.hops = min(self.hops, taint.hops)
        self.first_seen = min(self.first_seen, timestamp)


@dataclass
class TraceResult:
    """Everything one trace found, across chains; `findings.build_findings` turns it into JSON."""

    policy: str
    offramps: dict[tuple[str, str, str], OfframpCredit] = field(default_factory=lambda: defaultdict(OfframpCredit))
    roles: dict[tuple[str, str], Role] = field(default_factory=dict)
    flows: dict[str, dict[tuple[str, str], int]] = field(
        default_factory=lambda: {k: defaultdict(int) for k in STEP_KINDS})
    mixer_flows: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    stolen: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    edges: list[Edge] = field(default_factory=list)
    mixer_links: list[dict] = field(default_factory=list)
    coinjoins: list[dict] = field(default_factory=list)  # CoinJoin transactions taint crossed (trace.utxo_pass)
    holdings: dict[tuple[str, str, str], int] = field(default_factory=dict)  # tainted value left at addresses
    seeds: list[dict] = field(default_factory=list)
    theft_time: int | None = None
    transfers_scanned: int = 0
    subgraph_transfers: int = 0
    reached_addresses: int = 0
    seconds: float = 0.0
    decimals: dict[tuple[str, str], int] = field(default_factory=dict)
    gaps: str = "taint"  # how unexplained outflows were treated (taint.GAP_MODES)
    holding_info: dict[tuple[str, str, str], tuple[float, int]] = field(default_factory=dict)  # conf, since
    presumed: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # gap value tainted
    unexplained: list[dict] = field(default_factory=list)  # outflows beyond what the data shows received
    warnings: list[dict] = field(default_factory=list)  # {kind, chain, address, detail}
    frozen: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # holding key -> findings' `frozen` row
    victims: set[tuple[str, str]] = field(default_factory=set)  # where the stolen value came from
    contracts: dict[tuple[str, str], str] = field(default_factory=dict)  # (chain, asset symbol) -> token contract

    def warn(self, kind: str, chain: str, address: str | None, detail: str) -> None:
        """Record one warning; the same (kind, chain, address) is kept once (the first detail)."""
        if not any(w["kind"] == kind and w["chain"] == chain and w["address"] == address for w in self.warnings):
            self.warnings.append({"kind": kind, "chain": chain, "address": address, "detail": detail})

    def flow(self, kind: str, chain: str, asset: str, amount: int) -> None:
        if amount:
            self.flows[kind][(chain, asset)] += amount
