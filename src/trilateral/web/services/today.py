"""The Today screen: open cases and their unanswered freeze requests, new alerts, overdue actions and
what partners shared since yesterday, each read through the hub's policy."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from trilateral.core.principal import Principal
from trilateral.web.services import cases as case_service
from trilateral.web.services.intel import FeedItem, FeedQuery, feed

ACTION_WINDOW_DAYS = 365


@dataclass
class TodaySummary:
    cases: list[case_service.Case] = field(default_factory=list)
    unanswered: list[tuple[case_service.Case, dict[str, Any]]] = field(default_factory=list)
    partners: list[FeedItem] = field(default_factory=list)
    partners_more: bool = False
    watch_available: bool = False
    since: datetime | None = None
    own: list[str] = field(default_factory=list)


def watch_available() -> bool:
    """Alerts come from the chain watch package once it is part of this installation."""
    return importlib.util.find_spec("trilateral.watch") is not None


def summary(hub: Any, principal: Principal, home: Path, now: datetime | None = None) -> TodaySummary:
    """Cheap parts of Today (the hub-wide type scans load as fragments after the page)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=1)
    cases = case_service.visible_cases(home, principal)
    page = feed(hub, principal, FeedQuery(collection="shared", since=since))
    own = own_agency(hub, principal)
    partners = [i for i in page.items if i.submitter not in own]
    return TodaySummary(cases=cases, unanswered=[(c, r) for c in cases for r in c.unanswered],
                        partners=partners, partners_more=page.next_cursor is not None,
                        watch_available=watch_available(), since=since, own=sorted(own))


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
