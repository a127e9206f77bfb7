"""`trilateral demo`: a fresh home, three members and two client exchanges, a simulated Lazarus-style
theft generated, ingested, attributed, traced, frozen, shared over the hub and reported on.

Each step calls the capability packages directly (the same code the CLI commands call), so the demo
exercises the product rather than a copy of it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trilateral.core.errors import ConfigurationError
from trilateral.core.principal import Principal
from trilateral.core.settings import Settings
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp

MARKER = ".trilateral-demo"
SCENARIO = "lazarus-bridge-hack"
# Two client exchanges the demo sponsors; their names match exchanges of the simulated economy, so the
# freeze requests routed to KR and JP concern them.
CLIENTS = (("HANGANG", "Hangang Exchange", "KR"), ("SAKURA", "Sakura Exchange", "JP"))
# Said when there is no ATT&CK data: true for `trilateral demo` and for `make demo` (whose DEMO_ARGS come
# after its own --attack, and the last --attack wins), and for data stored beforehand in the user's
# data dir, which the demo reads when --attack is not given (cli/demo_command.attack_in_data_dir).
SKIPPED_SCORING = ("skipped scoring: no ATT&CK data (pass --attack FILE, or with make "
                   "`make demo DEMO_ARGS=\"--attack FILE\"`; or first store it in your data dir "
                   "($TRILATERAL_HOME, default ~/.trilateral) with `trilateral refdata update` (online) or "
                   "`trilateral refdata import FILE`)")


@dataclass
class DemoOptions:
    home: Path
    transfers: int = 1_000_000
    seed: int = 7
    attack: Path | None = None
    incidents_csv: Path | None = None
    policy: str = "haircut"


@dataclass
class StepRecord:
    name: str
    seconds: float
    detail: str
    ok: bool = True


@dataclass
class DemoSummary:
    """What the demo did, for the closing table and for tests."""

    home: Path
    quarter: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    stolen: list[dict[str, str]] = field(default_factory=list)
    findings: dict[str, Any] = field(default_factory=dict)
    freeze_requests: list[dict[str, Any]] = field(default_factory=list)
    written: dict[str, Path] = field(default_factory=dict)
    incident_id: str | None = None


def recent_start(now: datetime) -> int:
    """Block 0 of the simulated chains: 21 days ago (the simulation spans 20 days), but not before the
    current quarter began, so the theft, the freeze requests and the sharing fall in this quarter's report."""
    quarter_start = datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(max(quarter_start, day - timedelta(days=21)).timestamp())


def prepare_home(home: Path) -> None:
    """Start from an empty home; only a previous demo's home (marker file) is ever deleted."""
    home = home.expanduser()
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            raise ConfigurationError(f"{home} is not empty and was not made by `trilateral demo`: "
                                     "choose another --home (nothing was deleted)")
        shutil.rmtree(home)
    try:
        home.mkdir(parents=True, exist_ok=True)
        (home / MARKER).write_text("made by `trilateral demo`; the next demo run may delete this directory\n")
    except OSError as exc:
        raise ConfigurationError(f"cannot write the demo home {home}: {exc.strerror}; "
                                 "choose a writable --home") from None


