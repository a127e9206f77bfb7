"""`trilateral case open|list|show|close`: the cases `trilateral watch` follows (thin over trilateral.watch)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

case_app = typer.Typer(help="Cases: stolen funds followed live by `trilateral watch`.", no_args_is_help=True)


def _store():  # type: ignore[no-untyped-def]
    from trilateral.hub import Hub
    from trilateral.watch.store import WatchStore

    hub = Hub.open(create=False)
    return hub, WatchStore(hub.engine)


@case_app.command("open")
def case_open(name: str = typer.Option(..., "--name", help="Case name, e.g. the incident's."),
              chain: str = typer.Option(..., "--chain", help="Chain of the seeds: ethereum, bsc, …, tron, bitcoin"),
              seeds: str = typer.Option(None, "--from", help="Seeds: addresses (all they send is stolen) and/or "
                                                             "transaction hashes, comma-separated."),
              from_trace: Path = typer.Option(None, "--from-trace", help="Findings JSON of a finished trace: its "
                                              "seeds, and its holdings as the starting taint state."),
              incident: str = typer.Option(None, "--incident", help="Incident id (e.g. a STIX incident)."),
              policy: str = typer.Option("haircut", "--policy", help="Taint policy: haircut, poison or fifo."),
              as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """Open a case from seeds; prints the case id as the last line."""
    from trilateral.core.errors import InputError
    from trilateral.trace.engine import parse_seeds
    from trilateral.trace.taint import POLICIES

    if policy not in POLICIES:
        raise InputError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
    holdings: list[tuple[str, str, int, float]] = []
    if from_trace is not None:
        from trilateral.watch.cases import trace_seeds_and_holdings

        seeds, holdings = trace_seeds_and_holdings(from_trace, chain, seeds)
    if not seeds:
        raise InputError("give --from SEEDS and/or --from-trace FINDINGS.json")
    addresses, txs = parse_seeds(chain, seeds.split(","))
    hub, store = _store()
    with hub:
        case_id = store.open_case(name, chain, policy, addresses, txs, incident, holdings)
        row = store.case(case_id)
    if as_json:
        typer.echo(json.dumps(row.as_dict(), indent=2))
        return
    typer.echo(f"opened case {case_id} ({name}, {chain}, {len(addresses)} address and {len(txs)} transaction "
               f"seed(s), {len(holdings)} holding(s)); `trilateral watch` follows it")
    typer.echo(str(case_id))


@case_app.command("list")
def case_list(all_cases: bool = typer.Option(False, "--all", help="Closed cases too."),
              as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """List open cases (with --all, closed ones too)."""
    hub, store = _store()
    with hub:
        rows = store.cases(None if all_cases else "open")
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    for r in rows:
        typer.echo(f"{r.id:<5} {r.status:<7} {r.chain:<10} {r.policy:<8} {r.name}")


@case_app.command("show")
def case_show(case_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")
              ) -> None:
    """A case: its seeds, the stolen value it holds where, and its alerts."""
    from trilateral.watch.core import Case

    hub, store = _store()
    with hub:
        row = store.case(case_id)
        case = Case(row.spec(), store.load_kv(f"case:{case_id}"))
        alerts = store.alerts_of(case_id)
    holdings = [{"address": a, "asset": asset, "amount_base_units": str(v)}
                for (a, asset), v in sorted(case.holdings().items(), key=lambda kv: -kv[1])]
    doc = {**row.as_dict(), "holdings": holdings, "alerts": alerts}
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    typer.echo(f"case {row.id}: {row.name} ({row.status}, {row.chain}, {row.policy})")
    typer.echo(f"seeds: {', '.join(row.seeds + row.seed_txs)}")
    typer.echo(f"holdings ({len(holdings)}):")
    for h in holdings[:50]:
        typer.echo(f"  {h['address']} {h['asset']} {h['amount_base_units']} base units")
    typer.echo(f"alerts ({len(alerts)}):")
    for a in alerts:
        mark = " (retracted)" if a["retracted"] else ""
        typer.echo(f"  {a['block']['time']} {a['kind']} {a['amount']} {a['asset']} -> {a['entity'] or '-'} "
                   f"{a['address']}{mark}")


@case_app.command("close")
def case_close(case_id: int = typer.Argument(...)) -> None:
    """Close a case: the watch stops following it (its state and alerts stay)."""
    hub, store = _store()
    with hub:
        store.close_case(case_id)
    typer.echo(f"closed case {case_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
