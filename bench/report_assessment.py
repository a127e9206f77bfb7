"""What issue 16's assessment adds to the report's figures, measured in one process on one hub.

    .venv/bin/python bench/report_assessment.py --home DIR [--rounds 3]

DIR is a hub seeded by `bench/report.py --home DIR` (100,000 objects, 1,000 incidents). The records
are read once; then, alternating to share the machine's load, the figures of the statistics annex
alone (incidents, flows, freezes, intel, techniques, actions: the baseline) and the full figures
(plus incident dedup, canonical actor names, the previous quarter and the assessment).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["TRILATERAL_HOME"] = str(args.home)
    from trilateral.hub import Hub
    from trilateral.report.actions import action_figures
    from trilateral.report.build import compute_figures
    from trilateral.report.collect import collect_records, resolve_audience
    from trilateral.report.figures_flows import flow_figures
    from trilateral.report.figures_freeze import freeze_figures
    from trilateral.report.figures_incidents import incident_figures
    from trilateral.report.figures_intel import intel_figures
    from trilateral.report.figures_techniques import technique_figures
    from trilateral.report.quarter import Quarter
    from trilateral.report.records import RecordSet

    hub = Hub.open()
    records = collect_records(hub, resolve_audience(hub, "US"))
    hub.close()
    quarter = Quarter.of(datetime.now(UTC))

    def annex() -> None:
        rs = RecordSet(records)
        for fn in (incident_figures, flow_figures, freeze_figures, intel_figures, technique_figures, action_figures):
            fn(rs, quarter)

    def full() -> None:
        compute_figures(RecordSet(records), quarter)

    times: dict[str, list[float]] = {"annex": [], "full": []}
    print(f"{len(records):,} records; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for _ in range(args.rounds):
        for name, fn in (("annex", annex), ("full", full)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    a, f = statistics.median(times["annex"]), statistics.median(times["full"])
    print(f"annex figures (baseline) median {a:.2f} s; full figures with the assessment median {f:.2f} s "
          f"= {f / a:.2f}x baseline (+{f - a:.2f} s); load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