class Demo:
    """Runs the steps in order; `step` is called with (name, function) by the presenter."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        home = options.home.expanduser().resolve()
        self.settings = Settings(home=home, database_url=f"sqlite:///{home / 'hub.sqlite3'}")
        self.summary = DemoSummary(home=home)
        self.sim_dir = home / "sim"
        self.out_dir = home / "out"
        self._hub: Any = None

    @property
    def hub(self) -> Any:
        if self._hub is None:
            from trilateral.hub import Hub

            self._hub = Hub.open(self.settings)
        return self._hub

    def principal(self, code: str) -> Principal:
        return self.hub.principal(code)

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("Create members and client exchanges", self.create_members),
            (f"Simulate '{SCENARIO}' ({self.options.transfers:,} transfers)", self.simulate),
            ("Ingest chains, cross-chain swaps and labels", self.ingest),
            ("Attribute the incident (MITRE ATT&CK)", self.attribute),
            (f"Trace the theft ({self.options.policy})", self.trace),
            ("Issue freeze requests to the exchanges' members", self.freeze),
            ("Share findings over the hub (STIX 2.1, TLP:AMBER)", self.share),
            ("Record sightings by the other members", self.sightings),
            ("Register incidents and the group's actions", self.registers),
            ("Render the quarterly joint assessment", self.reports),
        ]

    # -- steps ---------------------------------------------------------------------------------------------
    def create_members(self) -> str:
        prepare_home(self.settings.home)
        for principal, token in self.hub.init():
            self.summary.tokens[principal.code] = token
        for code, name, sponsor in CLIENTS:
            principal, token = self.hub.add_principal(code, name, client_of=sponsor)
            self.summary.tokens[principal.code] = token
        return ", ".join(f"{c}" for c in self.summary.tokens)

    def simulate(self) -> str:
        from trilateral.sim import generate

        info = generate(SCENARIO, self.options.transfers, self.options.seed, self.sim_dir, lambda *_: None,
                        start=recent_start(datetime.now(UTC)))
        truth = json.loads((self.sim_dir / "ground_truth.json").read_text())
        self.summary.stolen = truth["stolen"]
        theft = datetime.fromisoformat(truth["theft_time"].replace("Z", "+00:00"))
        self.summary.quarter = f"{theft.year}Q{(theft.month - 1) // 3 + 1}"
        self.summary.written["simulated chains"] = self.sim_dir
        return f"{info['transfers_written']:,} transfers, theft at {truth['theft_time']}"

    def ingest(self) -> str:
        from trilateral.chain import ChainStore
        from trilateral.chain.ingest import ingest
        from trilateral.labels import LabelStore

        chain_dir = self.settings.chain_dir
        ingest(chain_dir, fmt="etl", chain="ethereum", source=str(self.sim_dir / "ethereum"), show_progress=False)
        ingest(chain_dir, fmt="etl", chain="bitcoin", source=str(self.sim_dir / "bitcoin" / "transactions.json"),
               show_progress=False)
        ingest(chain_dir, fmt="midgard", source=str(self.sim_dir / "thorchain" / "actions.json"), show_progress=False)
        labels = LabelStore(self.settings)
        labels.import_file(self.sim_dir / "actors.yaml")
        labels.import_file(self.sim_dir / "labels.yaml")
        stats = ChainStore(chain_dir).stats()
        parts = [f"{name} {s['transfers']:,} transfers" for name, s in stats["chains"].items()]
        return ", ".join(parts) + f", {stats['crosschain']['links']:,} cross-chain links"

    def attribute(self) -> str:
        from trilateral.attribution.service import attribute_file, share_attribution
        from trilateral.refdata.update import import_attack

        incident_file = self._marked_incident(Tlp.AMBER)
        bundle = json.loads(incident_file.read_text())
        self.summary.incident_id = next(o["id"] for o in bundle["objects"] if o["type"] == "incident")
        self.hub.submit(self.principal("US"), bundle, source="victim report (demo)")
        if self.options.attack is None:
            return SKIPPED_SCORING
        import_attack(self.options.attack, self.settings)
        result, objects = attribute_file(incident_file, settings=self.settings, reader_code="US")
        share_attribution(result, objects, "US", self.settings)
        best = result.candidates[0]
        return f"{best['name']} ({best['id']}), confidence {best['confidence']:.2f}"

    def _marked_incident(self, tlp: Tlp) -> Path:
        """The simulated victim report, marked as the reporting member shares it (unmarked means AMBER+STRICT)."""
        bundle = json.loads((self.sim_dir / "incident.json").read_text())
        for obj in bundle["objects"]:
            if obj.get("type") != "marking-definition" and not obj.get("object_marking_refs"):
                obj["object_marking_refs"] = [TLP2_MARKING_IDS[tlp]]
        path = self.out_dir / "incident.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(bundle, indent=1) + "\n")
        self.summary.written["incident (STIX)"] = path
        return path

    def trace(self) -> str:
        from trilateral.chain import ChainStore
        from trilateral.labels import LabelStore
        from trilateral.trace import TraceOptions, Tracer, build_findings

        truth = json.loads((self.sim_dir / "ground_truth.json").read_text())
        seeds = [s["tx_hash"] for s in truth["seeds"] if s["chain"] == "ethereum"]
        tracer = Tracer(ChainStore(self.settings.chain_dir), LabelStore(self.settings))
        self._result = tracer.trace("ethereum", seeds, TraceOptions(policy=self.options.policy))
        findings = build_findings(self._result)
        self.summary.findings = findings
        path = self.out_dir / "findings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(findings, indent=2) + "\n")
        self.summary.written["trace findings"] = path
        exchanges = {o["entity"] for o in findings["offramps"] if o.get("entity")}
        return f"{len(findings['offramps'])} off-ramps at {len(exchanges)} exchanges"

    def freeze(self) -> str:
        from trilateral.trace.freeze import freeze_requests, write_freeze_requests

        members = [p.code for p in self.hub.list_principals() if p.kind == "member"]
        requests = freeze_requests(self._result, self.summary.findings, members)
        self.summary.freeze_requests = requests
        out = self.out_dir / "freeze"
        write_freeze_requests(requests, out)
        self.summary.written["freeze requests"] = out
        routed: dict[str, int] = {}
        for r in requests:
            key = r.get("routed_to") or "no member jurisdiction"
            routed[key] = routed.get(key, 0) + 1
        return ", ".join(f"{k}: {v}" for k, v in sorted(routed.items()))

    def share(self) -> str:
        from trilateral.trace.stix_export import address_to_clients, findings_bundle

        inter = [{"chain": c, "address": a} for (c, a, _), v in sorted(self._result.holdings.items()) if v > 0][:200]
        bundle = findings_bundle(self.summary.findings, Tlp.AMBER, incident_ref=self.summary.incident_id,
                                 freeze_requests=self.summary.freeze_requests, intermediaries=inter)
        # need to know: the client exchange that must freeze reads its own request (as `trace --share-as` does)
        bundle, addressed = address_to_clients(bundle, self.hub.list_principals())
        res = self.hub.submit(self.principal("US"), bundle, source="demo trace")
        if res.failed:
            raise ConfigurationError(f"the hub refused {len(res.failed)} shared object(s); first: {res.failed[0]}")
        self._indicators = [o["id"] for o in bundle["objects"] if o["type"] == "indicator"]
        return (f"{len(res.stored)} STIX objects shared by US; {len(addressed)} freeze request(s) addressed to "
                "client exchanges")

    def sightings(self) -> str:
        count = 0
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        for code, name in (("KR", "Republic of Korea"), ("JP", "Japan")):
            identity = _identity(code, name, now)
            objs: list[dict[str, Any]] = [identity]
            for indicator in self._indicators[:5]:
                objs.append({
                    "type": "sighting", "spec_version": "2.1", "id": _uuid_id("sighting", code, indicator),
                    "created": now, "modified": now, "first_seen": now, "last_seen": now, "count": 1,
                    "sighting_of_ref": indicator, "where_sighted_refs": [identity["id"]],
                    "object_marking_refs": [TLP2_MARKING_IDS[Tlp.AMBER]],
                })
            res = self.hub.submit(self.principal(code), {"type": "bundle", "id": _uuid_id("bundle", code, now),
                                                         "objects": objs}, source="demo sightings")
            count += len(res.stored) - 1
        return f"{count} sightings by KR and JP"

    def registers(self) -> str:
        from trilateral.report.actions import add_action
        from trilateral.report.incidents import import_incidents_csv

        detail = []
        if self.options.incidents_csv:
            res = import_incidents_csv(self.hub, self.principal("US"), self.options.incidents_csv)
            detail.append(f"{len(res.stored)} historical incidents")
        q = self.summary.quarter
        year, n = int(q[:4]), int(q[-1])
        due = f"{year}-{3 * n:02d}-28"
        decided = f"{year}-{3 * n - 2:02d}-15"
        actions = [
            ("Follow up the freeze requests with the exchanges", "KR", "open"),
            ("Share THORChain outbound addresses with exchanges", "JP", "in_progress"),
            ("Brief the group on mixer withdrawal heuristics", "US", "done"),
        ]
        for title, owner, status in actions:
            add_action(self.hub, self.principal(owner), title=title, owner=owner, due=due, decided_at=decided,
                       quarter=q, status=status, tlp=Tlp.AMBER)
        detail.append(f"{len(actions)} actions")
        return ", ".join(detail)

    def reports(self) -> str:
        from trilateral.report import quarterly_report

        written = []
        for audience in ("group", CLIENTS[0][0]):
            out = self.out_dir / f"report-{audience.lower()}"
            result = quarterly_report(self.hub, self.summary.quarter, audience, out)
            self.summary.written[f"report ({audience})"] = out
            written.append(f"{audience} {result.tlp.label}")
        return ", ".join(written)


def _identity(code: str, name: str, now: str) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": _uuid_id("identity", code), "created": now,
            "modified": now, "name": name, "identity_class": "organization",
            "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}


def _uuid_id(kind: str, *parts: str) -> str:
    import uuid

    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, 'trilateral-demo|' + '|'.join(parts))}"


def run_demo(options: DemoOptions, on_step: Callable[[str, Callable[[], str]], StepRecord] | None = None
             ) -> DemoSummary:
    """Run every step; `on_step(name, fn)` lets the presenter wrap each step (progress, timing)."""
    demo = Demo(options)

    def plain(name: str, fn: Callable[[], str]) -> StepRecord:
        t0 = time.perf_counter()
        detail = fn()
        return StepRecord(name, time.perf_counter() - t0, detail)

    runner = on_step or plain
    for name, fn in demo.steps():
        demo.summary.steps.append(runner(name, fn))
    if demo._hub is not None:
        demo._hub.close()
    return demo.summary
