"""Fuzz the TAXII server (issue 14): random POST envelopes and query parameters, zero 5xx allowed.

Starts a real `trilateral serve` on a fresh hub (SQLite, or PostgreSQL with --db postgres), then
sends hypothesis-generated requests as members and clients: envelopes of mutated STIX objects
(random types, ids in any case, markings real / upper-case / custom / TLP-claiming, granular
markings, recipients, bundles inside, deep nesting, odd timestamps and values) and GET / DELETE
requests on objects, manifest, by id, versions and status with random filters (timestamps near
years 1 and 9999, bad limits, forged `next` tokens). Counts answers by status class; exits 1 on any 5xx.

    python bench/fuzz_taxii.py --examples 1500 [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trilateral.core.settings import Settings  # noqa: E402
from trilateral.core.tlp import TLP2_MARKING_IDS  # noqa: E402
from trilateral.hub import Hub  # noqa: E402
from trilateral.hub.database import create_scratch_database, drop_scratch_database  # noqa: E402

TAXII = "application/taxii+json;version=2.1"
BASE = "/api/v1/collections/shared/"
CODES = ["US", "KR", "JP", "KR-C", "NOBODY"]
ids = st.builds(lambda t, u, up: f"{t}--{(str(u).upper() if up else str(u))}",
                st.sampled_from(["indicator", "ipv4-addr", "marking-definition", "bundle", "identity", "sighting",
                                 "extension-definition", "x-custom", "Indicator"]),
                st.uuids(), st.booleans())
fixed_ids = st.sampled_from([*TLP2_MARKING_IDS.values(), TLP2_MARKING_IDS[max(TLP2_MARKING_IDS)].upper(),
                             "extension-definition--2f6b1c0e-6c3d-4c1e-9a51-7e3b8f5d2a10"])
stamps = st.one_of(
    st.sampled_from(["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2026-02-30T00:00:00Z",
                     "2026-01-01T00:00:00.123456789Z", "2026-01-01", "", "now", "2026-01-01T00:00:00+99:99"]),
    st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=12))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=12)
marking_refs = st.lists(st.one_of(fixed_ids, ids, st.text(max_size=10)), max_size=3)


def _deep(n: int) -> dict:
    value: dict = {}
    for _ in range(n):
        value = {"x": value}
    return value


stix_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "ipv4-addr", "marking-definition", "bundle", "identity", "sighting",
                              "relationship", "x-custom", "", "extension-definition"]),
     "id": st.one_of(ids, fixed_ids, st.text(max_size=10))},
    optional={"spec_version": st.sampled_from(["2.1", "2.0", "3"]), "created": stamps, "modified": stamps,
              "name": st.one_of(st.sampled_from(["TLP:RED", "tlp:amber+strict", "TLP: CLEAR"]), st.text(max_size=10)),
              "pattern": st.sampled_from(["[ipv4-addr:value = '10.0.0.1']", "[", "[x:y = 1]"]),
              "pattern_type": st.sampled_from(["stix", "snort"]), "valid_from": stamps, "value": st.text(max_size=10),
              "object_marking_refs": marking_refs,
              "granular_markings": st.lists(st.fixed_dictionaries({"marking_ref": st.one_of(fixed_ids, ids),
                                                                   "selectors": st.lists(st.text(max_size=10))}),
                                            max_size=2),
              "x_trilateral_recipients": st.lists(st.sampled_from([*CODES, "", "x" * 70]), max_size=3),
              "objects": st.lists(st.dictionaries(st.text(max_size=5), scalars, max_size=3), max_size=2),
              "definition": json_values, "extensions": json_values, "x_deep": st.sampled_from([1, 100, 300, 900]).map(_deep),
              "sighting_of_ref": ids, "created_by_ref": st.one_of(ids, st.text(max_size=5))})
envelopes = st.one_of(st.fixed_dictionaries({"objects": st.lists(stix_objects, min_size=1, max_size=6)}),
                      json_values.map(lambda v: {"objects": v}), json_values)
params = st.dictionaries(
    st.sampled_from(["limit", "next", "added_after", "match[id]", "match[type]", "match[version]",
                     "match[spec_version]", "match[other]"]),
    st.one_of(stamps, ids, st.sampled_from(["0", "-1", "10001", "1", "first,last", "all", "2.1", ""]),
              st.text(max_size=30)), max_size=4)
paths = st.sampled_from(["objects/", "manifest/", "objects/{id}/", "objects/{id}/versions/", "status/{id}"])
requests_ = st.one_of(st.tuples(st.just("POST"), st.sampled_from(CODES[:4]), envelopes),
                      st.tuples(st.sampled_from(["GET", "GET", "DELETE"]), st.sampled_from(CODES[:4]),
                                st.tuples(paths, st.one_of(ids, fixed_ids), params)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1500)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fuzz-taxii-"))
    url = f"sqlite:///{work / 'hub.sqlite3'}"
    if args.db == "postgres":
        url = create_scratch_database(os.environ.get("TRILATERAL_TEST_DATABASE_URL",
                                                     "postgresql+psycopg://postgres@127.0.0.1:5432/test"), "fuzz")
    env = dict(os.environ, TRILATERAL_HOME=str(work), TRILATERAL_DATABASE_URL=url,
               PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    hub = Hub.open(Settings.from_env(env))
    tokens = {p.code: t for p, t in hub.init()}
    tokens["KR-C"] = hub.add_principal("KR-C", "Client of KR", client_of="KR")[1]
    hub.close()
    port = free_port()
    err = (work / "serve.stderr").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/taxii2/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        clients = {c: httpx.Client(base_url=base, auth=(c, tokens[c]), timeout=60, headers={"Accept": TAXII})
                   for c in tokens}
        started = time.perf_counter()

        @settings(max_examples=args.examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(requests_)
        def run(request: tuple) -> None:
            method, code, payload = request
            client = clients[code]
            if method == "POST":
                import json

                try:
                    body = json.dumps(payload).encode()
                except (ValueError, RecursionError):
                    return
                send = lambda: client.post(BASE + "objects/", content=body,  # noqa: E731
                                           headers={"Content-Type": TAXII})
            else:
                path, stix_id, query = payload
                path = path.format(id=stix_id)
                prefix = "/api/v1/" if path.startswith("status/") else BASE
                send = lambda: client.request(method, prefix + path, params=query)  # noqa: E731
            try:
                r = send()
            except httpx.TransportError as exc:  # a dropped connection is as bad as a 5xx
                counts["5xx"] += 1
                counts["dropped"] += 1
                failures.append(f"{method} {code}: connection dropped ({exc})")
                return
            counts[f"{r.status_code // 100}xx"] += 1
            counts[str(r.status_code)] += 1
            if r.status_code >= 500:
                failures.append(f"{method} {r.request.url} -> {r.status_code}: {r.text[:200]}")

        run()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        err.close()
        if args.db == "postgres":
            drop_scratch_database(url)
    total = sum(v for k, v in counts.items() if k.endswith("xx"))
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if not k.endswith("xx"))
    print(f"fuzz_taxii ({args.db}): {total} requests in {elapsed:.1f} s; 2xx {counts['2xx']}, 4xx {counts['4xx']}, "
          f"5xx {counts['5xx']} ({detail})")
    for line in failures[:20]:
        print("5xx:", line)
    traceback_logged = "Traceback" in (work / "serve.stderr").read_text(errors="replace")
    print(f"server log has a traceback: {traceback_logged}")
    return 1 if failures or traceback_logged else 0


if __name__ == "__main__":
    sys.exit(main())
