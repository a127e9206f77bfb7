"""`trilateral prices ...`: thin commands over trilateral.prices."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trilateral.core.settings import Settings

prices_app = typer.Typer(help="Offline USD prices (day, chain, asset, usd) for findings, letters, reports.",
                         no_args_is_help=True)


@prices_app.command("import")
def prices_import(
    path: Path = typer.Argument(..., help="CSV with columns day, chain, asset (ticker or contract), usd"),
    as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON on stdout."),
) -> None:
    """Import daily prices (idempotent; a later import of the same day/chain/asset replaces the price)."""
    from trilateral.prices import import_prices

    report = import_prices(Settings.from_env(), path)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=1))
    else:
        typer.echo(f"{path}: {report.rows:,} price(s) read, {report.added:,} added, {report.replaced:,} replaced; "
                   f"{report.total:,} in the book", err=True)


def register(app: typer.Typer) -> None:
    """Add the `prices` sub-command to the root app."""
    app.add_typer(prices_app, name="prices")
