"""Quarterly report speed: a quarter with 100,000 hub objects and 1,000 incidents must render in < 30 s.

    .venv/bin/python bench/report.py [--objects 100000] [--incidents 1000] [--database-url URL]

Seeds a fresh hub (SQLite in a temporary home unless --database-url) with incidents, attribution,
techniques, traces, freeze requests, indicators, sightings and actions from US, KR and JP under mixed
TLPs, then times `quarterly_report` (HTML + PDF) for one member and for the group. The baseline,
measured in the same run, is reading every object the audience may see from the hub (the floor any
report has to pay); the ratio says what figures, charts and PDF add on top.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp  # noqa: E402
from trilateral.report.quarter import Quarter  # noqa: E402

MEMBERS = ("US", "KR", "JP")
TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER, Tlp.AMBER_STRICT)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def obj(kind: str, when: datetime, rng: random.Random, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": ts(when), "modified": ts(when), "object_marking_refs": [TLP2_MARKING_IDS[rng.choice(TLPS)]],
            **props}


def build(quarter: Quarter, n_objects: int, n_incidents: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Objects per submitting member; about n_objects in all."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in MEMBERS}
    span = (quarter.end - quarter.start).total_seconds() - 7 * 86400

    def moment() -> datetime:
        return quarter.start + timedelta(seconds=rng.uniform(0, span))

    patterns = [obj("attack-pattern", quarter.start, rng, name=f"Technique {i}",
                    external_references=[{"source_name": "mitre-attack", "external_id": f"T{1000 + i}"}])
                for i in range(60)]
    groups = [obj("intrusion-set", quarter.start, rng, name=n) for n in ("Lazarus Group", "APT38", "Kimsuky", "Andariel")]
    for o in patterns + groups:
        o["object_marking_refs"] = [TLP2_MARKING_IDS[Tlp.CLEAR]]
    out["US"] += patterns + groups
    for i in range(n_incidents):
        who, when = rng.choice(MEMBERS), moment()
        eth = rng.randrange(10**17, 10**22)
        inc = obj("incident", when, rng, name=f"Incident {i}", x_trilateral_date=when.date().isoformat(),
                  x_trilateral_cluster=rng.choice(["TraderTraitor", "AppleJeus", "SquidSquad"]),
                  x_trilateral_usd_stolen=str(rng.randrange(10**4, 10**8)),
                  x_trilateral_stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(eth)}])
        out[who].append(inc)
        out[who].append(obj("relationship", when, rng, relationship_type="attributed-to", source_ref=inc["id"],
                            target_ref=rng.choice(groups)["id"], confidence=rng.randrange(40, 100)))
        for ap in rng.sample(patterns, 3):
            out[who].append(obj("relationship", when, rng, relationship_type="uses", source_ref=inc["id"],
                                target_ref=ap["id"]))
        if i % 5 == 0:
            part = eth // 5
            trace = obj("x-trilateral-trace", when + timedelta(hours=2), rng, policy="haircut", theft_time=ts(when),
                        incident_ref=inc["id"], seeds=[{"chain": "ethereum", "address": "0x" + "ab" * 20}],
                        stolen=[{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(eth)}],
                        flows={k: [{"chain": "ethereum", "asset": "ETH", "amount_base_units": str(part)}]
                               for k in ("dex_swap", "mixer", "bridge", "exchange", "unresolved")},
                        offramps=[{"chain": "ethereum", "address": "0x" + "cd" * 20, "entity": "Ex", "category": "exchange",
                                   "jurisdiction": rng.choice(["KR", "JP", "US", "SC"]), "asset": "ETH",
                                   "amount_base_units": str(part)}], stats={"transfers_scanned": 1})
            out[who].append(trace)
            for _ in range(2):
                out[who].append(obj("x-trilateral-freeze-request", when + timedelta(hours=rng.uniform(3, 72)), rng,
                                    exchange="Ex", jurisdiction=rng.choice(["KR", "JP", "US", "SC"]),
                                    requested_at=ts(when + timedelta(hours=rng.uniform(3, 72))),
                                    status=rng.choice(["requested", "frozen", "partially_frozen", "refused"]),
                                    deposit_addresses=[{"chain": "ethereum", "address": "0x" + "cd" * 20, "asset": "ETH",
                                                        "amount_base_units": str(part)}],
                                    incident_ref=inc["id"], trace_ref=trace["id"]))
    for i in range(50):
        out[rng.choice(MEMBERS)].append(obj("x-trilateral-action", moment(), rng, title=f"Action {i}",
                                            owner=rng.choice(MEMBERS), due=(moment() + timedelta(days=30)).date().isoformat(),
                                            status=rng.choice(["open", "in_progress", "done", "closed"]),
                                            decided_at=moment().date().isoformat(), quarter=str(quarter), notes=""))
    indicators: list[dict[str, Any]] = []
    while sum(len(v) for v in out.values()) < n_objects:
        who, when = rng.choice(MEMBERS), moment()
        if not indicators or rng.random() < 0.6:
            ind = obj("indicator", when, rng, name="wallet", pattern_type="stix", valid_from=ts(when),
                      pattern=f"[cryptocurrency-wallet:address = '0x{rng.getrandbits(160):040x}']")
            indicators.append(ind)
            out[who].append(ind)
        else:
            out[who].append(obj("sighting", when, rng, sighting_of_ref=rng.choice(indicators)["id"],
                                first_seen=ts(when), count=rng.randrange(1, 9)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--home", type=Path, default=None,
                        help="Keep the seeded hub here; a later run with the same --home reuses it.")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="trilateral-bench-report-"))
    os.environ["TRILATERAL_HOME"] = str(home)
    if args.database_url:
        os.environ["TRILATERAL_DATABASE_URL"] = args.database_url
    from trilateral.hub import Hub
    from trilateral.report import quarterly_report
    from trilateral.report.collect import collect_records, resolve_audience

    quarter = Quarter.of(datetime.now(UTC))
    print(f"command: .venv/bin/python bench/report.py --objects {args.objects} --incidents {args.incidents}"
          + (" --database-url ..." if args.database_url else ""))
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    hub = Hub.open()
    hub.init()
    people = {code: hub.principal(code) for code in MEMBERS}
    existing = hub.count_visible(people["US"], None)
    if existing >= args.objects:
        print(f"reusing the hub in {home}: {existing:,} objects")
    else:
        t0 = time.perf_counter()
        total = 0
        for who, objects in build(quarter, args.objects, args.incidents).items():
            for start in range(0, len(objects), 5000):
                result = hub.submit(people[who], objects[start:start + 5000])
                assert not result.failed, result.failed[:3]
                total += len(result.stored)
        print(f"seeded {total:,} objects ({args.incidents:,} incidents) in {time.perf_counter() - t0:.1f} s "
              f"(hub: {hub.engine.url.get_backend_name()})")
    print(f"load average before the timed runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for audience in ("US", "group"):
        t = time.perf_counter()
        who = resolve_audience(hub, audience)
        records = collect_records(hub, who)
        read = time.perf_counter() - t
        t = time.perf_counter()
        result = quarterly_report(hub, quarter, audience, home / f"out-{audience}")
        seconds = time.perf_counter() - t
        print(f"{audience:>6}: {len(records):,} readable objects; read baseline {read:.2f} s; "
              f"report (HTML + PDF) {seconds:.2f} s = {seconds / read:.1f}x baseline; "
              f"{'PASS' if seconds < 30 else 'FAIL'} (< 30 s); {result.tlp.label}; pdf "
              f"{result.pdf_path.stat().st_size // 1024 if result.pdf_path else 0} KiB")
        print("        phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items()))
    hub.close()


if __name__ == "__main__":
    main()
