"""`trilateral peer ...` and `trilateral sync`: thin calls into trilateral.federation (docs/federation.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.progress import TaskID

peer_app = typer.Typer(help="Peer nodes: the other members' Trilateral nodes (federation).", no_args_is_help=True)


def _hub():  # type: ignore[no-untyped-def]
    from trilateral.hub import Hub

    return Hub.open(create=False)


@peer_app.command("add")
def peer_add(code: str = typer.Argument(..., help="The peer member's code, e.g. KR."),
             url: str = typer.Option(..., "--url", help="The peer node's TAXII discovery URL (…/taxii2/).")) -> None:
    """Register member CODE's node; prints, on its last line, the token CODE's node must present here."""
    from trilateral.federation.node import add_peer

    with _hub() as hub:
        token = add_peer(hub, code, url)
    typer.echo(f"peer {code.upper()} at {url}; give this token to {code.upper()}'s node "
               f"(`trilateral peer token {hub.node_code} TOKEN` there):")
    typer.echo(token)


@peer_app.command("token")
def peer_token(code: str = typer.Argument(..., help="The peer member's code."),
               token: str = typer.Argument(..., help="The token CODE's node printed for this node.")) -> None:
    """Set the token this node presents to CODE's node."""
    from trilateral.federation.node import set_peer_token

    with _hub() as hub:
        set_peer_token(hub, code, token)
    typer.echo(f"token for {code.upper()} saved")


@peer_app.command("list")
def peer_list(as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """Peers with the lag since their last good sync and their last error."""
    from trilateral.federation.node import peer_rows

    with _hub() as hub:
        rows = peer_rows(hub)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        lag = "never synced" if r["lag_seconds"] is None else f"lag {r['lag_seconds']} s"
        token = "" if r["token_set"] else " (no token: `trilateral peer token`)"
        error = f" last error: {r['last_error']}" if r["last_error"] else ""
        typer.echo(f"{r['code']:<8} {r['url']}  {lag}, {r['received']} received{token}{error}")


@peer_app.command("remove")
def peer_remove(code: str) -> None:
    """Stop syncing with CODE and revoke the token its node used here."""
    from trilateral.federation.node import remove_peer

    with _hub() as hub:
        remove_peer(hub, code)
    typer.echo(f"removed peer {code.upper()}")


def sync(peer: str | None = typer.Option(None, "--peer", help="Only this peer.")) -> None:
    """Sync with the peers once, in the foreground; non-zero naming each peer that failed."""
    from trilateral.federation.sync import sync_all
    from trilateral.hub import Hub

    # serving=True: a long writer; SQLite WAL checkpoints run in a background thread, not in its commits
    with Hub.open(create=False, serving=True) as hub, _progress() as advance:
        results = sync_all(hub, peer.upper() if peer else None, progress=advance)
    for r in results:
        if not r.pulled:
            typer.echo(f"{r.peer}: not pulled (no token: it reads this node, this node does not read it)")
            continue
        state = "ok" if r.ok else f"FAILED: {r.error}"
        typer.echo(f"{r.peer}: {state}; {r.received} new, {r.duplicates} already here, {r.skipped} skipped, "
                   f"{len(r.refused)} refused, {r.deleted} deleted")
        for reason in r.refused[:5]:
            typer.echo(f"  refused: {reason}", err=True)
    failed = [r for r in results if not r.ok]
    if failed:
        typer.echo("error: sync failed with " + ", ".join(f"{r.peer} ({r.error})" for r in failed), err=True)
        raise typer.Exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], None]]:
    """A progress bar (stderr) per peer: objects read from it so far (the total is not known ahead)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("sync {task.description}: {task.completed:,} objects read"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(peer: str, objects: int) -> None:
            if peer not in tasks:
                tasks[peer] = bar.add_task(peer, total=None)
            bar.advance(tasks[peer], objects)

        yield advance


def register(app: typer.Typer) -> None:
    app.add_typer(peer_app, name="peer")
    app.command("sync")(sync)
