"""The watch's state in the hub database: cases, taint state, processed blocks with their undo,
alerts and the outbox, all written in one transaction per block so a crash loses nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from trilateral.core.errors import InputError
from trilateral.hub.database import reading, writing
from trilateral.trace.taint import Taint, ledger_factory
from trilateral.watch import schema as t
from trilateral.watch.core import CaseSpec, Outcome, WatchCore
from trilateral.watch.signing import new_secret
from trilateral.watch.state import KV, MISSING, UndoEntry, decode_key, decode_value, encode_key, encode_value

KEEP_BLOCKS = 128  # undo kept per chain: reorgs deeper than this cannot be retracted


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class CaseRow:
    id: int
    name: str
    chain: str
    policy: str
    seeds: list[str]
    seed_txs: list[str]
    incident: str | None
    status: str
    opened_us: int
    closed_us: int | None

    def spec(self) -> CaseSpec:
        return CaseSpec(self.id, self.chain, self.policy, frozenset(self.seeds), frozenset(self.seed_txs))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "chain": self.chain, "policy": self.policy, "seeds": self.seeds,
                "seed_txs": self.seed_txs, "incident": self.incident, "status": self.status}


@dataclass
class OutboxRow:
    id: int
    idem_key: str
    destination: str
    body: str
    attempts: int


class WatchStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- cases -----------------------------------------------------------------------------------
    def open_case(self, name: str, chain: str, policy: str, seeds: list[str], seed_txs: list[str],
                  incident: str | None, holdings: list[tuple[str, str, int, float]] = ()) -> int:
        """A new open case; `holdings` (address, asset key, base units, confidence) is stolen value
        a finished trace left sitting at addresses: the watch follows it from there."""
        with writing(self.engine) as conn:
            case_id = int(conn.execute(t.cases.insert().values(
                name=name, chain=chain, policy=policy, seeds=json.dumps(seeds), seed_txs=json.dumps(seed_txs),
                incident=incident, status="open", opened_us=now_us())).inserted_primary_key[0])
            kv = KV(f"case:{case_id}")
            ledger = ledger_factory(policy)
            for address, asset, amount, confidence in holdings:
                book = ledger()
                book.receive(amount, Taint(amount, 0, amount * confidence, 0))
                kv.maps["ledgers"][(address, asset)] = book
                kv.maps["touched"][address] = 1
            rows = [{"owner": kv.owner, "map": n, "key": encode_key(k), "value": encode_value(n, v)}
                    for n, m in kv.maps.items() for k, v in m.items()]
            if rows:
                conn.execute(t.state.insert(), rows)
        return case_id

    def cases(self, status: str | None = None) -> list[CaseRow]:
        query = sa.select(t.cases).order_by(t.cases.c.id)
        if status:
            query = query.where(t.cases.c.status == status)
        with reading(self.engine) as conn:
            return [_case(r) for r in conn.execute(query)]

    def case(self, case_id: int) -> CaseRow:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id)).first()
        if row is None:
            raise InputError(f"no case {case_id}: list them with `trilateral case list`")
        return _case(row)

    def close_case(self, case_id: int) -> None:
        self.case(case_id)
        with writing(self.engine) as conn:
            conn.execute(t.cases.update().where(t.cases.c.id == case_id).values(status="closed", closed_us=now_us()))

    def load_kv(self, owner: str) -> KV:
        kv = KV(owner)
        with reading(self.engine) as conn:
            for name, key, value in conn.execute(sa.select(t.state.c.map, t.state.c.key, t.state.c.value)
                                                 .where(t.state.c.owner == owner)):
                kv.maps[name][decode_key(key)] = decode_value(name, value)
        return kv

    def alerts_of(self, case_id: int) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            rows = conn.execute(sa.select(t.alerts.c.body, t.alerts.c.retracted_us).where(t.alerts.c.case_id == case_id)
                                .order_by(t.alerts.c.block_number, t.alerts.c.created_us)).all()
        return [{**json.loads(b), "retracted": r is not None} for b, r in rows]

    # -- blocks ----------------------------------------------------------------------------------
    def cursor(self, chain: str) -> tuple[int, str] | None:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(t.blocks.c.number, t.blocks.c.hash).where(t.blocks.c.chain == chain)
                               .order_by(t.blocks.c.number.desc()).limit(1)).first()
        return (int(row[0]), row[1]) if row else None

    def block_hash(self, chain: str, number: int) -> str | None:
        with reading(self.engine) as conn:
            return conn.execute(sa.select(t.blocks.c.hash).where(t.blocks.c.chain == chain,
                                                                 t.blocks.c.number == number)).scalar()

    def commit_block(self, core: WatchCore, outcome: Outcome, alerts: list[dict[str, Any]],
                     deliveries: list[tuple[str, str, str]]) -> None:
        """Everything one block did, atomically: changed state, the block and its undo, its alerts
        (webhook JSON) and their outbox rows (idempotency key, destination, body)."""
        self.commit_blocks(core, [(outcome, alerts, deliveries)])

    def commit_blocks(self, core: WatchCore, done: list[tuple[Outcome, list[dict[str, Any]],
                                                              list[tuple[str, str, str]]]]) -> None:
        """Several consecutive blocks of one chain in one transaction (catching up): the state as it
        is after the last, each block with its own undo, alerts and outbox rows. All or nothing, so
        a crash redoes the whole batch and delivers each alert once."""
        if not done:
            return
        at = now_us()
        with writing(self.engine) as conn:
            self._write_state(conn, core, [c for outcome, _, _ in done for c in outcome.changed()])
            conn.execute(t.blocks.insert(), [
                {"chain": o.block.chain, "number": o.block.number, "hash": o.block.hash,
                 "parent_hash": o.block.parent_hash, "timestamp": o.block.timestamp, "undo": _encode_undo(o.undo),
                 "processed_us": at} for o, _, _ in done])
            last = done[-1][0].block
            conn.execute(t.blocks.delete().where(t.blocks.c.chain == last.chain,
                                                 t.blocks.c.number <= last.number - KEEP_BLOCKS))
            rows = [{"key": a["id"], "case_id": a["case"]["id"], "chain": o.block.chain, "block_number": o.block.number,
                     "block_hash": o.block.hash, "kind": a["kind"], "body": json.dumps(a), "created_us": at}
                    for o, alerts, _ in done for a in alerts]
            if rows:
                conn.execute(t.alerts.insert(), rows)
            self._enqueue(conn, [d for _, _, deliveries in done for d in deliveries], at)

    def undo_of(self, chain: str, number: int) -> tuple[str, list[UndoEntry]] | None:
        with reading(self.engine) as conn:
            row = conn.execute(sa.select(t.blocks.c.hash, t.blocks.c.undo).where(
                t.blocks.c.chain == chain, t.blocks.c.number == number)).first()
        return (row[0], _decode_undo(row[1])) if row else None

    def revert_block(self, core: WatchCore, chain: str, number: int, undo: list[UndoEntry],
                     retract: Any) -> list[dict[str, Any]]:
        """Undo a reorged-away block in memory and in the database; its alerts are marked retracted
        and `retract(body) -> (body, deliveries)` queues their retractions. Returns the retractions."""
        core.revert(undo)
        at = now_us()
        with writing(self.engine) as conn:
            block_hash = conn.execute(sa.select(t.blocks.c.hash).where(t.blocks.c.chain == chain,
                                                                       t.blocks.c.number == number)).scalar()
            self._write_state(conn, core, [(o, n, k) for o, n, k, _ in undo])
            conn.execute(t.blocks.delete().where(t.blocks.c.chain == chain, t.blocks.c.number == number))
            rows = conn.execute(sa.select(t.alerts.c.key, t.alerts.c.body).where(
                t.alerts.c.chain == chain, t.alerts.c.block_hash == block_hash, t.alerts.c.retracted_us.is_(None))).all()
            out = []
            for key, body in rows:
                retraction, deliveries = retract(json.loads(body))
                conn.execute(t.alerts.update().where(t.alerts.c.key == key).values(retracted_us=at))
                self._enqueue(conn, deliveries, at)
                out.append(retraction)
        return out

    def _write_state(self, conn: sa.Connection, core: WatchCore, changed: Iterable[tuple[str, str, Any]]) -> None:
        rows, gone = [], []
        seen = set()
        for owner, name, key in changed:
            if (owner, name, key) in seen or (owner.startswith("case:") and int(owner[5:]) not in core.cases):
                continue
            seen.add((owner, name, key))
            value = core.owner(owner).maps[name].get(key, MISSING)
            ekey = encode_key(key)
            gone.append({"o": owner, "m": name, "k": ekey})
            if value is not MISSING:
                rows.append({"owner": owner, "map": name, "key": ekey, "value": encode_value(name, value)})
        if gone:
            conn.execute(t.state.delete().where(t.state.c.owner == sa.bindparam("o"), t.state.c.map == sa.bindparam("m"),
                                                t.state.c.key == sa.bindparam("k")), gone)
        if rows:
            conn.execute(t.state.insert(), rows)

    # -- outbox ----------------------------------------------------------------------------------
    def _enqueue(self, conn: sa.Connection, deliveries: list[tuple[str, str, str]], at: int) -> None:
        if deliveries:
            conn.execute(t.outbox.insert(), [{"idem_key": k, "destination": d, "body": b, "status": "pending",
                                              "attempts": 0, "next_attempt_us": at, "created_us": at}
                                             for k, d, b in deliveries])

    def due(self, lane: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Pending rows whose time has come; lane "hub" or "webhook" (None: both)."""
        query = sa.select(t.outbox.c.id, t.outbox.c.idem_key, t.outbox.c.destination, t.outbox.c.body,
                          t.outbox.c.attempts).where(t.outbox.c.status == "pending",
                                                     t.outbox.c.next_attempt_us <= now_us())
        if lane == "hub":
            query = query.where(t.outbox.c.destination == "hub")
        elif lane == "webhook":
            query = query.where(t.outbox.c.destination != "hub")
        with reading(self.engine) as conn:
            rows = conn.execute(query.order_by(t.outbox.c.id).limit(limit)).all()
        return [OutboxRow(*r) for r in rows]

    def delivered(self, row_id: int) -> None:
        with writing(self.engine) as conn:
            conn.execute(t.outbox.update().where(t.outbox.c.id == row_id).values(
                status="delivered", delivered_us=now_us(), attempts=t.outbox.c.attempts + 1))

    def retry(self, row: OutboxRow, error: str, delay_s: float, give_up: bool) -> None:
        with writing(self.engine) as conn:
            conn.execute(t.outbox.update().where(t.outbox.c.id == row.id).values(
                status="failed" if give_up else "pending", attempts=row.attempts + 1, last_error=error[:2000],
                next_attempt_us=now_us() + int(delay_s * 1e6)))

    def outbox_counts(self) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = conn.execute(sa.select(t.outbox.c.status, sa.func.count()).group_by(t.outbox.c.status)).all()
        return {s: int(n) for s, n in rows}

    # -- webhooks --------------------------------------------------------------------------------
    def add_webhook(self, code: str, url: str) -> str:
        secret = new_secret()
        with writing(self.engine) as conn:
            conn.execute(t.webhooks.delete().where(t.webhooks.c.code == code, t.webhooks.c.url == url))
            conn.execute(t.webhooks.insert().values(code=code, url=url, secret=secret, created_us=now_us()))
        return secret

    def webhooks(self) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            rows = conn.execute(sa.select(t.webhooks.c.id, t.webhooks.c.code, t.webhooks.c.url, t.webhooks.c.secret)
                                .where(t.webhooks.c.revoked_us.is_(None)).order_by(t.webhooks.c.id)).all()
        return [{"id": int(i), "code": c, "url": u, "secret": s} for i, c, u, s in rows]


def _case(r: Any) -> CaseRow:
    return CaseRow(int(r.id), r.name, r.chain, r.policy, json.loads(r.seeds), json.loads(r.seed_txs), r.incident,
                   r.status, int(r.opened_us), r.closed_us)


def _encode_undo(undo: list[UndoEntry]) -> str:
    return json.dumps([[o, n, encode_key(k), None if old is MISSING else encode_value(n, old)]
                       for o, n, k, old in undo], separators=(",", ":"))


def _decode_undo(text: str) -> list[UndoEntry]:
    return [(o, n, decode_key(k), MISSING if old is None else decode_value(n, old)) for o, n, k, old in json.loads(text)]
