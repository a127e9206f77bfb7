"""`trilateral report quarterly`, `incidents import|add`, `actions add|list|update|close`: thin calls into
trilateral.report (the figures, registers and rendering live there)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import typer

from trilateral.core.errors import InputError

report_app = typer.Typer(help="The quarterly joint assessment (HTML + PDF).", no_args_is_help=True)
incidents_app = typer.Typer(help="The incident register: DPRK thefts as STIX incidents in the hub.",
                            no_args_is_help=True)
actions_app = typer.Typer(help="The action register: decisions of the group's meetings.", no_args_is_help=True)

DEFAULT_AS = os.environ.get("TRILATERAL_AS", "US")
AS_HELP = "Member or client code that submits (default: $TRILATERAL_AS, else US)."


def _hub():  # type: ignore[no-untyped-def]
    from trilateral.hub import Hub

    return Hub.open(create=False)


def _tlp(text: str):  # type: ignore[no-untyped-def]
    from trilateral.core.tlp import Tlp

    try:
        return Tlp.parse(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


@report_app.command("quarterly")
def report_quarterly(
    quarter: str = typer.Option(..., "--quarter", help="Calendar quarter, e.g. 2026Q3."),
    audience: str = typer.Option(..., "--audience", help="Member or client code, or 'group' (all members)."),
    out: Path = typer.Option(..., "--out", help="Output directory (report.html, report.pdf, charts/)."),
    prices: Path | None = typer.Option(None, "--prices", help="CSV date,asset,usd; without it no USD is computed."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write report.pdf (WeasyPrint)."),
) -> None:
    """Write the quarter's joint assessment for one audience, from what that audience may read in the hub."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from trilateral.report import quarterly_report

    with _hub() as hub, Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True,
                                 console=Console(stderr=True)) as bar:
        task = bar.add_task("reading the hub", total=None)
        count = [0]

        def tick() -> None:
            count[0] += 1
            if count[0] % 5000 == 0:
                bar.update(task, description=f"reading the hub: {count[0]:,} objects")

        result = quarterly_report(hub, quarter, audience, out, prices_path=prices, pdf=pdf, progress=tick)
    typer.echo(f"wrote {result.html_path}" + (f" and {result.pdf_path}" if result.pdf_path else "")
               + f" ({result.tlp.label}, {len(result.sources)} source objects)")


@incidents_app.command("import")
def incidents_import(
    csv_path: Path = typer.Argument(..., help="incidents.csv (date,year,quarter,incident,amount_stolen_usd,...)."),
    as_code: str = typer.Option(DEFAULT_AS, "--as", help=AS_HELP),
    tlp: str = typer.Option("clear", "--tlp", help="TLP of the imported incidents (public research: clear)."),
    as_json: bool = typer.Option(False, "--json", help="Counts as JSON on stdout."),
) -> None:
    """Store every row as an `incident`; re-importing stores nothing new (ids derive from date and name)."""
    from trilateral.report.incidents import import_incidents_csv
    from trilateral.report.stix import principal_of

    with _hub() as hub:
        result = import_incidents_csv(hub, principal_of(hub, as_code), csv_path, _tlp(tlp))
    counts = result.as_dict()
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(f"{csv_path}: {counts['stored']} stored, {counts['updated']} updated, "
                   f"{counts['unchanged']} unchanged")


@incidents_app.command("add")
def incidents_add(
    name: str = typer.Option(..., "--name", help="Incident name."),
    when: str = typer.Option(..., "--date", help="Date of the theft (YYYY-MM-DD)."),
    usd: str | None = typer.Option(None, "--usd", help="USD stolen as stated by the source (never estimated)."),
    cluster: str | None = typer.Option(None, "--cluster", help="Actor cluster named by the source."),
    stolen: list[str] = typer.Option([], "--stolen", help="CHAIN:ASSET:BASE_UNITS (repeatable)."),
    url: list[str] = typer.Option([], "--url", help="Source URL (repeatable)."),
    as_code: str = typer.Option(DEFAULT_AS, "--as", help=AS_HELP),
    tlp: str = typer.Option("amber", "--tlp", help="TLP of the incident."),
) -> None:
    """Add one incident to the register (same date and name again: nothing new, or a new version if changed)."""
    from trilateral.report.incidents import make_incident, parse_stolen, store_incidents
    from trilateral.report.stix import principal_of

    obj = make_incident(name=name, day=_day(when, "--date"), usd_stolen=usd, cluster=cluster,
                        stolen=parse_stolen(stolen), references=[{"source_name": "source", "url": u} for u in url],
                        tlp=_tlp(tlp))
    with _hub() as hub:
        result = store_incidents(hub, principal_of(hub, as_code), [obj])
    state = "stored" if result.stored else ("updated" if result.updated else "unchanged")
    typer.echo(f"{obj['id']} {state}")


