"""`trilateral watch`: follow chain tips for every open case, commit each block's effects to the hub
database, print one line per alert, and let the outbox deliver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from trilateral.core.chains import CHAINS
from trilateral.core.principal import Principal
from trilateral.core.settings import Settings
from trilateral.trace.freeze import DEFAULT_MEMBERS
from trilateral.trace.model import Role
from trilateral.trace.roles import role_from_labels
from trilateral.watch.alerts import alert_body, freeze_request, line, retraction_body, route
from trilateral.watch.core import Outcome, WatchCore
from trilateral.watch.deliver import Deliverer
from trilateral.watch.heads import HeadSubscription
from trilateral.watch.links import LiveLinks, Midgard
from trilateral.watch.store import CaseRow, WatchStore

BATCH_BLOCKS = 32  # blocks fetched per round trip when behind the tip
NATIVES = {c.name: (c.native, c.decimals) for c in CHAINS.values()}


def stix_time(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def load_roles(settings: Settings, chains: list[str]) -> dict[str, dict[str, Role]]:
    """Roles of every labelled address of these chains (exchanges, mixers, bridges, DEXs)."""
    from types import SimpleNamespace

    from trilateral.labels import LabelStore

    grouped: dict[tuple[str, str], list[Any]] = {}
    for row in LabelStore(settings).table().to_pylist():
        if row["chain"] in chains and row["address"]:
            address = row["address"].lower() if row["address"].startswith("0x") else row["address"]
            grouped.setdefault((row["chain"], address), []).append(SimpleNamespace(**row))
    roles: dict[str, dict[str, Role]] = {c: {} for c in chains}
    for (chain, address), labels in grouped.items():
        role = role_from_labels(labels)
        if role is not None:
            roles[chain][address] = role
    return roles


class Watcher:
    def __init__(self, hub: Any, adapters: list[Any], *, confirmations: int = 0, from_block: int | None = None,
                 emit: Callable[[str], None] = print, submit_as: str | None = None,
                 ws: dict[str, str] | None = None, midgard: str | None = None) -> None:
        self.hub = hub
        self.links = LiveLinks(hub.engine, Midgard(midgard), emit) if midgard else None
        self.rounds = 0  # polls done by run()
        self.new_head = threading.Event()  # set by WebSocket head subscriptions (`ws`: chain -> ws:// URL)
        self.subscriptions = [HeadSubscription(url, self.new_head) for chain, url in (ws or {}).items()]
        self.store = WatchStore(hub.engine)
        self.adapters = {a.chain: a for a in adapters}
        self.confirmations = confirmations
        self.from_block = from_block
        self.emit = emit
        chains = list(self.adapters)
        self.core = WatchCore(labels=load_roles(hub.settings, chains), natives={c: NATIVES.get(c, ("ETH", 18))
                                                                               for c in chains})
        for chain in chains:
            self.core.chains[chain] = self.store.load_kv(f"chain:{chain}")
        self.cases: dict[int, CaseRow] = {}
        self.principals = hub.list_principals()
        self.members = [p.code for p in self.principals if p.kind == "member" and not p.revoked] or \
            list(DEFAULT_MEMBERS)
        submitter: Principal = hub.principal((submit_as or self.members[0]).upper())
        self.lanes = [Deliverer(self.store, hub, submitter, "webhook"), Deliverer(self.store, hub, submitter, "hub")]

    # -- cases -----------------------------------------------------------------------------------
    def sync_cases(self) -> None:
        """Follow cases opened or closed while the watch runs."""
        open_now = {c.id: c for c in self.store.cases("open") if c.chain in self.adapters}
        for case_id in set(self.cases) - set(open_now):
            self.core.remove_case(case_id)
            del self.cases[case_id]
        for case_id, row in open_now.items():
            known = self.cases.get(case_id)
            if known is not None and known.spec() != row.spec():  # seeds added (a live THORChain link)
                kv = self.core.cases[case_id].kv
                self.core.remove_case(case_id)
                self.core.add_case(row.spec(), kv)
                self.cases[case_id] = row
            elif known is None:
                self.core.add_case(row.spec(), self.store.load_kv(f"case:{case_id}"))
                self.cases[case_id] = row

    # -- blocks ----------------------------------------------------------------------------------
    def poll(self) -> int:
        """Process every block now confirmed on every chain; the number processed."""
        self.sync_cases()
        self.principals = self.hub.list_principals()
        self.webhooks = self.store.webhooks()
        return sum(self.poll_chain(chain) for chain in self.adapters)

    def poll_chain(self, chain: str) -> int:
        adapter = self.adapters[chain]
        self._unwind(chain)
        head = adapter.head() - self.confirmations
        cursor = self.store.cursor(chain)
        number = cursor[0] + 1 if cursor else (self.from_block if self.from_block is not None else max(head, 0))
        done = 0
        while number <= head:
            batch: list[tuple[Outcome, list[dict[str, Any]], list[tuple[str, str, str]]]] = []
            for block in adapter.blocks(number, min(head, number + BATCH_BLOCKS - 1)):
                if cursor and cursor[0] == block.number - 1 and block.parent_hash != cursor[1]:
                    self._commit(batch)
                    batch = []
                    self._revert_top(chain)  # the branch changed under us: step back and fetch again
                    cursor = self.store.cursor(chain)
                    number = cursor[0] + 1 if cursor else block.number - 1
                    break
                outcome = self.core.apply(block)
                bodies, deliveries = self._prepare(outcome)
                batch.append((outcome, bodies, deliveries))
                cursor = (block.number, block.hash)
                number = block.number + 1
                done += 1
            self._commit(batch)
        return done

    def _commit(self, batch: list[tuple[Outcome, list[dict[str, Any]], list[tuple[str, str, str]]]]) -> None:
        """The blocks fetched together (one when following the tip) in one transaction; their alert
        lines are printed and delivery woken only once it is committed."""
        if not batch:
            return
        self.store.commit_blocks(self.core, batch)
        for _, bodies, _ in batch:
            for body in bodies:
                self.emit(line(body))
        if any(deliveries for _, _, deliveries in batch):
            self.wake()

    def _unwind(self, chain: str) -> None:
        """Blocks we processed that the node no longer has (a reorg): retract them, newest first."""
        adapter = self.adapters[chain]
        while (cursor := self.store.cursor(chain)) is not None:
            node_hash = adapter.block_hash(cursor[0]) if cursor[0] <= adapter.head() else None
            if node_hash == cursor[1]:
                return
            self._revert_top(chain)

    def _revert_top(self, chain: str) -> None:
        cursor = self.store.cursor(chain)
        assert cursor is not None
        found = self.store.undo_of(chain, cursor[0])
        assert found is not None
        retractions = self.store.revert_block(self.core, chain, cursor[0], found[1], self._retract)
        for body in retractions:
            self.emit(line(body))
        self.wake()

    def warm(self) -> None:
        if not getattr(self, "_warm", False):
            self.lanes[1].warm()
            self._warm = True

    def wake(self) -> None:
        for lane in self.lanes:
            lane.wake.set()

    def _targets(self, recipients: list[str]) -> list[dict[str, Any]]:
        members = {p.code for p in self.principals if p.kind == "member" and not p.revoked}
        wanted = set(recipients) | members
        return [w for w in self.webhooks if w["code"] in wanted]

    def _prepare(self, outcome: Outcome) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
        bodies, deliveries = [], []
        at = stix_time()
        for alert in outcome.alerts:
            case = self.cases[alert.case_id]
            recipients = route(alert, self.principals)
            freeze = None
            if alert.kind in ("exchange", "exchange_deposit"):
                seeds = [{"chain": case.chain, "address": a} for a in case.seeds] + \
                        [{"chain": case.chain, "tx_hash": t} for t in case.seed_txs]
                symbols = {k: v[0] for k, v in self.core.assets.get(case.chain, {}).items()}
                freeze = freeze_request(alert, seeds, case.policy,
                                        self.core.cases[case.id].kv.maps["edges"].values(), symbols, self.members)
            body = alert_body(alert, case.as_dict(), recipients, at, freeze)
            text = json.dumps(body)
            bodies.append(body)
            deliveries.append((alert.key, "hub", text))
            deliveries += [(alert.key, f"webhook:{w['id']}", text) for w in self._targets(recipients)]
        return bodies, deliveries

    def _retract(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        out = retraction_body(body, stix_time())
        key, text = body["id"] + ".retracted", json.dumps(out)
        return out, [(key, "hub", text)] + [(key, f"webhook:{w['id']}", text)
                                            for w in self._targets(body["recipients"])]

    # -- loop ------------------------------------------------------------------------------------
    def run(self, poll_seconds: float = 0.5, once: bool = False, stop: Callable[[], bool] | None = None) -> None:
        for sub in self.subscriptions:
            sub.start()
        self.warm()
        for lane in self.lanes:
            lane.start()
        try:
            while True:
                self.new_head.clear()
                self.poll()
                if self.links is not None and self.links.run_once():
                    self.poll()  # follow the linked cases from now on
                self.rounds += 1
                if once or (stop and stop()):
                    break
                self.new_head.wait(poll_seconds)  # a new head announced over WebSocket, or the next poll
            if once:  # deliver what this round raised before returning
                deadline = time.monotonic() + 30
                while self.store.due() and time.monotonic() < deadline:
                    self.wake()
                    time.sleep(0.05)
        finally:
            for sub in self.subscriptions:
                sub.stop()
            for lane in self.lanes:
                lane.stop()
            for adapter in self.adapters.values():
                adapter.close()
