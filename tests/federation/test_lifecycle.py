"""Versions, revocations, deletions, crashes, outages and skewed clocks on three real nodes (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import scratch_postgres
from tests.federation.nodes import Node, converge, federation
from tests.federation.stixgen import Ledger, indicator
from trilateral.core.tlp import Tlp
from trilateral.federation import schema
from trilateral.federation.core import tombstone
from trilateral.hub.types import parse_timestamp, to_micros

pytestmark = pytest.mark.slow  # three real servers: tens of seconds

PAGE = "1000"
SKEW = {"KR": -3600.0, "JP": 3600.0}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    os.environ["TRILATERAL_SYNC_PAGE_SIZE"] = PAGE  # CLI syncs page by 1,000 so a kill lands mid-round
    with ExitStack() as stack:
        pg = None
        if os.environ.get("TRILATERAL_TEST_DATABASE_URL"):
            pg = stack.enter_context(scratch_postgres("trilateral_fed_life"))
        # KR's clock runs an hour behind and JP's an hour ahead for the whole module
        yield stack.enter_context(federation(tmp_path_factory.mktemp("fed-life"), pg, skew=SKEW))


def _ids(node: Node) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for sid, mod in node.held():
        out.setdefault(sid, set()).add(mod)
    return out


def _us(text: str) -> int:
    return to_micros(parse_timestamp(text))


def test_every_version_and_a_revocation_propagate(nodes: dict[str, Node]) -> None:
    v1 = indicator(Tlp.GREEN, n=1)
    nodes["US"].post("US", [v1])
    converge(nodes)
    v2 = dict(v1, modified="2026-03-01T00:00:00.000Z", revoked=True)
    nodes["US"].post("US", [v2])
    converge(nodes)
    for node in nodes.values():
        assert _ids(node)[v1["id"]] == {_us(v1["modified"]), _us(v2["modified"])}, node.code


def test_a_deletion_propagates_as_a_tombstone_applied_only_to_synced_copies(nodes: dict[str, Node]) -> None:
    gone, kept = indicator(Tlp.AMBER, n=2), indicator(Tlp.GREEN, n=3)
    nodes["US"].post("US", [gone])
    nodes["JP"].post("JP", [kept])
    converge(nodes)
    nodes["US"].delete("US", gone["id"])
    # US also states a tombstone for JP's object: it is not US's to delete, so nobody applies it
    nodes["US"].post("US", [tombstone(kept["id"], kept["modified"], Tlp.GREEN, frozenset(),
                                      "2026-04-01T00:00:00.000Z")])
    converge(nodes)
    for node in nodes.values():
        assert gone["id"] not in _ids(node), node.code
        assert kept["id"] in _ids(node), node.code
    # a late copy through another path does not bring it back: the tombstone is remembered
    with nodes["KR"].hub() as hub, hub.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.tombstones.c.stix_id)).scalars().all()
    assert gone["id"] in rows


def _progress(node: Node, peer: str) -> bool:
    with node.hub() as hub, hub.engine.connect() as conn:
        c = schema.cursors.c
        return conn.execute(sa.select(c.next_token).where(c.peer == peer, c.next_token.is_not(None))).first() \
            is not None


def _sync_cli(node: Node, peer: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "trilateral", "sync", "--peer", peer], env=node.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state, parent pid, ... (None: no such process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited (its reaper may be slow)


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").glob("[0-9]*") if (f := _stat(int(p.name))) and f[1] == str(pid)
            and f[0] != "Z"]


def _wait(predicate, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_of_a_syncing_node_and_of_its_peer_then_restart(nodes: dict[str, Node]) -> None:
    us, kr = nodes["US"], nodes["KR"]
    bulk = [indicator(Tlp.GREEN, n=100_000 + i) for i in range(6_000)]
    for i in range(0, len(bulk), 2000):
        us.post("US", bulk[i:i + 2000])
    # 1. the syncing process dies (kill -9) after some pages are stored
    proc = _sync_cli(kr, "US")
    _wait(lambda: _progress(kr, "US") or proc.poll() is not None)
    workers = _children(proc.pid)  # pages of 1,000 are validated in worker processes
    proc.kill()
    proc.wait()
    assert workers, "premise: the sync validated its pages in worker processes"
    _wait(lambda: not any(_alive(pid) for pid in workers), timeout=30)  # none left behind, orphaned
    held = {sid for sid, _ in kr.held()}
    assert 0 < sum(1 for o in bulk if o["id"] in held) < len(bulk)
    # 2. the peer being read dies (kill -9) mid-round: the sync fails naming it
    proc = _sync_cli(kr, "US")
    time.sleep(1.0)
    us.stop(kill=True)
    out, err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        assert "US" in err.splitlines()[-1]
    us.start()
    # 3. restarted: resumes after the last stored page, ends with every object exactly once
    done = kr.cli("sync", "--peer", "US")
    assert done.returncode == 0, done.stderr
    # pages are stored with their cursor in one transaction: nothing was fetched twice
    assert " 0 already here" in done.stdout, done.stdout
    held = kr.held()
    assert all((o["id"], _us(o["modified"])) in held for o in bulk)
    converge(nodes)


def test_a_node_stopped_for_a_while_catches_up(nodes: dict[str, Node]) -> None:
    jp = nodes["JP"]
    jp.stop()
    ledger_objs = [indicator(Tlp.AMBER, n=200_000 + i) for i in range(50)]
    nodes["US"].post("US", ledger_objs[:25])
    nodes["KR"].post("HANGANG", ledger_objs[25:])
    failed = nodes["US"].cli("sync")
    assert failed.returncode != 0 and "JP" in failed.stderr.splitlines()[-1]
    listing = nodes["US"].cli("peer", "list")
    assert "last error" in [line for line in listing.stdout.splitlines() if line.startswith("JP")][0]
    jp.start()
    converge(nodes)
    held = {sid for sid, _ in jp.held()}
    assert all(o["id"] in held for o in ledger_objs)


def test_clocks_skewed_by_an_hour(nodes: dict[str, Node]) -> None:
    """Cursors use only the serving hub's date_added, so clocks an hour apart lose nothing."""
    assert {code: n.skew for code, n in nodes.items() if n.skew} == SKEW
    ledger = Ledger()
    for code in ("US", "KR", "JP"):
        objs = [indicator(Tlp.GREEN, n=300_000 + i) for i in range(20)]
        for o in objs:
            ledger.add(o, code)
        nodes[code].post(code, objs)
    for node in nodes.values():  # syncs run as the skewed nodes' own processes
        assert node.cli("sync").returncode == 0
    converge(nodes)
    for code, node in nodes.items():
        assert ledger.expected(code) <= set(node.held()), code
