"""A ring A→B→C→A converges without loops or churn; a plain TAXII 2.1 server (medallion) is a feed whose
objects all share one date_added across many pages (issue 18).

The feed holds the issue's 5,000 objects, all of one date_added (one POST to medallion), served in
pages of FEED_PAGE: every page boundary cuts that one date_added, which loses objects when a poller
moves added_after inside a round. medallion's memory backend sorts its first page in quadratic time
(its manifest against its objects: ~160 s for 5,000 on a quiet 2-core machine); later pages are
quick, so the test costs that first page once.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.federation.nodes import Node, converge, federation
from tests.federation.stixgen import Ledger, indicator, principal, random_batch
from tests.taxii.conftest import free_port
from trilateral.core.tlp import Tlp
from trilateral.federation.node import add_peer, set_peer_token
from trilateral.hub.policy import may_read

pytestmark = pytest.mark.slow  # three real servers: tens of seconds

# (reader, source): KR reads US, JP reads KR, US reads JP
RING = [("KR", "US"), ("JP", "KR"), ("US", "JP")]
TAXII = "application/taxii+json;version=2.1"
FEED_OBJECTS, FEED_PAGE = 5000, 100


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    with federation(tmp_path_factory.mktemp("ring"), None, pairs=RING) as nodes:
        yield nodes


def _ring_expected(ledger: Ledger) -> dict[str, set]:
    """What each node holds when it reads only its ring predecessor: its own versions, plus what its
    predecessor holds that one of its principals may read (to a fixed point)."""
    source = {reader: src for reader, src in RING}
    held = {n: {k for k, (_, origin) in ledger.versions.items() if origin == n} for n in source}
    changed = True
    while changed:
        changed = False
        for node, src in source.items():
            hosted = [principal(node), principal({"US": "COINBASE", "KR": "HANGANG", "JP": "SAKURA"}[node])]
            new = {k for k in held[src] if any(may_read(p, ledger.versions[k][0]) for p in hosted)} - held[node]
            if new:
                held[node] |= new
                changed = True
    return held


def test_a_ring_converges_once_round_without_echo_or_churn(ring: dict[str, Node]) -> None:
    ledger = Ledger()
    for (node, submitter), objs in random_batch(random.Random(7), ledger, 150, 0).items():
        ring[node].post(submitter, objs)
    converge(ring, rounds=4)
    expected = _ring_expected(ledger)
    for code, node in ring.items():
        assert set(node.held()) == expected[code], code
    # GREEN from US went all the way round (US -> KR -> JP) and stopped before US again
    green_us = {k for k, (m, o) in ledger.versions.items() if o == "US" and m.tlp == Tlp.GREEN}
    assert green_us and green_us <= set(ring["JP"].held())
    for node in ring.values():  # steady state: nothing moves, not even duplicates
        for r in node.sync():
            assert r.ok and r.received == 0 and r.duplicates == 0, r


def _medallion(workdir: Path, users: dict[str, str]) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    root = f"http://127.0.0.1:{port}/feed/"
    collection = str(uuid.uuid4())
    data = {"/discovery": {"title": "feed", "default": root, "api_roots": [root]},
            "feed": {"information": {"title": "feed", "versions": [TAXII], "max_content_length": 100 * 1024 * 1024},
                     "status": [], "collections": [{"id": collection, "title": "feed", "can_read": True,
                                                    "can_write": True, "objects": [], "manifest": [],
                                                    "media_types": ["application/stix+json;version=2.1"]}]}}
    (workdir / "data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(workdir / "data.json"), "session_timeout": 3600},
              "users": users, "taxii": {"max_page_size": FEED_PAGE}}
    (workdir / "config.json").write_text(json.dumps(config))
    log = (workdir / "medallion.log").open("wb")
    process = subprocess.Popen([str(Path(sys.executable).with_name("medallion")), "--host", "127.0.0.1", "--port",
                                str(port), str(workdir / "config.json")], stdout=log, stderr=log)
    return process, f"http://127.0.0.1:{port}/taxii2/", f"{root}collections/{collection}/"


def test_a_plain_taxii_server_is_a_feed_and_objects_of_one_date_added_all_arrive(
        ring: dict[str, Node], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRILATERAL_SYNC_TIMEOUT", "900")  # medallion's memory backend pages slowly
    jp = ring["JP"]
    process, discovery, collection = _medallion(tmp_path, {"JP": "feed-secret", "admin": "admin-secret"})
    try:
        for _ in range(300):
            try:
                if httpx.get(discovery, auth=("admin", "admin-secret"), headers={"Accept": TAXII},
                             timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            __import__("time").sleep(0.1)
        objs = [indicator(Tlp.CLEAR, n=500_000 + i) for i in range(FEED_OBJECTS)]
        posted = httpx.post(collection + "objects/", json={"objects": objs}, auth=("admin", "admin-secret"),
                            headers={"Accept": TAXII, "Content-Type": TAXII}, timeout=600)
        assert posted.status_code == 202, posted.text
        manifest = httpx.get(collection + "manifest/", auth=("admin", "admin-secret"), headers={"Accept": TAXII},
                             timeout=600).json()
        assert len({r["date_added"] for r in manifest["objects"]}) == 1, "premise: one date_added for all"
        with jp.hub() as hub:
            add_peer(hub, "FEED", discovery)
            set_peer_token(hub, "FEED", "feed-secret")
        (result,) = jp.sync("FEED")
        assert result.ok and result.received == FEED_OBJECTS, result
        held = {sid for sid, _ in jp.held()}
        assert all(o["id"] in held for o in objs)
        (again,) = jp.sync("FEED")
        assert again.ok and again.received == 0 and again.duplicates == 0, again
    finally:
        process.terminate()
        process.wait(timeout=30)
