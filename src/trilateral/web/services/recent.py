"""What is new for a principal: the chain watch's alerts, what partners shared since yesterday in any
collection, and the live stream's next batch. Everything comes from `hub.query`, whose SQL is the
policy's twin, one collection (or one type) at a time so each read is an index seek at any store size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trilateral.core.principal import Principal
from trilateral.core.tlp import Tlp
from trilateral.web.services.intel import FeedItem, item

ALERT_TYPE = "x-trilateral-watch-alert"
PAGE = 50
LIVE_BATCH = 50


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
    """Alerts added since `since`, newest first, and whether there were more than `limit`.

    One type across every collection, newest first: the hub reads its (type, date added) index backwards."""
    page = hub.newest(principal, collection=None, added_after=since, types=[ALERT_TYPE], limit=limit)
    return list(map(alert, page.records)), page.more


def partner_items(hub: Any, principal: Principal, since: datetime, own: set[str],
                  limit: int = PAGE) -> tuple[list[FeedItem], bool]:
    """The newest objects other agencies shared since `since`, in every collection, newest first; and
    whether there were more. Alerts are left to their own list.

    Per collection one read of its (collection, date added) index backwards (`Hub.newest`); the own
    agency's objects are skipped afterwards, so a page of them leaves fewer partners shown."""
    found: list[FeedItem] = []
    more = False
    for c in hub.collections(principal):
        page = hub.newest(principal, collection=c.id, added_after=since, limit=limit * 2)
        found.extend(i for i in map(item, page.records) if i.submitter not in own and i.type != ALERT_TYPE)
        more = more or page.more
    found.sort(key=lambda i: i.date_added, reverse=True)
    return found[:limit], more or len(found) > limit


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
