"""`refdata import|update`, `attribute` and `screen`: thin commands over refdata, attribution, screening."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trilateral.core.errors import InputError
from trilateral.core.settings import Settings
from trilateral.screening import MAX_HOPS

refdata_app = typer.Typer(help="Reference data: MITRE ATT&CK profiles, sanctions lists.", no_args_is_help=True)


def _emit(doc: object) -> None:
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))


@refdata_app.command("import")
def refdata_import(
    path: Path = typer.Argument(..., help="ATT&CK Enterprise STIX bundle or directory, a groups-techniques CSV "
                                          "(all_groups_uses.csv / dprk_uses.csv), a MISP threat-actor galaxy JSON, "
                                          "the incident register CSV, its incident_addresses.csv, or a GraphSense "
                                          "actors.csv"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Import one reference source (the kind is detected) and rebuild the canonical actors."""
    from trilateral.refdata.update import import_reference

    summary = import_reference(path)
    if as_json:
        _emit(summary)
        return
    if "groups" in summary:
        what = (f"{summary['groups']} intrusion sets ({len(summary['dprk_groups'])} DPRK: "
                f"{', '.join(summary['dprk_groups'])}), {summary['techniques']} techniques, "
                f"{summary['software']} software")
    else:
        what = ", ".join(f"{v} {k}" for k, v in summary.items() if isinstance(v, int))
    actors = summary["actors"]
    typer.echo(f"{summary['kind']}: {what} -> {summary['stored']}; "
               f"{actors['total']} canonical actors ({actors['dprk']} DPRK)")


@refdata_app.command("update")
def refdata_update(as_json: bool = typer.Option(False, "--json")) -> None:
    """Fetch ATT&CK, the OFAC SDN list and OpenSanctions from their official addresses, then import them."""
    from rich.progress import Progress

    from trilateral.refdata.update import update

    console = _stderr_console()
    with Progress(transient=True, console=console, disable=not console.is_terminal) as bar:
        def factory(name: str):
            task = bar.add_task(name, total=None)
            return lambda done, total: bar.update(task, completed=done, total=total)
        report = update(progress_factory=factory)
    if as_json:
        _emit(report)
    else:
        for s in report["sources"]:
            if not s.get("nothing_imported"):
                typer.echo(f"{s['name']}: imported from {s['url']}" + (
                    f" (version {s['list_date']}, {s['delisted']:,} entries delisted)" if s.get("delisted") else ""))
    empty = [s for s in report["sources"] if s.get("nothing_imported")]
    for s in empty:
        typer.echo(f"error: {s['name']} from {s['url']}: nothing imported: {s['nothing_imported']}", err=True)
    if empty:
        raise typer.Exit(1)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def attribute(
    incident: Path = typer.Argument(..., help="STIX 2.1 bundle of the incident (techniques, software, indicators)"),
    as_json: bool = typer.Option(False, "--json", help="Print the ranked candidates as JSON on stdout."),
    share_as: str | None = typer.Option(None, "--share-as", help="Write attributed-to into the hub as this member."),
    read_as: str | None = typer.Option(None, "--as", help="Read hub intel as this member (default: --share-as)."),
    top: int = typer.Option(10, "--top", min=1, help="How many candidates to list."),
    trace: Path | None = typer.Option(None, "--trace", help="The incident's `trace --json` findings: its "
                                                            "laundering route counts as evidence."),
) -> None:
    """Rank canonical actors for an incident, with confidence and the evidence (and its weight) behind each."""
    from trilateral.attribution.service import attribute_file, share_attribution

    result, objects = attribute_file(incident, reader_code=read_as or share_as, top=top, trace=trace)
    doc = result.to_json()
    if share_as:
        relationship, submitted = share_attribution(result, objects, share_as)
        doc["shared"] = {"relationship": relationship["id"], "status": submitted.status_id,
                         "confidence": relationship["confidence"]}
    if as_json:
        _emit(doc)
        return
    if doc["dprk_probability"] is None:
        typer.echo(f"DPRK (any unit): unknown ({doc['dprk_probability_reason']})")
    else:
        typer.echo(f"DPRK (any unit): {doc['dprk_probability']:.2f}")
    for i, c in enumerate(doc["candidates"], 1):
        flag = " [DPRK]" if c["dprk"] else ""
        under = f", under {c['umbrella']['name']}" if c.get("umbrella") else ""
        aka = f" (aka {', '.join(c['aliases'][:4])}{', ...' if len(c['aliases']) > 4 else ''})" if c["aliases"] else ""
        typer.echo(f"{i:>2}. {c['name']}{aka}{flag}{under}  confidence {c['confidence']:.2f}  "
                   f"score {c['score']:.2f}  [{c['id']}]")
        for ev in c["evidence"][:5]:
            typer.echo(f"      {ev['weight']:+.2f}  {ev['kind']} {ev['id']} {ev['name']} ({ev['match']})")
    for note in doc["notes"]:
        typer.echo(f"note: {note}", err=True)
    if share_as:
        typer.echo(f"shared {doc['shared']['relationship']} (confidence {doc['shared']['confidence']})")


