"""A seeded quarter built by hand per docs/interfaces.md: a simulated theft traced and shared, members'
sightings with different TLPs, freeze requests, attribution, techniques and actions.

Each object records who submits it; tests submit them to a real hub (or wrap them as records).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
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

    def add(self, who: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.by_submitter.setdefault(who, []).append(obj)
        return obj

    def all(self) -> list[tuple[str, dict[str, Any]]]:
        return [(who, o) for who, objs in self.by_submitter.items() for o in objs]


def base(kind: str, key: str, created: str, tlp: Tlp, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": sid(kind, key), "created": created, "modified": created,
            "object_marking_refs": mark(tlp), **props}


def seeded_quarter() -> Seed:
    """2026Q3: one traced theft (US, AMBER), one register incident (CLEAR), shares of KR/JP and a KR client."""
    s = Seed()
    theft = base("incident", "sim-theft", "2026-07-10T08:00:00.000Z", Tlp.GREEN, name="Simulated exchange hot-wallet theft",
                 x_trilateral_date="2026-07-10", x_trilateral_cluster="TraderTraitor",
                 x_trilateral_stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1500 * ETH)}])
    s.add("US", theft)
    older = base("incident", "older", "2026-08-02T00:00:00.000Z", Tlp.CLEAR, name="Register incident August",
                 x_trilateral_date="2026-08-02", x_trilateral_usd_stolen="2500000", x_trilateral_cluster="AppleJeus",
)
    s.add("JP", older)
    earlier_q = base("incident", "q2", "2026-05-05T00:00:00.000Z", Tlp.CLEAR, name="Register incident May",
                     x_trilateral_date="2026-05-05", x_trilateral_usd_stolen="16219375", x_trilateral_cluster="APT38",
    )
    s.add("JP", earlier_q)
    lazarus = base("intrusion-set", "lazarus", "2026-01-01T00:00:00.000Z", Tlp.CLEAR, name="Lazarus Group")
    s.add("US", lazarus)
    s.add("US", base("relationship", "attr-theft", "2026-07-12T00:00:00.000Z", Tlp.GREEN, relationship_type="attributed-to",
                     source_ref=theft["id"], target_ref=lazarus["id"], confidence=85, x_trilateral_score=0.91))
    trace = base("x-trilateral-trace", "trace-1", "2026-07-11T00:00:00.000Z", Tlp.AMBER, policy="haircut",
                 seeds=[{"chain": "ethereum", "address": "0x" + "11" * 20}], theft_time="2026-07-10T08:00:00Z",
                 incident_ref=theft["id"], stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1500 * ETH)}],
                 offramps=[{"chain": "ethereum", "address": "0x" + "22" * 20, "entity": "Exchange K", "category": "exchange",
                            "jurisdiction": "KR", "asset": "ETH", "amount": "300", "amount_base_units": str(300 * ETH),
                            "first_seen": "2026-07-11T02:00:00Z", "hops": 5, "confidence": 0.9},
                           {"chain": "ethereum", "address": "0x" + "33" * 20, "entity": "OTC desk", "category": "otc",
                            "jurisdiction": None, "asset": "ETH", "amount": "150.5", "amount_base_units": str(1505 * ETH // 10),
                            "first_seen": "2026-07-12T02:00:00Z", "hops": 7, "confidence": 0.7}],
                 flows={"dex_swap": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(400 * ETH)}],
                        "mixer": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(600 * ETH)}],
                        "bridge": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(250 * ETH)}],
                        "exchange": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(4505 * ETH // 10)}],
                        "unresolved": [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(1 * ETH // 4)}]},
                 stats={"transfers_scanned": 1000, "seconds": 0.5})
    s.add("US", trace)
    s.add("US", base("x-trilateral-freeze-request", "fr-kr", "2026-07-11T06:00:00.000Z", Tlp.AMBER, exchange="Exchange K",
                     jurisdiction="KR", routed_to="KR", requested_at="2026-07-11T06:00:00Z", status="partially_frozen",
                     deposit_addresses=[{"chain": "ethereum", "address": "0x" + "22" * 20, "asset": "ETH",
                                         "amount_base_units": str(300 * ETH), "first_seen": "2026-07-11T02:00:00Z"}],
                     frozen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(120 * ETH)}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    s.add("US", base("x-trilateral-freeze-request", "fr-sc", "2026-07-12T20:00:00.000Z", Tlp.AMBER, exchange="OTC desk",
                     jurisdiction="SC", requested_at="2026-07-12T20:00:00Z", status="refused",
                     deposit_addresses=[{"chain": "ethereum", "address": "0x" + "33" * 20, "asset": "ETH",
                                         "amount_base_units": str(1505 * ETH // 10), "first_seen": "2026-07-12T02:00:00Z"}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    # techniques observed in the theft
    for tid, name in (("T1566.002", "Spearphishing Link"), ("T1195.002", "Compromise Software Supply Chain")):
        ap = base("attack-pattern", tid, "2026-01-01T00:00:00.000Z", Tlp.CLEAR, name=name,
                  external_references=[{"source_name": "mitre-attack", "external_id": tid}])
        s.add("US", ap)
        s.add("US", base("relationship", f"uses-{tid}", "2026-07-12T00:00:00.000Z", Tlp.GREEN, relationship_type="uses",
                         source_ref=theft["id"], target_ref=ap["id"]))
    # an indicator shared by US, sighted by KR (GREEN) and JP (AMBER)
    ind = base("indicator", "thief-addr", "2026-07-11T01:00:00.000Z", Tlp.GREEN, name="Thief address",
               pattern="[cryptocurrency-wallet:address = '0x" + "11" * 20 + "']", pattern_type="stix",
               valid_from="2026-07-11T01:00:00Z")
    s.add("US", ind)
    s.add("KR", base("sighting", "kr-sight", "2026-07-11T03:00:00.000Z", Tlp.GREEN, sighting_of_ref=ind["id"],
                     first_seen="2026-07-11T03:00:00Z", count=3))
    s.add("JP", base("sighting", "jp-sight", "2026-07-12T03:00:00.000Z", Tlp.AMBER, sighting_of_ref=ind["id"],
                     first_seen="2026-07-12T01:00:00Z", count=1))
    # content the KR client must never see: US AMBER+STRICT and JP RED (not addressed to the client)
    s.add("US", base("report", "strict", "2026-07-20T00:00:00.000Z", Tlp.AMBER_STRICT, name="STRICT-US-OPERATIONS-NOTE",
                     published="2026-07-20T00:00:00Z", object_refs=[theft["id"]]))
    s.secrets["strict"] = "STRICT-US-OPERATIONS-NOTE"
    s.add("JP", base("x-trilateral-action", "red-action", "2026-07-21T00:00:00.000Z", Tlp.RED,
                     title="RED-JP-ONLY-ACTION", owner="JP", due="2026-08-30", status="open", decided_at="2026-07-21",
                     quarter="2026Q3", notes="", x_trilateral_recipients=["US"]))
    s.secrets["red"] = "RED-JP-ONLY-ACTION"
    s.add("US", base("x-trilateral-freeze-request", "fr-strict", "2026-07-13T06:00:00.000Z", Tlp.AMBER_STRICT,
                     exchange="STRICT-EXCHANGE-Z", jurisdiction="US", routed_to="US", requested_at="2026-07-13T06:00:00Z",
                     status="frozen", deposit_addresses=[{"chain": "ethereum", "address": "0x" + "44" * 20, "asset": "ETH",
                                                          "amount_base_units": str(10 * ETH), "first_seen": "2026-07-13T00:00:00Z"}],
                     frozen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(10 * ETH)}],
                     incident_ref=theft["id"], trace_ref=trace["id"]))
    s.secrets["strict-freeze"] = "STRICT-EXCHANGE-Z"
    # actions of earlier meetings, GREEN and AMBER
    s.add("KR", base("x-trilateral-action", "act-1", "2026-04-15T00:00:00.000Z", Tlp.GREEN,
                     title="Share exchange deposit clusters within 24 h", owner="KR", due="2026-08-31", status="in_progress",
                     decided_at="2026-04-15", quarter="2026Q2", notes=""))
    s.add("US", base("x-trilateral-action", "act-2", "2026-07-30T00:00:00.000Z", Tlp.AMBER,
                     title="Publish joint advisory on fake recruiter lures", owner="US", due="2026-12-15", status="open",
                     decided_at="2026-07-30", quarter="2026Q3", notes=""))
    return s
