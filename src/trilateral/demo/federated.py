"""`trilateral demo --federated`: the main job's intelligence on three member nodes, synced over TAXII.

After the main job has run on its hub, each member gets its own node (`init --node`, a client
exchange each where the demo has one, peers in a full mesh); everything each principal submitted
in the job is submitted again on its own member's node; then the three nodes, served by real
`trilateral serve` processes on loopback, sync until nothing new arrives. The closing table shows
what each node holds, by origin and TLP level — the policy's cut, node by node.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from trilateral.core.principal import DEFAULT_MEMBERS
from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp
from trilateral.federation.node import add_peer, init_node, set_peer_token
from trilateral.federation.sync import sync_all
from trilateral.hub import Hub


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _submitted(hub: Hub) -> dict[str, list]:
    """principal code -> every version it submitted in the main job (it always reads its own)."""
    out: dict[str, list] = {}
    for info in hub.list_principals():
        p, cursor = info.principal(), None
        while True:
            page = hub.query(p, collection=None, versions="all", cursor=cursor)
            out.setdefault(p.code, []).extend(r for r in page.records if r.submitted_by == p.code)
            if not page.more:
                break
            cursor = page.next_cursor
    return out


def run_federated(main_home: Path, echo: Callable[[str], None]) -> dict[str, Counter]:
    """Spread the main job over three nodes under `main_home/nodes`, sync, and say what each holds."""
    members = [code for code, _ in DEFAULT_MEMBERS]
    with Hub.open(Settings.from_env({"TRILATERAL_HOME": str(main_home)}), create=False) as main:
        principals = {i.code: i.principal() for i in main.list_principals()}
        submitted = _submitted(main)
    envs = {m: {**os.environ, "TRILATERAL_HOME": str(main_home / "nodes" / m), "TRILATERAL_ACCESS_LOG": "off"}
            for m in members}
    for env in envs.values():
        env.pop("TRILATERAL_DATABASE_URL", None)
    ports = {m: _free_port() for m in members}
    hubs = {m: Hub.open(Settings.from_env(envs[m])) for m in members}
    try:
        for m, hub in hubs.items():
            init_node(hub, m)
            for p in principals.values():
                if p.sponsor == m and p.code not in {i.code for i in hub.list_principals()}:
                    hub.add_principal(p.code, p.name, client_of=m)
        pairs = [(reader, source) for reader in members for source in members if reader != source]
        tokens = {(r, s): add_peer(hubs[s], r, f"http://127.0.0.1:{ports[r]}/taxii2/") for r, s in pairs}
        for (reader, source), token in tokens.items():  # each side registered the other above
            set_peer_token(hubs[reader], source, token)
        procs = []
        for m in members:
            log = (main_home / "nodes" / m / "serve.log").open("wb")
            procs.append(subprocess.Popen([sys.executable, "-m", "trilateral", "serve", "--port", str(ports[m])],
                                          env=envs[m], stdout=log, stderr=log))
        try:
            for m in members:
                _wait(f"http://127.0.0.1:{ports[m]}/taxii2/")
            for m in members:  # first round: each node learns the clients the others host
                sync_all(hubs[m])
            for code, records in submitted.items():
                node = principals[code].member_code
                if node not in hubs or not records:
                    continue
                p = principals[code]
                by_collection: dict[str, list] = {}
                for r in records:
                    by_collection.setdefault(r.collection, []).append(r.object)
                for collection, objs in by_collection.items():
                    hubs[node].submit(p, objs, collection=collection if collection in
                                      {c.id for c in hubs[node].collections(p)} else "shared")
            echo(f"three nodes under {main_home / 'nodes'}: " + ", ".join(
                f"{m} {sum(len(v) for c, v in submitted.items() if principals[c].member_code == m)} versions"
                for m in members))
            started = time.perf_counter()
            for _ in range(4):
                new = sum(r.received for m in members for r in sync_all(hubs[m]) if r.ok)
                if not new:
                    break
            echo(f"synced in {time.perf_counter() - started:.1f} s over TAXII 2.1")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        return {m: _holdings(hubs[m], m) for m in members}
    finally:
        for hub in hubs.values():
            hub.close()


def _holdings(hub: Hub, node: str) -> Counter:
    """(origin, TLP label) -> versions held on this node (tombstones and directory entries left out)."""
    import sqlalchemy as sa

    from trilateral.hub.schema import objects

    o = objects.c
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(o.source, o.tlp, sa.func.count()).where(
            o.stix_type.not_in(["x-trilateral-tombstone", "identity"])).group_by(o.source, o.tlp)).all()
    out: Counter = Counter()
    for source, tlp, n in rows:
        origin = source.removeprefix("federation:") if source and source.startswith("federation:") else node
        out[(origin, Tlp(tlp).label)] += n
    return out


def _wait(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"a demo node did not answer at {url} within {timeout:.0f} s")
