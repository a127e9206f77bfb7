"""`trilateral trace` and `trilateral freeze`: thin commands over trilateral.trace."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from trilateral.core.errors import InputError
from trilateral.core.times import unix_time


def _labels(settings):
    try:
        from trilateral.labels import LabelStore
    except ImportError:  # labels package not installed in this build: trace with inferred roles only
        return None
    return LabelStore(settings)


def _members(settings) -> list[str]:
    from trilateral.trace.freeze import DEFAULT_MEMBERS

    if settings.is_sqlite and not (settings.home / "hub.sqlite3").exists():
        return list(DEFAULT_MEMBERS)
    try:
        from trilateral.hub import Hub

        members = [p.code for p in Hub.open(settings).list_principals() if p.kind == "member" and not p.revoked]
        return members or list(DEFAULT_MEMBERS)
    except Exception:  # hub unreachable: route to the founding members
        return list(DEFAULT_MEMBERS)


def _prices(settings):
    """The price book's USD converter, or None when no prices were imported."""
    try:
        from trilateral.prices import PriceBook
    except ImportError:
        return None
    book = PriceBook.load(settings)
    return book.usd if len(book) else None


def _victim_name(tracer, findings: dict) -> str | None:
    """The victim's name from the labels of the addresses the stolen value came from."""
    if tracer.labels is None or not findings["victims"]:
        return None
    chain = findings["victims"][0]["chain"]
    addresses = [v["address"] for v in findings["victims"] if v["chain"] == chain]
    names = {lab.entity or getattr(lab, "label", None) for labels in tracer.labels.lookup(chain, addresses)
             for lab in labels}
    names.discard(None)
    return ", ".join(sorted(names)) or None


