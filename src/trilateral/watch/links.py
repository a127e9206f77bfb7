"""Live THORChain links (`watch --midgard URL`): stolen value that reached a bridge is looked up in
Midgard (`/v2/actions?txid=…`, the same swap shapes `chain ingest --format midgard` reads); when
the swap's outbound is done, its destination on the other chain is the thief's, so it becomes an
address seed of the case's linked case on that chain (opened on first use, same policy and
incident). The watch follows it there as soon as that chain is watched.

Crash-safe: the work list is the case's unretracted `bridge` alerts, and a resolved alert is
recorded (`watch_state`, owner `links`) in the same transaction that opens or extends the linked
case, so a restart neither loses a link nor adds one twice. A swap Midgard does not know yet (or
still pending) is asked again every `every` seconds, for at most `give_up` seconds after the alert.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from trilateral.chain.midgard import Decimals, _links_of
from trilateral.hub.database import reading, writing
from trilateral.watch import schema as t
from trilateral.watch.state import encode_key

OWNER, MAP = "links", "linked"
EVM = ("ethereum", "bsc", "avalanche", "base", "arbitrum", "optimism", "polygon")


class Midgard:
    """A Midgard v2 endpoint: the swap links of one inbound transaction."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=timeout)
        self.decimals = Decimals(Path("/nonexistent"))  # natives and the tokens THORChain lists

    def swaps_of(self, chain: str, tx_hash: str) -> list[dict[str, Any]]:
        """Links of the finished swaps whose inbound is `tx_hash` ([] while unknown or pending)."""
        txid = tx_hash.removeprefix("0x").upper() if chain in EVM else tx_hash
        answer = self.http.get(f"{self.url}/v2/actions", params={"txid": txid, "type": "swap"})
        answer.raise_for_status()
        links = []
        for action in answer.json().get("actions") or []:
            if action.get("type") != "swap" or action.get("status") != "success":
                continue
            links += [lk for lk in _links_of(action, self.decimals, set())
                      if lk["out_tx"] and lk["out_address"] and lk["out_chain"] != "thorchain"]
        return links

    def close(self) -> None:
        self.http.close()


class LiveLinks:
    """Resolves the bridge alerts of open cases into linked cases on the swaps' out chains."""

    def __init__(self, engine: sa.Engine, midgard: Midgard, emit: Callable[[str], None],
                 every: float = 10.0, give_up: float = 3 * 86_400) -> None:
        self.engine = engine
        self.midgard = midgard
        self.emit = emit
        self.every = every
        self.give_up = give_up
        self.asked: dict[str, float] = {}  # alert key -> when Midgard was last asked

    def pending(self) -> list[dict[str, Any]]:
        """Unretracted bridge alerts of open cases not linked yet."""
        with reading(self.engine) as conn:
            done = {json.loads(k) for (k,) in conn.execute(sa.select(t.state.c.key).where(
                t.state.c.owner == OWNER, t.state.c.map == MAP))}
            rows = conn.execute(sa.select(t.alerts.c.key, t.alerts.c.body).join(
                t.cases, t.cases.c.id == t.alerts.c.case_id).where(
                t.alerts.c.kind == "bridge", t.alerts.c.retracted_us.is_(None), t.cases.c.status == "open")
                .order_by(t.alerts.c.created_us)).all()
        return [json.loads(body) for key, body in rows if key not in done]

    def run_once(self, now: float | None = None) -> int:
        """Ask Midgard about the alerts whose turn it is; the number of links made."""
        now = time.time() if now is None else now
        made = 0
        for alert in self.pending():
            key = alert["id"]
            raised = _epoch(alert.get("raised_at")) or now
            if now - self.asked.get(key, 0.0) < self.every or now - raised > self.give_up:
                continue
            self.asked[key] = now
            try:
                links = self.midgard.swaps_of(alert["chain"], alert["tx_hash"])
            except (httpx.HTTPError, ValueError) as exc:
                self.emit(f"midgard: {alert['tx_hash']}: {exc.__class__.__name__}: {exc} (asked again later)")
                continue
            if links:
                made += self._link(alert, links)
        return made

    def _link(self, alert: dict[str, Any], links: list[dict[str, Any]]) -> int:
        """Open or extend the linked cases and record the alert as resolved, in one transaction."""
        case = alert["case"]
        stolen = int(alert["amount_base_units"])
        made = []
        with writing(self.engine) as conn:
            parent = conn.execute(sa.select(t.cases).where(t.cases.c.id == case["id"])).first()
            for lk in links:
                chain, address = lk["out_chain"], lk["out_address"]
                child = _linked_case(conn, parent, chain)
                seeds = json.loads(child.seeds) if child is not None else []
                if child is None:
                    child_id = int(conn.execute(t.cases.insert().values(
                        name=f"{parent.name} via THORChain ({chain})", chain=chain, policy=parent.policy,
                        seeds=json.dumps([address]), seed_txs="[]", incident=parent.incident, status="open",
                        opened_us=time.time_ns() // 1000)).inserted_primary_key[0])
                    conn.execute(t.state.insert().values(owner=OWNER, map="children",
                                                         key=encode_key([int(parent.id), chain]),
                                                         value=json.dumps(child_id)))
                else:
                    child_id = int(child.id)
                    if address not in seeds:
                        conn.execute(t.cases.update().where(t.cases.c.id == child_id).values(
                            seeds=json.dumps([*seeds, address])))
                share = _share(lk, stolen)
                made.append((lk, child_id, share))
            conn.execute(t.state.insert().values(owner=OWNER, map=MAP, key=encode_key(alert["id"]), value=json.dumps(
                [{"case": c, "out_chain": lk["out_chain"], "out_address": lk["out_address"], "out_tx": lk["out_tx"],
                  "out_asset": lk["out_asset"], "out_base_units": s} for lk, c, s in made])))
        for lk, child_id, share in made:
            self.emit(f"link case={case['id']} {alert['chain']} tx={alert['tx_hash']} -> {lk['out_chain']} "
                      f"{lk['out_address']} {lk['out_asset']} {share if share is not None else '?'} base units "
                      f"out={lk['out_tx']} (THORChain) followed as case={child_id}")
        return len(made)


def _linked_case(conn: sa.Connection, parent: Any, chain: str) -> Any:
    child_id = conn.execute(sa.select(t.state.c.value).where(
        t.state.c.owner == OWNER, t.state.c.map == "children",
        t.state.c.key == encode_key([int(parent.id), chain]))).scalar()
    if child_id is None:
        return None
    return conn.execute(sa.select(t.cases).where(t.cases.c.id == json.loads(child_id))).first()


def _share(link: dict[str, Any], stolen: int) -> int | None:
    """The out amount in proportion to the stolen part of the inbound (all of it when unknown)."""
    if link["out_amount"] is None:
        return None
    out, into = int(link["out_amount"]), int(link["in_amount"] or 0)
    return out if not into or stolen >= into else out * stolen // into


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None

