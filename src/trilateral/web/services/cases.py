"""The Cases screen: trace findings and freeze requests found in the data directory, read through the
hub's policy (a case is an object with a marking: AMBER+STRICT unless its file says otherwise), and
freeze requests the hub shares with a client exchange.

A case is a directory holding `findings.json` (the `trace --json` contract, DESIGN.md §4; optional
keys read here: `name`, `tlp`, `owner`, `incident` and `edges`, a list of tainted flows
{from, to, chain, asset, amount_base_units, confidence, kind}) and, when requests were issued,
`freeze/freeze_requests.json` or `freeze_requests.json` beside it. Cases are found under
`$TRILATERAL_HOME/cases/*/` and, for the demo, `$TRILATERAL_HOME/out/`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from trilateral.core.amount import format_units
from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.trace.freeze import STATUSES, update_status
from trilateral.web.services.graph import Flow, build_graph, decimals_from_offramps, decimals_of, path_to

FREEZE_TYPE = "x-trilateral-freeze-request"
FREEZE_WINDOW_DAYS = 90
_CACHE: dict[Path, tuple[float, Case]] = {}


@dataclass
class Case:
    id: str
    name: str
    path: Path
    findings: dict[str, Any]
    freeze_path: Path | None
    freeze_requests: list[dict[str, Any]] = field(default_factory=list)
    tlp: Tlp = Tlp.AMBER_STRICT
    owner: str = ""
    owner_member: str = ""
    recipients: frozenset[str] = frozenset()
    graphs: dict[None, dict[str, Any]] = field(default_factory=dict)  # built once (default budget)

    @property
    def meta(self) -> ObjectMeta:
        return ObjectMeta(self.tlp, self.owner, self.owner_member, self.recipients)

    @property
    def seeds(self) -> set[str]:
        return {s.get("address") or s.get("tx_hash") or "" for s in self.findings.get("seeds", [])} - {""}

    @property
    def holdings(self) -> list[dict[str, Any]]:
        """The findings' holdings with their amount in whole units beside the base units."""
        decimals = decimals_from_offramps(self.findings.get("offramps") or [])
        return [{**h, "amount": format_units(int(h.get("amount_base_units", 0)), decimals_of(h.get("asset", ""), decimals))}
                for h in self.findings.get("holdings") or ()]

    @property
    def unanswered(self) -> list[dict[str, Any]]:
        return [r for r in self.freeze_requests if r.get("status", "requested") == "requested"]


def case_files(home: Path) -> list[Path]:
    """findings.json files of cases under the data directory (cases/*/ and the demo's out/)."""
    found = sorted(home.glob("cases/*/findings.json")) + sorted(home.glob("out/findings.json"))
    return [p for p in found if p.is_file()]


def _freeze_file(case_dir: Path) -> Path | None:
    for candidate in (case_dir / "freeze" / "freeze_requests.json", case_dir / "freeze_requests.json"):
        if candidate.is_file():
            return candidate
    return None


def _default_name(path: Path, findings: dict[str, Any]) -> str:
    """The case directory's name; for the demo's out/, the theft's first seed."""
    if path.parent.name != "out":
        return path.parent.name
    seed = next(iter(findings.get("seeds") or []), {})
    ident = seed.get("address") or seed.get("tx_hash") or "?"
    return f"Theft from {ident[:12]}… ({seed.get('chain', '?')}, demo)"


def load_case(path: Path) -> Case:
    """A case from its findings file (cached until the file or its freeze requests change)."""
    freeze = _freeze_file(path.parent)
    stamp = path.stat().st_mtime + (freeze.stat().st_mtime if freeze else 0.0)
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        findings = orjson.loads(path.read_bytes())
        requests = orjson.loads(freeze.read_bytes()).get("requests", []) if freeze else []
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the case ({exc})") from None
    owner = str(findings.get("owner") or "").upper()
    try:
        tlp = Tlp.parse(findings["tlp"]) if findings.get("tlp") else Tlp.AMBER_STRICT
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    case = Case(id=hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12],
                name=str(findings.get("name") or _default_name(path, findings)), path=path, findings=findings,
                freeze_path=freeze, freeze_requests=requests, tlp=tlp, owner=owner,
                owner_member=str(findings.get("owner_member") or owner).upper(),
                recipients=frozenset(str(c).upper() for c in findings.get("recipients") or ()))
    _CACHE[path] = (stamp, case)
    return case


def visible_cases(home: Path, principal: Principal) -> list[Case]:
    """Every case the principal may read, decided by the hub's policy function."""
    return [c for c in map(load_case, case_files(home)) if may_read(principal, c.meta)]


def get_case(home: Path, principal: Principal, case_id: str) -> Case | None:
    return next((c for c in visible_cases(home, principal) if c.id == case_id), None)


