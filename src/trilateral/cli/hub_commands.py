"""`trilateral init`, `member ...`, `intel import/export` (audit: audit_commands): thin calls into trilateral.hub."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from trilateral.core.errors import InputError

member_app = typer.Typer(help="Members (national agencies) and their clients, and their API tokens.",
                         no_args_is_help=True)
intel_app = typer.Typer(help="Import and export STIX 2.1 intelligence.", no_args_is_help=True)


def _hub(create: bool = False):  # type: ignore[no-untyped-def]
    from trilateral.hub import Hub

    return Hub.open(create=create)


def init(node: str | None = typer.Option(None, "--node", help="This hub is member CODE's node in a "
                                         "federation (the other members are peers: `trilateral peer add`).")) -> None:
    """Create the data directory and database, and the members US, KR and JP (prints new tokens)."""
    with _hub(create=True) as hub:
        if node:
            from trilateral.federation.node import init_node

            created = init_node(hub, node)
            typer.echo(f"node of {node.upper()} ready at {hub.settings.home} "
                       f"({hub.engine.url.render_as_string(hide_password=True)})")
            for principal, token in created:
                typer.echo(f"{principal.code} token: {token}")
            return
        created = hub.init()
        typer.echo(f"hub ready at {hub.settings.home} ({hub.engine.url.render_as_string(hide_password=True)})")
        if not created:
            typer.echo("US, KR and JP already exist (rotate a token with `trilateral member rotate-token CODE`)")
        for principal, token in created:
            typer.echo(f"{principal.code} token: {token}")


@member_app.command("add")
def member_add(code: str = typer.Argument(..., help="Principal code, e.g. GB or KR-UPBIT."),
               name: str = typer.Option(..., "--name", help="Display name."),
               client_of: str | None = typer.Option(None, "--client-of", help="Sponsoring member code.")) -> None:
    """Add a member, or a client of a member; prints its API token as the last line (shown once)."""
    with _hub() as hub:
        principal, token = hub.add_principal(code, name, client_of=client_of)
        kind = f"client of {principal.sponsor}" if principal.sponsor else "member"
        typer.echo(f"added {principal.code} ({kind}); its API token follows and is not shown again")
        typer.echo(token)


@member_app.command("list")
def member_list(as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """List members and clients (never tokens)."""
    with _hub() as hub:
        rows = hub.list_principals()
    if as_json:
        typer.echo(json.dumps([{"code": r.code, "name": r.name, "kind": r.kind, "sponsor": r.sponsor,
                                "revoked": r.revoked, "created": r.created.isoformat()} for r in rows], indent=2))
        return
    for r in rows:
        status = "revoked" if r.revoked else "active"
        sponsor = f" client of {r.sponsor}" if r.sponsor else ""
        typer.echo(f"{r.code:<16} {r.kind:<7} {status:<8} {r.name}{sponsor}")


@member_app.command("rotate-token")
def member_rotate(code: str) -> None:
    """Replace a principal's token (the old one stops working now); prints the new token last."""
    with _hub() as hub:
        token = hub.rotate_token(code)
    typer.echo(f"new token for {code.upper()} (the previous one no longer works):")
    typer.echo(token)


@member_app.command("revoke")
def member_revoke(code: str) -> None:
    """Revoke a principal: its token fails from now on (a member's clients are cut off too)."""
    with _hub() as hub:
        hub.revoke(code)
    typer.echo(f"revoked {code.upper()}")


@intel_app.command("import")
def intel_import(file: Path = typer.Argument(..., help="STIX 2.1 bundle (JSON)."),
                 as_code: str = typer.Option(..., "--as", help="Submitting member or client code."),
                 collection: str = typer.Option("shared", "--collection", help="shared or member-<CODE>."),
                 as_json: bool = typer.Option(False, "--json", help="Result as JSON on stdout.")) -> None:
    """Import a bundle; good objects are stored, each bad one is listed (exit 2 if any failed)."""
    from rich.progress import Progress

    if not file.is_file():
        raise InputError(f"{file}: no such file")
    console = _stderr_console()
    with _hub() as hub, Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        principal = hub.principal(as_code)
        task = bar.add_task(f"validating {file.name}", total=None)
        result = hub.submit(principal, file.read_bytes(), collection=collection, source=str(file),
                            progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        typer.echo(json.dumps({"status_id": result.status_id, "date_added": result.date_added.isoformat(),
                               "total": result.total, "stored": result.stored, "duplicates": result.duplicates,
                               "failed": [{"id": i, "reason": r} for i, r in result.failed]}, indent=2))
    else:
        typer.echo(f"{file}: {len(result.stored)} stored, {len(result.duplicates)} duplicate, "
                   f"{len(result.failed)} failed of {result.total} (status {result.status_id})")
        for stix_id, reason in result.failed:
            typer.echo(f"failed: {stix_id or '(no id)'}: {reason}", err=True)
    if result.failed:
        raise typer.Exit(2)


@intel_app.command("export")
def intel_export(as_code: str = typer.Option(..., "--as", help="Member or client whose view to export."),
                 since: str | None = typer.Option(None, "--since", help="Only objects added after this ISO time."),
                 out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout.")) -> None:
    """Write the STIX 2.1 bundle of everything CODE may read."""
    with _hub() as hub:
        bundle = hub.export(hub.principal(as_code), since=since)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(bundle['objects'])} objects to {out}", err=True)


def _stderr_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(member_app, name="member")
    app.add_typer(intel_app, name="intel")
