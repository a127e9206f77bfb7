"""`trilateral sim`: generate laundering scenarios with ground truth (thin wrapper over trilateral.sim)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    sim = typer.Typer(help="Simulated chains with DPRK-style laundering and ground truth.", no_args_is_help=True)

    @sim.command("list")
    def list_scenarios(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """The scenarios and the laundering steps each uses."""
        from trilateral.sim import SCENARIOS, multichain

        rows = [{"name": s.name, "summary": s.summary, "steps": list(s.steps)} for s in SCENARIOS.values()]
        rows.append({"name": multichain.NAME, "summary": multichain.SUMMARY, "steps": list(multichain.STEPS)})
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            typer.echo(f"{row['name']}: {row['summary']}\n  steps: {', '.join(row['steps'])}")

    @sim.command("generate")
    def generate_cmd(
        out_dir: Path = typer.Argument(..., help="New or empty directory for the output."),
        scenario: str = typer.Option("lazarus-bridge-hack", "--scenario", help="Scenario name (see `sim list`)."),
        transfers: int = typer.Option(100_000, "--transfers", help="Approximate number of value transfers."),
        seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives byte-identical files."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
        start: str = typer.Option(None, "--start", help="ISO time of block 0 (default 2026-01-01T00:00:00Z)."),
        partition_blocks: int = typer.Option(None, "--partition-blocks", help=(
            "Write ethereum/ in ethereum-etl's export_all layout (start_block=/end_block= partitions of "
            "about this many blocks), so very large runs ingest partition by partition.")),
    ) -> None:
        """Write ethereum/, bitcoin/, thorchain/, labels.yaml, actors.yaml, incident.json, ground_truth.json."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from trilateral.core.times import unix_time
        from trilateral.sim import generate

        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=_stderr_console(), transient=True) as bar:
            task = bar.add_task("simulating", total=1.0)
            summary = generate(scenario, transfers, seed, out_dir,
                               lambda stage, done: bar.update(task, completed=done, description=stage),
                               start=unix_time(start, '--start'), partition_blocks=partition_blocks)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
        else:
            typer.echo(f"wrote {out_dir}: {summary['transfers_written']} transfers, "
                       f"{summary['offramps']} off-ramps, {summary['steps']} laundering steps")

    app.add_typer(sim, name="sim")


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)
