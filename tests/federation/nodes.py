"""Three real `trilateral serve` nodes (US, KR, JP) on loopback, each with its own client.

Nodes are set up in process (init --node, clients, peers, tokens: the same calls the CLI makes),
then each is served by its own `trilateral serve` subprocess. Sync runs in the test process
(`sync_all`, over real HTTP) or as the `trilateral sync` command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.taxii.conftest import free_port, wait_until_serving
from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.settings import Settings
from trilateral.federation.node import add_peer, init_node, set_peer_token
from trilateral.federation.sync import PeerResult, sync_all
from trilateral.hub import Hub
from trilateral.hub.schema import object_recipients, objects

CLIENTS = {"US": "COINBASE", "KR": "HANGANG", "JP": "SAKURA"}
SKEW_DIR = Path(__file__).with_name("skewclock")
TAXII = "application/taxii+json;version=2.1"


@dataclass
class Node:
    code: str
    home: Path
    database_url: str
    port: int
    tokens: dict[str, str] = field(default_factory=dict)  # local principals' tokens
    skew: float = 0.0
    process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, TRILATERAL_HOME=str(self.home), TRILATERAL_DATABASE_URL=self.database_url,
                   TRILATERAL_ACCESS_LOG="off")
        if self.skew:
            env["PYTHONPATH"] = os.pathsep.join([str(SKEW_DIR), env.get("PYTHONPATH", "")])
            env["TRILATERAL_TEST_CLOCK_SKEW"] = str(self.skew)
        return env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client(self) -> str:
        return CLIENTS[self.code]

    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def hub(self) -> Hub:
        return Hub.open(self.settings(), create=False)

    def principals(self) -> list[Principal]:
        return [Principal(self.code, PrincipalKind.MEMBER),
                Principal(self.client, PrincipalKind.CLIENT, self.code)]

    def spawn(self, *extra: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.stderr = self.home / "serve.stderr"
        with self.stderr.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "trilateral", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 *extra], env=self.env, stdout=subprocess.DEVNULL, stderr=err)

    def wait(self) -> None:
        assert self.process is not None
        wait_until_serving(self.base, self.process, self.stderr, timeout=180)

    def start(self, *extra: str) -> None:
        self.spawn(*extra)
        self.wait()

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def post(self, code: str, objs: list[dict], collection: str = "shared") -> dict:
        """Submit as local principal `code` over TAXII (what a member's or client's tool does)."""
        response = httpx.post(f"{self.base}/api/v1/collections/{collection}/objects/",
                              content=__import__("orjson").dumps({"objects": objs}),
                              headers={"Content-Type": TAXII, "Accept": TAXII},
                              auth=(code, self.tokens[code]), timeout=120)
        assert response.status_code == 202, response.text
        status = response.json()
        assert status["failure_count"] == 0, status
        return status

    def delete(self, code: str, object_id: str, collection: str = "shared") -> None:
        response = httpx.delete(f"{self.base}/api/v1/collections/{collection}/objects/{object_id}/",
                                headers={"Accept": TAXII}, auth=(code, self.tokens[code]), timeout=60)
        assert response.status_code == 200, response.text

    def sync(self, only: str | None = None) -> list[PeerResult]:
        with self.hub() as hub:
            return sync_all(hub, only)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "trilateral", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def held(self, include_federation_objects: bool = False) -> dict[tuple[str, int], str]:
        """(id, modified_us) -> content hash of every stored version (tombstones/directory left out)."""
        with self.hub() as hub, hub.engine.connect() as conn:
            rows = conn.execute(sa.select(objects.c.stix_id, objects.c.modified_us, objects.c.content_hash,
                                          objects.c.stix_type))
            return {(r.stix_id, r.modified_us): r.content_hash for r in rows
                    if include_federation_objects or r.stix_type not in ("x-trilateral-tombstone", "identity")}

    def recipients_held(self) -> dict[str, set[str]]:
        with self.hub() as hub, hub.engine.connect() as conn:
            rows = conn.execute(sa.select(objects.c.stix_id, object_recipients.c.code).select_from(
                objects.join(object_recipients, object_recipients.c.object_seq == objects.c.seq)))
            out: dict[str, set[str]] = {}
            for r in rows:
                out.setdefault(r.stix_id, set()).add(r.code)
            return out


def link(nodes: Iterable[Node], pairs: Iterable[tuple[str, str]]) -> None:
    """Every node registers every other as a peer (`peer add`: its member principal and URL); then for
    each (reader, source) the reader gets the token to present to the source (`peer token`). A peer
    without a token is read-only: it pulls from this node, this node does not pull from it."""
    by = {n.code: n for n in nodes}
    tokens = {}
    for source in by.values():
        with source.hub() as hub:
            for reader in by:
                if reader != source.code:
                    tokens[(reader, source.code)] = add_peer(hub, reader, f"{by[reader].base}/taxii2/")
    for reader, source in pairs:
        with by[reader].hub() as hub:
            set_peer_token(hub, source, tokens[(reader, source)])


@contextmanager
def federation(tmp: Path, pg_url: str | None, pairs: Iterable[tuple[str, str]] | None = None,
               skew: dict[str, float] | None = None, serve_args: tuple[str, ...] = ()) -> Iterator[dict[str, Node]]:
    """US, KR, JP nodes (KR on PostgreSQL when `pg_url`), each with one client, linked by `pairs`
    (default: everyone pulls from everyone), served by real `trilateral serve` processes."""
    nodes = {}
    for code in ("US", "KR", "JP"):
        home = tmp / code
        url = pg_url if (code == "KR" and pg_url) else f"sqlite:///{home / 'hub.sqlite3'}"
        node = Node(code, home, url, free_port(), skew=(skew or {}).get(code, 0.0))
        with Hub.open(node.settings()) as hub:
            for principal, token in init_node(hub, code):
                node.tokens[principal.code] = token
            _, node.tokens[node.client] = hub.add_principal(node.client, f"{node.client} exchange", client_of=code)
        nodes[code] = node
    pairs = list(pairs) if pairs is not None else [(a, b) for a in nodes for b in nodes if a != b]
    with ExitStack() as stack:
        for node in nodes.values():  # in parallel: a server takes seconds to load the STIX libraries
            node.spawn(*serve_args)
            stack.callback(node.stop)
        for node in nodes.values():
            node.wait()
        link(nodes.values(), pairs)
        converge(nodes, rounds=4)  # a first round: every node learns the clients the others host
        yield nodes
        logs = {n.code: n.stderr.read_text(errors="replace") for n in nodes.values()}
    for code, log in logs.items():
        assert "Traceback" not in log, f"node {code} logged a traceback:\n{log}"


def converge(nodes: dict[str, Node], rounds: int = 3) -> None:
    """Sync rounds until a whole round stores nothing new (at most `rounds`)."""
    for _ in range(rounds):
        new = 0
        for node in nodes.values():
            for r in node.sync():
                assert r.ok, f"{node.code} <- {r.peer}: {r.error}"
                new += r.received
        if not new:
            return
    raise AssertionError(f"no convergence after {rounds} rounds")
