"""Console benchmark: server time per page at 1,000,000 stored objects, and case graphs in Chromium.

    .venv/bin/python bench/console.py [--stored 1000000] [--requests 40] [--edges 10000,50000]
        [--keep DIR [--build-only | --graphs-only]]   # build the stores once in DIR and reuse them

Setup (not measured): a SQLite hub bulk-loaded with `--stored` indicators (bench/correlation.py's
loader), 2,000 recent objects submitted through the hub, 100 chain-watch alerts, an incident with its
attribution, and cases (linked to the incident) whose findings carry `--edges` tainted flows. Measured, over real HTTP against `trilateral serve`:
  - per page and JSON call, signed in as a member (US) and a client (KR-UPBIT): `--requests` GETs,
    server time from the access log (ms the app spent), p50 / p95, and the same pages at a small
    baseline store (`--baseline` objects) in the same run;
  - per case graph, in headless Chromium (Debian's chromium, Playwright): from navigation start to
    the first frame with the graph drawn, and the nodes / edges drawn (aggregated beyond the budget).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from correlation import bulk_load, fix_sequences  # noqa: E402
from trilateral.core.settings import Settings  # noqa: E402
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp  # noqa: E402
from trilateral.hub import Hub  # noqa: E402

PAGES = ["/", "/today/actions", "/today/freeze", "/intel", "/intel?since=2000-01-01",
         "/intel?since=2000-01-01&type=indicator&tlp=green", "/intel?q=10.0.1.2&since=2000-01-01",
         "/intel/object/{object_id}", "/intel/object/{object_id}/sightings",
         "/api/console/feed?since=2000-01-01", "/api/console/object/{object_id}",
         "/intel/share", "/cases", "/cases/{case_id}", "/cases/{case_id}/context", "/api/console/cases",
         "/api/console/alerts", "/screening", "/reports", "/admin", "/admin/audit", "/api/console/audit"]


def write_case(home: Path, name: str, edges: int, seed: int = 1, incident: str | None = None) -> Path:
    """A case with `edges` flows: layers of addresses, each fed by two of the previous layer."""
    rng = random.Random(seed)
    addresses = max(2, edges // 2)
    layers, width = [], max(1, addresses // 10)
    made = 0
    while made < addresses:
        layers.append([f"0x{(len(layers) << 32 | i):040x}" for i in range(min(width, addresses - made))])
        made += len(layers[-1])
    seed_address = "0x" + "5" * 40
    flows = []
    prev = [seed_address]
    for layer in layers:
        for target in layer:
            for source in {rng.choice(prev), rng.choice(prev)}:
                flows.append({"from": source, "to": target, "chain": "ethereum", "asset": "ETH",
                              "amount_base_units": str(rng.randrange(10**15, 10**19)),
                              "confidence": round(rng.uniform(0.5, 1.0), 3), "kind": "transfer"})
        prev = layer
    while len(flows) < edges:
        a, b = rng.choice(layers[-2]), rng.choice(layers[-1])
        flows.append({"from": a, "to": b, "chain": "ethereum", "asset": "ETH", "amount_base_units": "1000",
                      "confidence": 0.9, "kind": "transfer"})
    flows = flows[:edges]
    offramps = [{"chain": "ethereum", "address": a, "entity": f"Exchange {i % 7}", "category": "exchange",
                 "jurisdiction": "KR", "asset": "ETH", "amount": "1", "amount_base_units": "1000000000000000000",
                 "first_seen": "2026-03-01T00:00:00Z", "hops": len(layers), "confidence": 0.9}
                for i, a in enumerate(layers[-1][:200])]
    case = home / "cases" / name
    case.mkdir(parents=True, exist_ok=True)
    (case / "findings.json").write_text(json.dumps({
        "name": name, "policy": "haircut", "seeds": [{"chain": "ethereum", "address": seed_address}],
        "offramps": offramps, "holdings": [], "warnings": [], "edges": flows, "incident": incident,
        "stats": {"transfers_scanned": edges, "seconds": 0.0}}))
    return case


def recent_objects(hub: Hub, n: int) -> str:
    """n recent GREEN/AMBER indicators from KR and JP through hub.submit; one id to open."""
    t = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    first = ""
    for who in ("KR", "JP"):
        objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                 "created": t, "modified": t, "name": f"recent {who} {i}", "pattern_type": "stix",
                 "pattern": f"[ipv4-addr:value = '192.0.{i % 250}.{i // 250 % 250}']", "valid_from": t,
                 "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN if i % 2 else Tlp.AMBER]]} for i in range(n // 2)]
        hub.submit(hub.principal(who), {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs})
        first = first or objs[0]["id"]
    return first


def alerts_and_attribution(hub: Hub, n: int) -> str:
    """n chain-watch alerts (their STIX form, AMBER to KR and KR-UPBIT), and an incident with the
    actor and attributed-to relationship `trilateral attribute` shares, all by US; the incident's id."""
    from trilateral.watch.alerts import alert_body, stix_bundle
    from trilateral.watch.model import Alert

    raised = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    for i in range(n):
        a = Alert(case_id=1, kind="exchange_deposit", chain="ethereum", block_number=100 + i, block_hash=f"0x{i:064x}",
                  timestamp=int(time.time()), tx_hash=f"0x{i + 1:064x}", address=f"0x{i:040x}", asset="ETH",
                  asset_key="ETH", decimals=18, amount=10**18 + i, confidence=0.9, seq=0, entity="Upbit",
                  category="exchange", jurisdiction="KR", hot_wallet="0x" + "a1" * 20)
        hub.submit(hub.principal("US"), stix_bundle(alert_body(a, {"id": 1, "name": "bench"}, ["KR", "KR-UPBIT"],
                                                                raised, None)))
    mark = {"spec_version": "2.1", "created": raised, "modified": raised,
            "object_marking_refs": [TLP2_MARKING_IDS[Tlp.AMBER]]}
    incident = {"type": "incident", "id": f"incident--{uuid.uuid4()}", "name": "bench theft", **mark}
    actor = {"type": "intrusion-set", "id": f"intrusion-set--{uuid.uuid4()}", "name": "Lazarus Group", **mark}
    rel = {"type": "relationship", "id": f"relationship--{uuid.uuid4()}", "relationship_type": "attributed-to",
           "source_ref": incident["id"], "target_ref": actor["id"], "confidence": 80, **mark}
    hub.submit(hub.principal("US"), {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                     "objects": [incident, actor, rel]})
    return incident["id"]


