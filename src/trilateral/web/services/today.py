"""The Today screen: open cases and their unanswered freeze requests, new alerts, overdue actions and
what partners shared since yesterday, each read through the hub's policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from trilateral.core.principal import Principal
from trilateral.web.services import cases as case_service
from trilateral.web.services.intel import FeedItem
from trilateral.web.services.recent import Alert, new_alerts, partner_items

ACTION_WINDOW_DAYS = 365
ALERT_WINDOW_DAYS = 7


@dataclass
class TodaySummary:
    cases: list[case_service.Case] = field(default_factory=list)
    unanswered: list[tuple[case_service.Case, dict[str, Any]]] = field(default_factory=list)
    partners: list[FeedItem] = field(default_factory=list)
    partners_more: bool = False
    alerts: list[Alert] = field(default_factory=list)
    alerts_more: bool = False
    alerts_since: datetime | None = None
    since: datetime | None = None
    own: list[str] = field(default_factory=list)


def summary(hub: Any, principal: Principal, home: Path, now: datetime | None = None) -> TodaySummary:
    """Cheap parts of Today (the hub-wide type scans load as fragments after the page)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=1)
    cases = case_service.visible_cases(home, principal)
    own = own_agency(hub, principal)
    partners, partners_more = partner_items(hub, principal, since, own)
    alerts_since = now - timedelta(days=ALERT_WINDOW_DAYS)
    alerts, alerts_more = new_alerts(hub, principal, alerts_since)
    return TodaySummary(cases=cases, unanswered=[(c, r) for c in cases for r in c.unanswered],
                        partners=partners, partners_more=partners_more, alerts=alerts, alerts_more=alerts_more,
                        alerts_since=alerts_since, since=since, own=sorted(own))


def own_agency(hub: Any, principal: Principal) -> set[str]:
    """Codes of the principal's member agency: the member and every client it sponsors."""
    member = principal.member_code
    return {member} | {p.code for p in hub.list_principals() if p.sponsor == member}


def overdue_actions(hub: Any, principal: Principal, today: date) -> list[dict[str, Any]]:
    """Open or in-progress actions of the group's meetings whose due date has passed."""
    from trilateral.report.actions import ACTION_TYPE, OPEN_STATUSES
    from trilateral.report.stix import query_all

    # actions revised within the window: the hub seeks its date index instead of scanning every object
    since = datetime.combine(today - timedelta(days=ACTION_WINDOW_DAYS), datetime.min.time(), UTC)
    found = [r.object for r in query_all(hub, principal, types=[ACTION_TYPE], added_after=since)]
    return sorted((a for a in found if a.get("status") in OPEN_STATUSES and str(a.get("due", "9999")) < today.isoformat()),
                  key=lambda a: (a.get("due", ""), a.get("title", "")))
