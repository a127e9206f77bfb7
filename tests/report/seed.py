"""A seeded quarter built by hand per docs/interfaces.md: a simulated theft traced and shared, members'
sightings with different TLPs, freeze requests, attribution, techniques and actions.

Each object records who submits it; tests submit them to a real hub (or wrap them as records).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp

NS = uuid.UUID("0b7d1e3a-7c0e-4d4e-8f51-3a2b9c1d0e77")
ETH = 10**18
USDT = 10**6


def sid(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, name)}"


def mark(tlp: Tlp) -> list[str]:
    return [TLP2_MARKING_IDS[tlp]]


@dataclass
class Seed:
    """Objects per submitter, plus the facts tests check against."""

    by_submitter: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)   # label -> text that must not leak
    anchor: datetime = datetime(2026, 7, 10, 8, tzinfo=UTC)

    def add(self, who: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.by_submitter.setdefault(who, []).append(obj)
        return obj

    def all(self) -> list[tuple[str, dict[str, Any]]]:
        return [(who, o) for who, objs in self.by_submitter.items() for o in objs]


def base(kind: str, key: str, created: str, tlp: Tlp, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": sid(kind, key), "created": created, "modified": created,
            "object_marking_refs": mark(tlp), **props}


def anchor_for_now(now: datetime | None = None) -> datetime:
    """A theft time inside the current quarter, before now when the quarter allows (the hub stamps
    date_added with the real clock, so shared-intel figures live in the current quarter)."""
    from trilateral.report.quarter import Quarter

    now = now or datetime.now(UTC)
    start = Quarter.of(now).start
    return max(start + timedelta(hours=1), (now - timedelta(days=25)).replace(minute=0, second=0, microsecond=0))


def seeded_quarter(anchor: datetime | None = None) -> Seed:
    """Around `anchor` (the theft): one traced theft (US, AMBER), register incidents, KR/JP shares, actions."""
    anchor = anchor or anchor_for_now()

    def at(hours: float = 0, days: float = 0) -> str:
        return (anchor + timedelta(hours=hours, days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def day(days: float = 0) -> str:
        return at(days=days)[:10]

    from trilateral.report.quarter import Quarter

    previous = Quarter.of(anchor).previous().start + timedelta(days=4)
    s = Seed()
    s.anchor = anchor
    theft = base("incident", "sim-theft", at(), Tlp.GREEN, name="Simulated exchange hot-wallet theft",
                 x_trilateral_date=day(), x_trilateral_cluster="TraderTraitor",
                 x_trilateral_stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1500 * ETH)}])
    s.add("US", theft)
    older = base("incident", "older", at(days=10), Tlp.CLEAR, name="Register incident August",
                 x_trilateral_date=day(10), x_trilateral_usd_stolen="2500000", x_trilateral_cluster="AppleJeus",
)
    s.add("JP", older)
    earlier_q = base("incident", "q2", previous.strftime("%Y-%m-%dT%H:%M:%S.000Z"), Tlp.CLEAR, name="Register incident May",
                     x_trilateral_date=previous.date().isoformat(), x_trilateral_usd_stolen="16219375", x_trilateral_cluster="APT38",
    )
    s.add("JP", earlier_q)
    lazarus = base("intrusion-set", "lazarus", "2026-01-01T00:00:00.000Z", Tlp.CLEAR, name="Lazarus Group")
    s.add("US", lazarus)
    s.add("US", base("relationship", "attr-theft", at(days=2), Tlp.GREEN, relationship_type="attributed-to",
                     source_ref=theft["id"], target_ref=lazarus["id"], confidence=85, x_trilateral_score=0.91))
    trace = base("x-trilateral-trace", "trace-1", at(days=1), Tlp.AMBER, policy="haircut",
                 seeds=[{"chain": "ethereum", "address": "0x" + "11" * 20}], theft_time=at(),
                 incident_ref=theft["id"], stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1500 * ETH)}],
                 offramps=[{"chain": "ethereum", "address": "0x" + "22" * 20, "entity": "Exchange K", "category": "exchange",
                            "jurisdiction": "KR", "asset": "ETH", "amount": "300", "amount_base_units": str(300 * ETH),
                            "first_seen": at(18), "hops": 5, "confidence": 0.9},
                           {"chain": "ethereum", "address": "0x" + "33" * 20, "entity": "OTC desk", "category": "otc",
                            "jurisdiction": None, "asset": "ETH", "amount": "150.5", "amount_base_units": str(1505 * ETH // 10),
                            "first_seen": at(42), "hops": 7, "confidence": 0.7}],
                 flows={"dex_swap": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(400 * ETH)}],
                        "mixer": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(600 * ETH)}],
                        "bridge": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(250 * ETH)}],
                        "exchange": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(4505 * ETH // 10)}],
                        "unresolved": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1 * ETH // 4)}]},
                 stats={"transfers_scanned": 1000, "seconds": 0.5})
    s.add("US", trace)
    s.add("US", base("x-trilateral-freeze-request", "fr-kr", at(22), Tlp.AMBER, exchange="Exchange K",
                     jurisdiction="KR", routed_to="KR", requested_at=at(22), status="partially_frozen",
                     deposit_addresses=[{"chain": "ethereum", "address": "0x" + "22" * 20, "asset": "ETH",
                                         "amount_base_units": str(300 * ETH), "first_seen": at(18)}],
                     frozen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(120 * ETH)}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    s.add("US", base("x-trilateral-freeze-request", "fr-sc", at(60), Tlp.AMBER, exchange="OTC desk",
                     jurisdiction="SC", requested_at=at(60), status="refused",
                     deposit_addresses=[{"chain": "ethereum", "address": "0x" + "33" * 20, "asset": "ETH",
                                         "amount_base_units": str(1505 * ETH // 10), "first_seen": at(42)}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    # techniques observed in the theft
    for tid, name in (("T1566.002", "Spearphishing Link"), ("T1195.002", "Compromise Software Supply Chain")):
        ap = base("attack-pattern", tid, "2026-01-01T00:00:00.000Z", Tlp.CLEAR, name=name,
                  external_references=[{"source_name": "mitre-attack", "external_id": tid}])
        s.add("US", ap)
        s.add("US", base("relationship", f"uses-{tid}", at(days=2), Tlp.GREEN, relationship_type="uses",
                         source_ref=theft["id"], target_ref=ap["id"]))
    # an indicator shared by US, sighted by KR (GREEN) and JP (AMBER)
    ind = base("indicator", "thief-addr", at(17), Tlp.GREEN, name="Thief address",
               pattern="[cryptocurrency-wallet:address = '0x" + "11" * 20 + "']", pattern_type="stix",
               valid_from=at(17))
    s.add("US", ind)
    s.add("JP", base("indicator", "jp-same-addr", at(30), Tlp.AMBER, name="Same thief address seen by JP",
                     pattern="[cryptocurrency-wallet:address = '0x" + "11" * 20 + "']", pattern_type="stix",
                     valid_from=at(30)))
    s.add("KR", base("sighting", "kr-sight", at(19), Tlp.GREEN, sighting_of_ref=ind["id"],
                     first_seen=at(19), count=3))
    s.add("JP", base("sighting", "jp-sight", at(43), Tlp.AMBER, sighting_of_ref=ind["id"],
                     first_seen=at(41), count=1))
    # content the KR client must never see: US AMBER+STRICT and JP RED (not addressed to the client)
    s.add("US", base("report", "strict", at(days=9), Tlp.AMBER_STRICT, name="STRICT-US-OPERATIONS-NOTE",
                     published=at(days=9), object_refs=[theft["id"]]))
    s.secrets["strict"] = "STRICT-US-OPERATIONS-NOTE"
    s.add("JP", base("x-trilateral-action", "red-action", at(days=11), Tlp.RED,
                     title="RED-JP-ONLY-ACTION", owner="JP", due=day(20), status="open", decided_at=day(11),
                     quarter=str(Quarter.of(anchor)), notes="", x_trilateral_recipients=["US"]))
    s.secrets["red"] = "RED-JP-ONLY-ACTION"
    s.add("US", base("x-trilateral-freeze-request", "fr-strict", at(70), Tlp.AMBER_STRICT,
                     exchange="STRICT-EXCHANGE-Z", jurisdiction="US", routed_to="US", requested_at=at(70),
                     status="frozen", deposit_addresses=[{"chain": "ethereum", "address": "0x" + "44" * 20, "asset": "ETH",
                                                          "amount_base_units": str(10 * ETH), "first_seen": at(64)}],
                     frozen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(10 * ETH)}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    s.secrets["strict-freeze"] = "STRICT-EXCHANGE-Z"
    # actions of earlier meetings, GREEN and AMBER
    s.add("KR", base("x-trilateral-action", "act-1", previous.strftime("%Y-%m-%dT%H:%M:%S.000Z"), Tlp.GREEN,
                     title="Share exchange deposit clusters within 24 h", owner="KR", due=day(12), status="in_progress",
                     decided_at=previous.date().isoformat(), quarter=str(Quarter.of(previous)), notes=""))
    s.add("US", base("x-trilateral-action", "act-2", at(days=3), Tlp.AMBER,
                     title="Publish joint advisory on fake recruiter lures", owner="US", due=day(200), status="open",
                     decided_at=day(3), quarter=str(Quarter.of(anchor)), notes=""))
    return s