def flows_of(case: Case) -> list[Flow]:
    """The case's tainted flows: its `edges` when present, else the freeze requests' evidence paths,
    plus one summary flow seed → off-ramp/holding for every end point no path reaches."""
    out: list[Flow] = []
    for e in case.findings.get("edges") or ():
        out.append(Flow(e["from"], e["to"], e.get("chain", ""), e.get("asset", ""), int(e["amount_base_units"]),
                        float(e.get("confidence", 1.0)), e.get("kind", "transfer")))
    if not out:
        for r in case.freeze_requests:
            for d in r.get("deposit_addresses", ()):
                for p in d.get("evidence", ()):
                    for s in p.get("steps", ()):
                        out.append(Flow(s["from"], s["to"], s.get("chain", ""), s.get("asset", ""),
                                        int(s.get("amount_base_units", 0)), float(s.get("confidence", 1.0)),
                                        s.get("kind", "transfer")))
        out = list({(f.source, f.target, f.asset, f.amount): f for f in out}.values())
    reached = {f.target for f in out}
    seed = next(iter(sorted(seed_nodes(case, out))), None)
    for kind in ("offramps", "holdings"):
        for o in case.findings.get(kind) or ():
            if seed and o["address"] not in reached:
                out.append(Flow(seed, o["address"], o.get("chain", ""), o.get("asset", ""),
                                int(o.get("amount_base_units", 0)), float(o.get("confidence", 1.0)),
                                f"summary ({o.get('hops', '?')} hops)"))
    return out


def seed_nodes(case: Case, flows: list[Flow]) -> set[str]:
    """Where the graph starts: the seed addresses; for seeds given as transactions, the addresses the
    flows start from (senders that receive nothing in the case)."""
    addresses = {s["address"] for s in case.findings.get("seeds", []) if s.get("address")}
    if addresses:
        return addresses
    return {f.source for f in flows} - {f.target for f in flows} or set(case.seeds)


def roles_and_labels(case: Case, flows: list[Flow]) -> tuple[dict[str, str], dict[str, str]]:
    seeds = seed_nodes(case, flows)
    roles = {s: "seed" for s in seeds}
    labels = {s: f"seed {s[:10]}…" for s in seeds}
    for h in case.findings.get("holdings") or ():
        roles.setdefault(h["address"], "holding")
    for o in case.findings.get("offramps") or ():
        roles.setdefault(o["address"], "offramp")
        if o.get("entity"):
            labels[o["address"]] = str(o["entity"])
    return roles, labels


def case_graph(case: Case, node_budget: int | None = None) -> dict[str, Any]:
    """The case's graph for the browser; kept with the cached case until its files change."""
    if node_budget is None and None in case.graphs:
        return case.graphs[None]
    flows = flows_of(case)
    roles, labels = roles_and_labels(case, flows)
    kwargs = {"node_budget": node_budget} if node_budget else {}
    graph = build_graph(flows, roles, labels,
                        decimals=decimals_from_offramps(case.findings.get("offramps") or []), **kwargs)
    if node_budget is None:
        case.graphs[None] = graph
    return graph


def explain_address(case: Case, address: str) -> dict[str, Any]:
    """What the case knows of one address: its role and labels, its evidence paths (freeze requests)
    or else the shortest path of flows from a seed."""
    flows = flows_of(case)
    roles, labels = roles_and_labels(case, flows)
    facts = [o for kind in ("offramps", "holdings") for o in case.findings.get(kind) or () if o["address"] == address]
    evidence = [p for r in case.freeze_requests for d in r.get("deposit_addresses", ())
                if d.get("address") == address for p in d.get("evidence", ())]
    if not evidence:
        path = path_to(flows, seed_nodes(case, flows), address)
        if path:
            evidence = [{"hops": len(path), "confidence": min(f.confidence for f in path),
                         "steps": [{"from": f.source, "to": f.target, "asset": f.asset, "chain": f.chain,
                                    "amount_base_units": str(f.amount), "confidence": f.confidence,
                                    "kind": f.kind} for f in path]}]
    return {"address": address, "role": roles.get(address, "address"), "label": labels.get(address),
            "findings": facts, "paths": evidence[:3]}


def record_answer(case: Case, exchange: str, status: str, frozen: list[tuple[str, str, int]]) -> dict[str, Any]:
    """An exchange's answer to a freeze request, written through trace.freeze.update_status."""
    if case.freeze_path is None:
        raise InputError(f"case {case.name} has no freeze requests")
    if status not in STATUSES:
        raise InputError(f"status {status!r} unknown: use one of {', '.join(STATUSES)}")
    return update_status(case.freeze_path, exchange, status, frozen)


def parse_frozen(text: str) -> list[tuple[str, str, int]]:
    """Lines 'chain asset base_units' (integers in base units, as the exchange reports them)."""
    out = []
    for n, line in enumerate((text or "").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or not (parts[2].isascii() and parts[2].isdigit()):
            raise InputError(f"frozen amounts line {n}: write 'chain asset base_units', e.g. 'ethereum ETH 1000'")
        out.append((parts[0], parts[1], int(parts[2])))
    return out


def shared_freeze_requests(hub: Any, principal: Principal, limit: int = 200) -> list[dict[str, Any]]:
    """Freeze requests the hub lets this principal read (a client exchange reads those addressed to it)."""
    since = datetime.now(UTC) - timedelta(days=FREEZE_WINDOW_DAYS)  # an index seek, not a scan of the store
    page = hub.query(principal, collection=None, added_after=since, types=[FREEZE_TYPE], limit=limit)
    return [{**r.object, "_tlp": r.tlp, "_submitter": r.submitted_by} for r in page.records]