def _hops_in_range(value: int) -> int:
    """--hops within what the screening API allows (each hop is a pass over every transfer)."""
    if not 0 <= value <= MAX_HOPS:
        raise typer.BadParameter(f"{value} is outside the allowed range 0 to {MAX_HOPS} "
                                 "(the screening API's bound)")
    return value


def screen(
    addresses: list[str] = typer.Argument(None, help="Addresses to screen"),
    chain: str | None = typer.Option(None, "--chain", help="ethereum|bsc|polygon|arbitrum|optimism|base|avalanche|tron|bitcoin (default: guessed per address)"),
    hops: int = typer.Option(3, "--hops", callback=_hops_in_range,
                             help=f"Exposure: how many hops back to look, 0 (none) to {MAX_HOPS}."),
    as_code: str | None = typer.Option(None, "--as", help="Also match hub indicators this member may read."),
    file: Path | None = typer.Option(None, "--file", help="A file of addresses, one a line (batch mode)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
) -> None:
    """Direct hits (sanctions, labels, hub indicators) and indirect exposure for each address."""
    from trilateral.screening.service import read_address_file, screen_addresses

    todo = list(addresses or [])
    if file is not None:
        todo += read_address_file(file)
    if not todo:
        raise InputError("no addresses: pass ADDR... or --file FILE")
    settings = Settings.from_env()
    results = screen_addresses(todo, chain=chain, hops=hops, reader_code=as_code, settings=settings)
    for note in _missing_data_notes(settings, results, hops, as_code, chain is not None):
        typer.echo(f"note: {note}", err=True)
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False))
        return
    for r in results:
        hits = "; ".join(_hit_text(h) for h in r["hits"])
        typer.echo(f"{r['address']} ({r['chain']}) exposure {r['exposure']:.4f} {'HIT ' + hits if hits else 'clean'}")


def _missing_data_notes(settings: Settings, results: list[dict], hops: int, reader: str | None,
                        chain_given: bool) -> list[str]:
    """What the screen could not look at, so that "clean" and "exposure 0" are not read as findings."""
    import pyarrow.compute as pc

    from trilateral.labels import LabelStore
    from trilateral.screening.service import chains_without_data

    notes = []
    labels = LabelStore(settings)
    fix = ("import them with `trilateral refdata update` (OFAC SDN and OpenSanctions, online) or "
           "`trilateral labels import FILE`")
    if labels.is_empty() and reader:
        notes.append(f"no labels or sanctions lists are imported in {settings.home}: direct hits come only from "
                     f"hub indicators {reader} may read; {fix}")
    elif labels.is_empty():
        notes.append(f"no labels or sanctions lists are imported in {settings.home} and no --as CODE names a hub "
                     f"reader, so no address can have a direct hit; {fix}")
    elif not pc.any(pc.equal(labels.stored().column("category"), "sanctioned")).as_py():
        notes.append(f"none of the labels imported in {settings.home} marks a sanctioned address (no OFAC SDN or "
                     f"OpenSanctions list), so no address can be a sanctions hit; {fix}")
    if hops > 0:
        for chain in chains_without_data(settings, results, chain_given=chain_given):
            notes.append(f"no {chain} transfers are ingested, so exposure on {chain} is not measured (shown as 0): "
                         f"run `trilateral chain ingest --chain {chain} ...`")
    return notes


def _hit_text(hit: dict) -> str:
    """One hit on a line: who, which list and version, and a delisting when there was one."""
    text = f"{hit['source']}: {hit.get('label') or hit['entity']} {'|'.join(hit['programs'])}".strip()
    where = ", ".join(x for x in (hit.get("list") if hit.get("list") != hit["source"] else None,
                                  f"entry {hit['entry_id']}" if hit.get("entry_id") else None,
                                  hit.get("list_date")) if x)
    if hit.get("status") == "delisted":
        where += f"; DELISTED by {hit.get('delisted_on')} (listed {hit.get('first_listed')}..{hit.get('last_listed')})"
    return f"{text} [{where}]" if where else text


def register(app: typer.Typer) -> None:
    """Add `refdata`, `attribute` and `screen` to the root app."""
    app.add_typer(refdata_app, name="refdata")
    app.command("attribute")(attribute)
    app.command("screen")(screen)