def trace_command(
    chain: str = typer.Option(..., "--chain", help="Chain of the seeds: ethereum, bsc, polygon, arbitrum, optimism, base, avalanche, tron, bitcoin."),
    seeds: str = typer.Option(..., "--from", help="Seeds: transaction hashes and/or addresses, comma-separated."),
    after: str = typer.Option(None, "--after", help="ISO time: value received by seed addresses from then on is stolen."),
    policy: str = typer.Option("haircut", "--policy", help="Taint policy: haircut, poison or fifo."),
    json_out: str = typer.Option(..., "--json", help="Write the findings JSON here ('-' for stdout)."),
    explain_address: str = typer.Option(None, "--explain", help="Print the paths from the seeds to this address."),
    freeze_dir: Path = typer.Option(None, "--freeze-dir", help="Write freeze_requests.json and letters here."),
    pdf: bool = typer.Option(False, "--pdf", help="Also render each letter as PDF (WeasyPrint)."),
    share_as: str = typer.Option(None, "--share-as", help="Submit the STIX bundle to the hub as this member."),
    tlp: str = typer.Option("amber", "--tlp", help="TLP of the shared bundle."),
    mixer_confidence: float = typer.Option(0.5, "--mixer-confidence", help="Least confidence to follow a mixer link."),
    mixer_heuristics: str = typer.Option("default", "--mixer-heuristics",
                                         help="Mixer link heuristics, comma-separated: address_reuse, gas_funding, "
                                              "relayer, timing, multi_denomination, anonymity_set; default (the "
                                              "first four) or all."),
    coinjoin: str = typer.Option("haircut", "--coinjoin",
                                 help="Taint through Bitcoin CoinJoins: haircut (every output its tainted share) "
                                      "or poison (every output in full)."),
    gaps: str = typer.Option("taint", "--gaps",
                             help="Value an address sends beyond what the data shows it receiving: taint "
                                  "(presumed stolen at its tainted share), clean, or report (clean, listed)."),
    incident: str = typer.Option(None, "--incident", help="Incident id or name these findings belong to."),
    min_freeze_share: float = typer.Option(0.001, "--min-freeze-share",
                                           help="No letter for less than this share of the stolen value..."),
    min_freeze_usd: float = typer.Option(10_000, "--min-freeze-usd",
                                         help="...or, when prices are known, for less than this many USD."),
    min_share: float = typer.Option(0.001, "--min-share",
                                    help="Share only addresses that passed or hold at least this share of the "
                                         "stolen value of an asset (0.001 = 0.1 %)."),
) -> None:
    """Follow stolen funds from the seeds to off-ramps on every ingested chain; write findings JSON."""
    from rich.console import Console

    from trilateral.chain import ChainStore
    from trilateral.core.settings import Settings
    from trilateral.core.tlp import Tlp
    from trilateral.trace import TraceOptions, Tracer, build_findings, explain, explain_text
    from trilateral.trace.mixers import parse_heuristics

    if json_out != "-" and not Path(json_out).parent.is_dir():  # before minutes of tracing, not after
        raise InputError(f"--json {json_out}: directory {Path(json_out).parent} does not exist; create it first")
    settings = Settings.from_env()
    err = Console(stderr=True)
    tracer = Tracer(ChainStore(settings.chain_dir), _labels(settings))
    options = TraceOptions(policy=policy, after=unix_time(after, '--after'), mixer_min_confidence=mixer_confidence,
                           mixer_heuristics=parse_heuristics(mixer_heuristics), coinjoin=coinjoin,
                           gaps=gaps, progress=lambda m: err.print(f"[dim]{m}[/dim]"))
    with err.status("tracing"):
        result = tracer.trace(chain, [s for s in seeds.split(",") if s.strip()], options)
    findings = build_findings(result, incident=incident)
    for w in findings["warnings"]:  # one line each, whatever the console width
        sys.stderr.write(f"warning: {w['kind']}: {w['detail']}\n")
    text = json.dumps(findings, indent=2)
    if json_out == "-":
        sys.stdout.write(text + "\n")
    else:
        out = Path(json_out)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n")
        tmp.replace(out)  # whole file or nothing
    if explain_address:
        report = explain_text(explain(result, explain_address), explain_address)
        (err.print if json_out == "-" else typer.echo)(report)
    requests = None
    victim = _victim_name(tracer, findings)
    if freeze_dir or share_as:
        from decimal import Decimal

        from trilateral.trace.authorities import load_authorities
        from trilateral.trace.freeze import freeze_plan, write_freeze_requests

        requests, below = freeze_plan(result, findings, _members(settings), authorities=load_authorities(settings.home),
                                      price=_prices(settings), min_share=min_freeze_share,
                                      min_usd=Decimal(str(min_freeze_usd)), victim_name=victim)
        for r in below:
            sys.stderr.write(f"note: no letter to {r['exchange']}: {r['share_of_stolen']:.6%} of the stolen value"
                             f"{' (USD ' + r['usd'] + ')' if r['usd'] else ''} is below the minimum\n")
        if freeze_dir:
            for path in write_freeze_requests(requests, freeze_dir, pdf=pdf, below_minimum=below):
                err.print(f"wrote {path}")
    if share_as:
        from trilateral.hub import Hub
        from trilateral.trace.stix_export import address_to_clients, findings_bundle, thief_addresses

        hub = Hub.open(settings, create=False)
        inter = thief_addresses(result, tracer.services(result), min_share=min_share)
        linked = None
        if incident:  # tie the trace to the hub's incident (a register row or a member's) instead of a new one
            from trilateral.report.incidents import find_incident

            linked = find_incident(hub, hub.principal(share_as.upper()), incident, findings.get("theft_time"))
            if linked is not None:
                err.print(f"trace tied to incident {linked.get('name')} ({linked['id']})")
        bundle = findings_bundle(findings, Tlp.parse(tlp), freeze_requests=requests, intermediaries=inter,
                                 incident_name=incident, victim_name=victim,
                                 incident_ref=linked["id"] if linked else None)
        # need to know: the client exchange that must freeze reads its own request (as `trilateral demo` does)
        bundle, addressed = address_to_clients(bundle, hub.list_principals())
        res = hub.submit(hub.principal(share_as.upper()), bundle, source="trilateral trace")
        err.print(f"shared {len(res.stored)} object(s) as {share_as.upper()} ({len(res.failed)} failed)")
        for exchange, code in addressed:
            err.print(f"freeze request to {exchange} addressed to client {code}")
        if res.failed:
            raise InputError(f"hub refused {len(res.failed)} object(s): {res.failed[0]}")


def freeze_update(
    path: Path = typer.Argument(..., help="freeze_requests.json written by `trace --freeze-dir`."),
    exchange: str = typer.Option(..., "--exchange", help="Exchange name (or request id)."),
    status: str = typer.Option(..., "--status", help="requested, frozen, partially_frozen or refused."),
    frozen: list[str] = typer.Option([], "--frozen", help="CHAIN:ASSET:BASE_UNITS frozen (repeatable)."),
) -> None:
    """Record an exchange's answer to a freeze request."""
    from trilateral.trace.freeze import update_status

    parsed = []
    for item in frozen:
        parts = item.split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            raise InputError(f"--frozen {item!r}: use CHAIN:ASSET:BASE_UNITS, e.g. ethereum:ETH:1000000000000000000")
        parsed.append((parts[0], parts[1], int(parts[2])))
    req = update_status(path, exchange, status, parsed)
    typer.echo(f"{req['exchange']}: {req['status']}")


def register(app: typer.Typer) -> None:
    """Add `trace` and `freeze update` to the root app."""
    app.command("trace")(trace_command)
    freeze = typer.Typer(help="Freeze requests produced by traces.", no_args_is_help=True)
    freeze.command("update")(freeze_update)
    app.add_typer(freeze, name="freeze")
