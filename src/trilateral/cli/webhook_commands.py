"""`trilateral member webhook CODE --url URL`: where a member or client receives signed alerts."""

from __future__ import annotations

import typer


def member_webhook(code: str = typer.Argument(..., help="Member or client code."),
                   url: str = typer.Option(..., "--url", help="HTTPS endpoint that receives alert POSTs.")) -> None:
    """Register a webhook for watch alerts; prints its signing secret as the last line (shown once)."""
    from trilateral.core.errors import InputError
    from trilateral.hub import Hub
    from trilateral.watch.store import WatchStore

    if not url.startswith(("https://", "http://")):
        raise InputError(f"webhook URL {url!r} must start with https:// (or http:// for a local receiver)")
    with Hub.open(create=False) as hub:
        principal = hub.principal(code.upper())
        secret = WatchStore(hub.engine).add_webhook(principal.code, url)
    typer.echo(f"webhook for {principal.code} at {url}; verify alerts with this secret (not shown again):")
    typer.echo(secret)


def register(app: typer.Typer) -> None:
    from trilateral.cli.hub_commands import member_app

    member_app.command("webhook")(member_webhook)
