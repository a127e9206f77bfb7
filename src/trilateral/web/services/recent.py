"""What is new for a principal: the chain watch's alerts, what partners shared since yesterday in any
collection, and the live stream's next batch. Everything comes from `hub.query`, whose SQL is the
policy's twin, one collection (or one type) at a time so each read is an index seek at any store size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.web.services.intel import FeedItem, item

ALERT_TYPE = "x-trilateral-watch-alert"
PAGE = 50
LIVE_BATCH = 50
MIN_WINDOW = timedelta(minutes=1)  # Today's partners: windows shrink to this, then a burst is walked by keys
BURST_PAGE = 10_000
BURST_PAGES = 2  # a minute of more than 20,000 objects in one collection shows the newest of its first 20,000


@dataclass(frozen=True)
class Alert:
    """One alert of the chain watch as the hub shares it (the newest version the principal may read)."""

    id: str
    name: str
    kind: str
    status: str
    chain: str
    address: str
    asset: str
    amount_base_units: str
    entity: str
    case_name: str
    tlp: Tlp
    submitter: str
    date_added: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "status": self.status, "chain": self.chain,
                "address": self.address, "asset": self.asset, "amount_base_units": self.amount_base_units,
                "entity": self.entity, "case": self.case_name, "tlp": self.tlp.label, "submitter": self.submitter,
                "date_added": self.date_added.isoformat()}


def alert(rec: Any) -> Alert:
    o = rec.object
    return Alert(rec.id, str(o.get("name") or rec.id), str(o.get("alert_kind") or ""), str(o.get("status") or "raised"),
                 str(o.get("chain") or ""), str(o.get("address") or ""), str(o.get("asset") or ""),
                 str(o.get("amount_base_units") or ""), str(o.get("entity") or ""), str(o.get("case_name") or ""),
                 rec.tlp, rec.submitted_by, rec.date_added)


def new_alerts(hub: Any, principal: Principal, since: datetime, limit: int = PAGE) -> tuple[list[Alert], bool]:
    """Alerts added since `since`, newest first, and whether more than `limit` were found.

    One type across every collection: the hub seeks its (type, date added) index."""
    found: list[Alert] = []
    cursor, more = None, False
    for _ in range(4):  # at most 2,000 alerts a window; Intel lists the rest
        page = hub.query(principal, collection=None, added_after=since, types=[ALERT_TYPE], limit=500, cursor=cursor)
        found.extend(map(alert, page.records))
        cursor, more = (page.next_cursor, True) if page.more else (None, False)
        if cursor is None:
            break
    found.sort(key=lambda a: a.date_added, reverse=True)
    return found[:limit], more or len(found) > limit


def partner_items(hub: Any, principal: Principal, since: datetime, own: set[str],
                  limit: int = PAGE) -> tuple[list[FeedItem], bool]:
    """The newest objects other agencies shared since `since`, in every collection, newest first; and
    whether there were more. Alerts are left to their own list.

    The hub reads oldest first, so per collection the window shrinks towards now (a quarter each
    time) until it holds no more than a page, which is then the newest objects: one index seek on
    (collection, date added) per try, a few tries at most. A burst (more than a page in the last
    minute) is walked as a manifest, keys only, and its newest objects read by id."""
    found: list[FeedItem] = []
    more = False
    now = datetime.now(UTC)
    for c in hub.collections(principal):
        window = now - since
        while True:
            page = hub.query(principal, collection=c.id, added_after=now - window, limit=limit * 2)
            if not page.more:
                records = page.records
                break
            more = True
            if window <= MIN_WINDOW:
                records = _newest_by_manifest(hub, principal, c.id, now - window, limit * 4)
                break
            window = window / 4
        found.extend(i for i in map(item, records) if i.submitter not in own and i.type != ALERT_TYPE)
    found.sort(key=lambda i: i.date_added, reverse=True)
    return found[:limit], more or len(found) > limit


def _newest_by_manifest(hub: Any, principal: Principal, collection: str, after: datetime, n: int) -> list[Any]:
    keys: list[Any] = []
    cursor = None
    for _ in range(BURST_PAGES):
        page = hub.manifest(principal, collection=collection, added_after=after, limit=BURST_PAGE, cursor=cursor)
        keys.extend(page.records)
        cursor = page.next_cursor if page.more else None
        if cursor is None:
            break
    newest = sorted(keys, key=lambda r: r.date_added, reverse=True)[:n]
    if not newest:
        return []
    return hub.query(principal, collection=collection, ids=[r.id for r in newest], limit=len(newest)).records


def live_batch(hub: Any, principal: Principal, since: dict[str, datetime]) -> list[tuple[str, dict[str, Any], datetime]]:
    """The next events of the live stream: ("alert" | "intel", JSON, date added), oldest first.

    `since` holds, per collection, the newest date added already sent; it is advanced in place, per
    collection, so a busy collection never makes the stream skip another's objects."""
    out: list[tuple[str, dict[str, Any], datetime]] = []
    for collection, after in list(since.items()):
        page = hub.query(principal, collection=collection, added_after=after, limit=LIVE_BATCH)
        for rec in page.records:
            kind, data = ("alert", alert(rec).as_json()) if rec.object.get("type") == ALERT_TYPE \
                else ("intel", item(rec).as_json())
            out.append((kind, data, rec.date_added))
            since[collection] = max(since[collection], rec.date_added)
    out.sort(key=lambda e: e[2])
    return out