def serve(home: Path, db: str, log: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, TRILATERAL_HOME=str(home), TRILATERAL_DATABASE_URL=db, TRILATERAL_ACCESS_LOG=str(log))
    proc = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("trilateral serve did not start")


def signed_in(base: str, code: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    res = client.post("/login", data={"code": code, "token": token, "csrf": csrf})
    assert res.status_code == 200 and "Sign out" in res.text, res.text[:300]
    return client


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure_pages(base: str, log: Path, tokens: dict[str, str], fills: dict[str, str], n: int) -> dict:
    out: dict[str, dict] = {}
    for code in ("US", "KR-UPBIT"):
        client = signed_in(base, code, tokens[code])
        for page in PAGES:
            path = page.format(**fills)
            client.get(path)  # warm (template compile, first imports)
            start = len(log.read_text().splitlines())
            for _ in range(n):
                status = client.get(path).status_code
            entries = [json.loads(x) for x in log.read_text().splitlines()[start:]]
            ms = [e["ms"] for e in entries if e["path"] == path.split("?")[0]][-n:]
            out[f"{code} {page}"] = {"status": status, "p50": pct(ms, 0.5), "p95": pct(ms, 0.95)}
    return out


def measure_graph(base: str, token: str, case_ids: dict[int, str]) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--enable-unsafe-swiftshader", "--use-angle=swiftshader"])
        context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto("/login")
        page.fill("#code", "US")
        page.fill("#token", token)
        page.click("button[type=submit]")
        for edges, case_id in case_ids.items():
            runs = []
            for _ in range(3):  # a fresh tab each time: first render, not a re-render
                tab = context.new_page()
                tab.goto(f"/cases/{case_id}")
                tab.wait_for_selector("#graph[data-rendered]", timeout=60_000)
                runs.append(tab.evaluate("() => ({total: performance.now(), ...(({ms, nodes, edges, aggregated}) =>"
                                          " ({ms, nodes, edges, aggregated}))(window.trilateralGraph), marks: window.trilateralGraph.marks})"))
                if len(runs) < 3:
                    tab.close()
            first = runs[0]
            drawn = sorted(r["marks"]["drawn"] for r in runs)  # navigation start to the first frame drawn
            out[edges] = {"first_render_ms": round(drawn[0]), "median_render_ms": round(drawn[1]),
                          "worst_render_ms": round(drawn[-1]),
                          "fetch_to_draw_ms": round(sorted(r["ms"] for r in runs)[1]),
                          "marks": {k: round(v) for k, v in runs[-1]["marks"].items()}, "nodes": first["nodes"], "edges": first["edges"], "aggregated": first["aggregated"]}
            tab.screenshot(path=str(Path(tempfile.gettempdir()) / f"console-graph-{edges}.png"))
            tab.close()
        browser.close()
    return out


def build(workdir: Path, stored: int, edges: list[int]) -> tuple[Path, str, dict[str, str], dict[str, str], dict[int, str]]:
    home = workdir / "home"
    db = f"sqlite:///{home / 'hub.sqlite3'}"
    hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL": db}))
    tokens = {p.code: t for p, t in hub.init()}
    for member, client in (("US", "US-BANK"), ("KR", "KR-UPBIT"), ("JP", "JP-EX")):
        tokens[client] = hub.add_principal(client, client, client_of=member)[1]
    t0 = time.perf_counter()
    bulk_load(hub, 0, stored)
    fix_sequences(hub)
    print(f"  loaded {stored:,} objects in {time.perf_counter() - t0:.0f} s", flush=True)
    object_id = recent_objects(hub, 2000)
    incident = alerts_and_attribution(hub, 100)
    hub.close()
    case_ids = {}
    from trilateral.web.services.cases import load_case

    for n in edges:
        case_ids[n] = load_case(write_case(home, f"graph-{n}", n, incident=incident) / "findings.json").id
    return home, db, tokens, {"object_id": object_id, "case_id": case_ids[edges[0]]}, case_ids


BUILD_VERSION = 3  # bump when build() changes: --keep then builds afresh in a new subdirectory


def build_or_reuse(workdir: Path, stored: int, edges: list[int]) -> tuple:
    """The built store of an earlier run with the same size when `workdir` keeps one (`--keep`)."""
    manifest = workdir / "built.json"
    if manifest.is_file():
        m = json.loads(manifest.read_text())
        if m["stored"] == stored and m["edges"] == edges:
            print(f"  reusing the {stored:,}-object store in {workdir}", flush=True)
            return (Path(m["home"]), m["db"], m["tokens"], m["fills"], {int(k): v for k, v in m["case_ids"].items()})
    home, db, tokens, fills, case_ids = build(workdir, stored, edges)
    manifest.write_text(json.dumps({"stored": stored, "edges": edges, "home": str(home), "db": db, "tokens": tokens,
                                    "fills": fills, "case_ids": case_ids}))
    return home, db, tokens, fills, case_ids


def run(workdir: Path, stored: int, n: int, edges: list[int], graphs: bool, pages: bool = True) -> dict:
    home, db, tokens, fills, case_ids = build_or_reuse(workdir, stored, edges)
    log = workdir / "access.jsonl"
    from tests.taxii.conftest import free_port

    port = free_port()
    proc = serve(home, db, log, port)
    try:
        base = f"http://127.0.0.1:{port}"
        timed = measure_pages(base, log, tokens, fills, n) if pages else {}
        graph = measure_graph(base, tokens["US"], case_ids) if graphs else {}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {"pages": timed, "graph": graph}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--edges", default="10000,50000")
    ap.add_argument("--keep", type=Path, help="build the stores in this directory and reuse them on the next run")
    ap.add_argument("--build-only", action="store_true", help="with --keep: build the stores, measure nothing")
    ap.add_argument("--graphs-only", action="store_true", help="measure the case graphs only (no page timings)")
    args = ap.parse_args()
    edges = [int(x) for x in args.edges.split(",")]
    print(f"$ {' '.join(sys.argv)}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    if args.keep:
        args.keep = args.keep / f"v{BUILD_VERSION}"
        args.keep.mkdir(parents=True, exist_ok=True)
        if args.build_only:
            build_or_reuse(args.keep / "baseline", args.baseline, edges[:1])
            build_or_reuse(args.keep / "large", args.stored, edges)
            return
        base = run(args.keep / "baseline", args.baseline, args.requests, edges[:1], graphs=False,
                   pages=not args.graphs_only)
        big = run(args.keep / "large", args.stored, args.requests, edges, graphs=True, pages=not args.graphs_only)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            base = run(Path(tmp) / "baseline", args.baseline, args.requests, edges[:1], graphs=False)
        with tempfile.TemporaryDirectory() as tmp:
            big = run(Path(tmp) / "large", args.stored, args.requests, edges, graphs=True)
    print(f"\nserver time per page (ms, access log), {args.requests} requests each; "
          f"baseline {args.baseline:,} vs {args.stored:,} stored")
    print(f"{'principal page':<70} {'p50':>7} {'p95':>7} {'base p95':>9} {'ratio':>6} status")
    worst = 0.0
    for key, row in big["pages"].items():
        b = base["pages"][key]
        worst = max(worst, row["p95"])
        print(f"{key:<70} {row['p50']:>7.1f} {row['p95']:>7.1f} {b['p95']:>9.1f} "
              f"{row['p95'] / max(b['p95'], 0.01):>6.2f} {row['status']}")
    print(f"worst p95: {worst:.1f} ms (goal < 150 ms)")
    print("\ncase graph in headless Chromium (navigation start to first frame drawn)")
    for n, g in big["graph"].items():
        print(f"  {n:>6,} edges: first render {g['first_render_ms']} ms best, {g['median_render_ms']} ms median, "
              f"{g['worst_render_ms']} ms worst of 3 fresh tabs ("
              f"fetch to draw {g['fetch_to_draw_ms']} ms), drawn {g['nodes']:,} nodes / {g['edges']:,} edges, "
              f"aggregated={g['aggregated']}; last run's marks (ms since navigation): {g['marks']}")
    print(f"load at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
