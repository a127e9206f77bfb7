"""Setting a hub up as one member's node and registering its peers (the CLI's calls)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime

from trilateral.core.errors import InputError
from trilateral.core.principal import DEFAULT_MEMBERS, Principal
from trilateral.core.settings import Settings
from trilateral.federation import store
from trilateral.hub.database import reading, writing
from trilateral.hub.errors import AuthenticationError
from trilateral.hub.hub import Hub

log = logging.getLogger("trilateral.federation")
_NAMES = dict(DEFAULT_MEMBERS)


def _code(text: str) -> str:
    code = text.strip().upper()
    if not code:
        raise InputError("a member code is needed (e.g. US)")
    return code


def init_node(hub: Hub, node: str) -> list[tuple[Principal, str]]:
    """Make this hub member `node`'s node: that member (if new, with its token) and nothing else."""
    node = _code(node)
    hub.cursor_secret  # noqa: B018 - create the secret with the database
    with writing(hub.engine) as conn:
        store.set_node_code(conn, node)
    if any(p.code == node for p in hub.list_principals()):
        return []
    return [hub.add_principal(node, _NAMES.get(node, node))]


def require_node(hub: Hub) -> str:
    node = hub.node_code
    if node is None:
        raise InputError("this hub is not a federation node: run `trilateral init --node CODE` first")
    return node


def add_peer(hub: Hub, code: str, url: str) -> str:
    """Register member `code`'s node at `url`; the token that node must present here (new each time)."""
    code, node = _code(code), require_node(hub)
    if code == node:
        raise InputError(f"{code} is this node's own member; peers are the other members")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--url {url!r} must be the peer's TAXII discovery URL (http(s)://HOST:PORT/taxii2/)")
    existing = {p.code: p for p in hub.list_principals()}
    if code in existing and existing[code].kind != "member":
        raise InputError(f"{code} is a client here; a peer node is a member")
    if code in existing and not existing[code].revoked:
        token = hub.rotate_token(code)
    else:
        _, token = hub.add_principal(code, _NAMES.get(code, code))
    with writing(hub.engine) as conn:
        store.add_peer(conn, code, url)
    return token


def set_peer_token(hub: Hub, code: str, token: str) -> None:
    require_node(hub)
    if not token.strip():
        raise InputError("the token is empty")
    with writing(hub.engine) as conn:
        store.set_token(conn, _code(code), token.strip())


def remove_peer(hub: Hub, code: str) -> None:
    """Stop syncing with `code` and revoke the token its node presented here."""
    code = _code(code)
    with writing(hub.engine) as conn:
        store.remove_peer(conn, code)
    with contextlib.suppress(InputError, AuthenticationError):
        hub.revoke(code)


def peer_rows(hub: Hub) -> list[dict]:
    with reading(hub.engine) as conn:
        peers = store.peers(conn)
    now = time.time_ns() // 1000
    rows = []
    for p in peers:
        lag = None if p.last_ok_us is None else round((now - p.last_ok_us) / 1e6, 1)
        rows.append({"code": p.code, "url": p.url, "token_set": bool(p.token), "lag_seconds": lag,
                     "last_ok": None if p.last_ok_us is None else
                     datetime.fromtimestamp(p.last_ok_us / 1e6, UTC).isoformat(timespec="seconds"),
                     "last_error": p.last_error, "received": p.received})
    return rows


class BackgroundSync:
    """`serve --sync-interval S`: a daemon thread syncing with every peer, S seconds after each round."""

    def __init__(self, settings: Settings | None, interval: float) -> None:
        self.settings, self.interval = settings, interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="federation-sync", daemon=True)

    def start(self) -> BackgroundSync:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from trilateral.federation.sync import sync_all

        hub = Hub.open(self.settings, create=False, serving=True)  # WAL checkpoints off the sync's commits
        try:
            while not self._stop.is_set():
                try:
                    for r in sync_all(hub):
                        if r.error:
                            log.warning("sync with %s failed: %s", r.peer, r.error)
                except Exception:  # noqa: BLE001 - keep syncing; the server must not die with it
                    log.exception("sync round failed")
                self._stop.wait(self.interval)
        finally:
            hub.close()
