"""`trilateral demo`: the main job end to end, with a progress line per step and a closing summary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import typer

DEFAULT_DEMO_HOME = Path("trilateral-demo")


def demo_command(
    transfers: int = typer.Option(1_000_000, "--transfers", help="Size of the simulated chains (value transfers)."),
    seed: int = typer.Option(7, "--seed", help="Simulation seed (same seed, same theft)."),
    home: Path = typer.Option(DEFAULT_DEMO_HOME, "--home", help="Fresh data directory for the demo."),
    attack: Path = typer.Option(None, "--attack", envvar="TRILATERAL_ATTACK_BUNDLE",
                                help="MITRE ATT&CK Enterprise STIX bundle (file or directory) for attribution."),
    incidents: Path = typer.Option(None, "--incidents", envvar="TRILATERAL_INCIDENTS_CSV",
                                   help="Historical DPRK incident register CSV for the report's trends."),
    serve: bool = typer.Option(False, "--serve", help="Then serve the demo hub over TAXII 2.1."),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: address to listen on."),
    port: int = typer.Option(8000, "--port", help="With --serve: port to listen on."),
    live: bool = typer.Option(False, "--live", help="Instead: launder a theft on a local ganache and watch it live."),
    federated: bool = typer.Option(False, "--federated",
                                   help="Then run US, KR and JP as three nodes syncing over TAXII; show what each holds."),
) -> None:
    """Generate, ingest, attribute, trace, freeze, share and report a Lazarus-style theft, end to end."""
    if live:
        from trilateral.demo.live import run_live

        run_live(home, lambda text: typer.echo(text))
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trilateral.core.errors import ConfigurationError
    from trilateral.demo import DemoOptions, run_demo
    from trilateral.demo.run import StepRecord

    attack = attack if attack is not None else attack_in_data_dir(home)
    for path, what in ((attack, "--attack"), (incidents, "--incidents")):
        if path is not None and not path.exists():
            raise ConfigurationError(f"{what} {path} does not exist")
    if serve:
        _check_port_free(host, port)
    console = Console()
    options = DemoOptions(home=home, transfers=transfers, seed=seed, attack=attack, incidents_csv=incidents)
    os.environ["TRILATERAL_HOME"] = str(home.expanduser().resolve())
    os.environ.pop("TRILATERAL_DATABASE_URL", None)  # the demo runs on the embedded default
    console.print(f"[bold]Trilateral demo[/bold] in {options.home} ({transfers:,} transfers, seed {seed})")
    if attack is not None:
        console.print(f"    ATT&CK data: {attack}", highlight=False, soft_wrap=True)
    started = time.perf_counter()

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:

        def on_step(name: str, fn: Callable[[], str]) -> StepRecord:
            task = progress.add_task(name, total=None)
            t0 = time.perf_counter()
            detail = fn()
            seconds = time.perf_counter() - t0
            progress.remove_task(task)
            console.print(f"[green]✔[/green] {name} [dim]({seconds:.1f} s)[/dim]")
            console.print(f"    {detail}", highlight=False, soft_wrap=True)
            return StepRecord(name, seconds, detail)

        summary = run_demo(options, on_step)

    _print_summary(console, summary, time.perf_counter() - started)
    if federated:
        _federated(console, options.home)
    if serve:
        _serve(console, summary, host, port)


def attack_in_data_dir(demo_home: Path) -> Path | None:
    """Without --attack, the ATT&CK data `trilateral refdata update` or `refdata import` put in the
    user's data dir ($TRILATERAL_HOME), so the demo's hint "run `trilateral refdata update`" holds.
    Never a file inside the demo's own home: the demo deletes that first."""
    from trilateral.core.settings import Settings
    from trilateral.refdata.catalog import stored_source

    settings = Settings.from_env()
    source = stored_source(settings)
    if source is None or source.is_relative_to(demo_home.expanduser().resolve()):
        return None
    return source


def _federated(console, home: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from trilateral.demo.federated import run_federated

    held = run_federated(home.expanduser().resolve(), lambda text: console.print(f"    {text}", highlight=False))
    levels = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
    table = Table(title="What each member's node holds (versions, by origin node and TLP)")
    table.add_column("node")
    table.add_column("origin")
    for level in levels:
        table.add_column(level.removeprefix("TLP:"), justify="right")
    for node, counts in held.items():
        for origin in sorted({o for o, _ in counts}):
            table.add_row(node, origin, *(str(counts.get((origin, level), 0)) for level in levels))
    console.print(table)


def _check_port_free(host: str, port: int) -> None:
    import socket

    from trilateral.core.errors import ConfigurationError

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            raise ConfigurationError(f"port {port} on {host} is in use: pass --port with a free port") from None


def _print_summary(console, summary, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from trilateral.demo.summary import summary_rows

    table = Table(title=f"Theft traced ({summary.quarter}, {summary.findings.get('policy', '')} policy)")
    for column in ("", "amount (chain)", "jurisdiction"):
        table.add_column(column)
    for label, value, where in summary_rows(summary):
        table.add_row(label, value, where)
    console.print(table)
    console.print("[bold]Written:[/bold]")
    for what, path in summary.written.items():
        console.print(f"  {what}: {path}")
    console.print(f"[green]Demo finished in {seconds:.0f} s.[/green]")


def _serve(console, summary, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from trilateral.core.settings import Settings
    from trilateral.taxii.app import create_app

    base = f"http://{host}:{port}/taxii2/"
    console.print(f"\n[bold]TAXII 2.1 server[/bold] at {base} — paste into Python with taxii2-client installed:")
    for code, token in summary.tokens.items():
        console.print(f'  from taxii2client.v21 import Server; s = Server("{base}", user="{code}", '
                      f'password="{token}"); print([c.title for c in s.api_roots[0].collections])',
                      soft_wrap=True, highlight=False)
    console.print(f"\n[bold]Analyst console[/bold] at http://{host}:{port}/ — sign in at "
                  f"http://{host}:{port}/login with a code and its token:")
    for code, token in summary.tokens.items():
        console.print(f"  code {code:<14} token {token}", soft_wrap=True, highlight=False)
    console.print("Stop with Ctrl-C.")
    from trilateral.taxii.server import plain_http_warning

    warning = plain_http_warning(host, tls=False)  # the demo has no certificate: say so beyond loopback
    if warning:
        typer.echo(warning, err=True)
    uvicorn.run(create_app(Settings.from_env()), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add `demo` to the root app."""
    app.command("demo")(demo_command)