def _check_owner(hub, owner: str) -> None:  # type: ignore[no-untyped-def]
    from trilateral.report.stix import principal_of

    if not principal_of(hub, owner).is_member:
        raise InputError(f"owner {owner!r} is a client; an action's owner is a member agency (e.g. US, KR, JP)")


@actions_app.command("add")
def actions_add(
    title: str = typer.Option(..., "--title", help="What was decided."),
    owner: str = typer.Option(..., "--owner", help="Member code that owns the action."),
    due: str = typer.Option(..., "--due", help="Due date (YYYY-MM-DD)."),
    decided_at: str = typer.Option(date.today().isoformat(), "--decided-at", help="Date of the meeting."),
    quarter: str | None = typer.Option(None, "--quarter", help="Meeting quarter (default: from --decided-at)."),
    status: str = typer.Option("open", "--status", help="open | in_progress | done | closed."),
    notes: str = typer.Option("", "--notes"),
    tlp: str = typer.Option("amber", "--tlp", help="TLP of the action (default amber)."),
    as_code: str = typer.Option(DEFAULT_AS, "--as", help=AS_HELP),
) -> None:
    """Record a decision; prints its id."""
    from trilateral.report.actions import add_action
    from trilateral.report.stix import principal_of

    with _hub() as hub:
        _check_owner(hub, owner)
        action = add_action(hub, principal_of(hub, as_code), title=title, owner=owner, due=due, decided_at=decided_at,
                            quarter=quarter, status=status, notes=notes, tlp=_tlp(tlp))
    typer.echo(action["id"])


@actions_app.command("list")
def actions_list(
    as_code: str = typer.Option(DEFAULT_AS, "--as", help="Whose view (the hub's policy decides)."),
    quarter: str | None = typer.Option(None, "--quarter"),
    status: str | None = typer.Option(None, "--status"),
    as_json: bool = typer.Option(False, "--json", help="The action objects as JSON on stdout."),
) -> None:
    """Actions (last versions) the principal may read."""
    from trilateral.report.actions import list_actions
    from trilateral.report.stix import principal_of

    with _hub() as hub:
        rows = list_actions(hub, principal_of(hub, as_code), quarter=quarter, status=status)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for a in rows:
        typer.echo(f"{a['id']}  {a.get('due', ''):<10}  {a.get('status', ''):<11}  {a.get('owner', ''):<4}  {a.get('title', '')}")


@actions_app.command("update")
def actions_update(
    action_id: str = typer.Argument(..., help="x-trilateral-action--…"),
    title: str | None = typer.Option(None, "--title"),
    owner: str | None = typer.Option(None, "--owner"),
    due: str | None = typer.Option(None, "--due"),
    status: str | None = typer.Option(None, "--status"),
    notes: str | None = typer.Option(None, "--notes"),
    tlp: str | None = typer.Option(None, "--tlp"),
    as_code: str = typer.Option(DEFAULT_AS, "--as", help=AS_HELP),
) -> None:
    """Store a new version of an action with the given fields changed."""
    from trilateral.report.actions import update_action
    from trilateral.report.stix import principal_of

    with _hub() as hub:
        if owner:
            _check_owner(hub, owner)
        new = update_action(hub, principal_of(hub, as_code), action_id, title=title, owner=owner, due=due,
                            status=status, notes=notes, tlp=tlp)
    typer.echo(f"{new['id']} version {new['modified']} ({new['status']})")


@actions_app.command("close")
def actions_close(
    action_id: str = typer.Argument(..., help="x-trilateral-action--…"),
    notes: str | None = typer.Option(None, "--notes"),
    as_code: str = typer.Option(DEFAULT_AS, "--as", help=AS_HELP),
) -> None:
    """Close an action (a new version with status closed)."""
    from trilateral.report.actions import close_action
    from trilateral.report.stix import principal_of

    with _hub() as hub:
        new = close_action(hub, principal_of(hub, as_code), action_id, notes=notes)
    typer.echo(f"{new['id']} closed (version {new['modified']})")


def register(app: typer.Typer) -> None:
    """Add `report`, `incidents` and `actions` to the root app."""
    app.add_typer(report_app, name="report")
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(actions_app, name="actions")
