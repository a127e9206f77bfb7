"""`trilateral chain ...` and `trilateral labels ...`: thin commands over trilateral.chain / .labels."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trilateral.core.chains import names as chain_names
from trilateral.core.errors import InputError, TrilateralError
from trilateral.core.settings import Settings
from trilateral.core.times import unix_time


class IngestInterrupted(TrilateralError):
    """Stopped by the user; the store holds every batch committed so far."""

    exit_code = 130


chain_app = typer.Typer(help="Chain data: ingest formats into the columnar store; stats.", no_args_is_help=True)
labels_app = typer.Typer(help="Address labels and sanctions lists.", no_args_is_help=True)


def _summary(report_dict: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report_dict, indent=1))
        return
    rows = ", ".join(f"{k} {v:,}" for k, v in sorted(report_dict["rows"].items())) or "no new rows"
    typer.echo(f"{report_dict['chain']}: {report_dict['batches_committed']} batch(es) committed, "
               f"{report_dict['batches_skipped']} already ingested; {rows}", err=True)
    if report_dict["bad_row_count"]:
        typer.echo(f"{report_dict['bad_row_count']} bad row(s) skipped:", err=True)
        for line in report_dict["bad_rows"]:
            typer.echo(f"  {line}", err=True)
    for note in report_dict["notes"]:
        typer.echo(f"note: {note}", err=True)


def _when(text: str | None, option: str) -> int | None:
    """Unix seconds from digits or an ISO time."""
    return int(text) if text and text.strip().isdigit() else unix_time(text, option)


def _decimals(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        contract, _, dec = pair.partition("=")
        if not dec.strip().isdigit():
            raise InputError(f"--token-decimals {pair!r}: expected CONTRACT=DECIMALS, e.g. 0xdac1...=6")
        out[contract.strip().lower()] = int(dec)
    return out


@chain_app.command("ingest")
def chain_ingest(
    source: str = typer.Argument(..., help="ethereum-etl dir, bitcoin-etl transactions.json, getblock JSON, "
                                           "Midgard actions JSON, an EVM JSON-RPC URL, or Etherscan/Blockscout "
                                           "API responses / CSV exports (file or directory)"),
    chain: str = typer.Option(None, "--chain", help=f"{chain_names()} (not needed for midgard)"),
    fmt: str = typer.Option(..., "--format", help="etl | rpc | etherscan (EVM chains) | core-json (bitcoin) | "
                                                  "trongrid | tron-node (tron) | midgard"),
    strict: bool = typer.Option(False, "--strict", help="Fail the batch on the first bad row."),
    from_block: int = typer.Option(None, "--from-block", help="rpc: first block (default 0)."),
    to_block: int = typer.Option(None, "--to-block", help="rpc: last block (default: latest)."),
    follow: bool = typer.Option(False, "--follow", help="rpc: keep polling for new blocks."),
    batch_blocks: int = typer.Option(100, "--batch-blocks", help="rpc: blocks per committed batch."),
    address: str = typer.Option(None, "--address", help="etherscan, trongrid: the queried address of the file(s)."),
    complete_from: str = typer.Option(None, "--complete-from",
                                      help="etherscan: the files hold the address's whole list from this time "
                                           "(ISO or unix seconds; default: the first row's time)."),
    complete_to: str = typer.Option(None, "--complete-to",
                                    help="etherscan: ... up to this time (default: the last row's time)."),
    token_decimals: list[str] = typer.Option(None, "--token-decimals",
                                             help="etherscan CSV: CONTRACT=DECIMALS for tokens not yet known."),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON on stdout."),
) -> None:
    """Ingest chain data; idempotent and resumable (re-running skips committed batches)."""
    from trilateral.chain.ingest import ingest

    options: dict[str, object] = {}
    if fmt == "rpc":
        options = {"from_block": from_block, "to_block": to_block, "follow": follow, "batch_blocks": batch_blocks}
    if fmt == "etherscan":
        options = {"address": address, "complete_from": _when(complete_from, "--complete-from"),
                   "complete_to": _when(complete_to, "--complete-to"),
                   "token_decimals": _decimals(token_decimals or [])}
    if fmt == "trongrid":
        options = {"address": address}
    try:
        report = ingest(Settings.from_env().chain_dir, fmt=fmt, source=source, chain=chain, strict=strict,
                        **options)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM in --follow mode
        raise IngestInterrupted("ingest interrupted; committed batches are kept, run the same command to "
                                "continue") from None
    _summary(report.as_dict(), as_json)


@chain_app.command("bridges")
def chain_bridges(
    window: int = typer.Option(6 * 3600, "--window", help="Seconds after a deposit within which its release comes."),
    max_fee_bps: int = typer.Option(100, "--max-fee-bps", help="Largest bridge fee, in basis points of the deposit."),
    min_confidence: float = typer.Option(0.3, "--min-confidence", help="Drop matches below this confidence."),
    as_json: bool = typer.Option(False, "--json", help="The matched links as JSON on stdout."),
) -> None:
    """Match bridge deposits to releases across the ingested chains (bridge contracts from the labels)."""
    from trilateral.chain.bridges import find_bridge_links
    from trilateral.labels import LabelStore

    settings = Settings.from_env()
    report, rows = find_bridge_links(settings.chain_dir, LabelStore(settings), window=window,
                                     max_fee_bps=max_fee_bps, min_confidence=min_confidence)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    _summary(report.as_dict(), False)


@chain_app.command("stats")
def chain_stats(as_json: bool = typer.Option(False, "--json", help="JSON on stdout.")) -> None:
    """Per chain: blocks, transactions, transfers, addresses, first/last time."""
    from trilateral.chain import ChainStore

    stats = ChainStore(Settings.from_env().chain_dir).stats()
    if as_json:
        typer.echo(json.dumps(stats, indent=1))
        return
    for name, s in stats["chains"].items():
        typer.echo(f"{name}: {s['blocks']:,} blocks, {s['transactions']:,} transactions, "
                   f"{s['transfers']:,} transfers, {s['addresses']:,} addresses, "
                   f"{s['first_time']} .. {s['last_time']}")
    typer.echo(f"cross-chain links: {stats['crosschain']['links']:,}")


@chain_app.command("coverage")
def chain_coverage(
    addresses: list[str] = typer.Argument(..., help="Addresses to ask about"),
    chain: str = typer.Option("ethereum", "--chain"),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Over which times each address's history is complete in the store (docs/chain.md, Coverage)."""
    from datetime import UTC, datetime

    from trilateral.chain import ChainStore
    from trilateral.chain.coverage import LIST_KINDS

    def iso(ts: int) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    cov = ChainStore(Settings.from_env().chain_dir).coverage(chain)
    from trilateral.core.chains import normalise_address

    out = [{"address": normalise_address(chain, a), "complete": [[iso(lo), iso(hi)] for lo, hi in cov.known_span(a)],
            "lists": {k: [[iso(lo), iso(hi)] for lo, hi in cov.address_spans(a, k)] for k in LIST_KINDS}}
           for a in addresses]
    if as_json:
        typer.echo(json.dumps(out, indent=1))
        return
    for entry in out:
        spans = ", ".join(f"{lo} .. {hi}" for lo, hi in entry["complete"]) or "no complete history in the store"
        typer.echo(f"{entry['address']}: {spans}")


@labels_app.command("import")
def labels_import(
    paths: list[Path] = typer.Argument(..., help="TagPack/ActorPack YAML, SDN.CSV, SDN_ADVANCED.XML, OFAC asset "
                                                 "list, address CSV (Etherscan), FtM JSON lines"),
    fmt: str = typer.Option("auto", "--format",
                            help="auto | tagpack | actorpack | sdn-csv | sdn-xml | ofac-list | address-csv | ftm"),
    list_name: str = typer.Option(None, "--list", help="The list these files are versions of (default: OFAC SDN "
                                                       "for OFAC formats, a TagPack's title, else the file name)."),
    list_date: str = typer.Option(None, "--list-date", help="The version's date, YYYY-MM-DD (default: from the "
                                                            "file, a date in its path, else its modification day)."),
    as_json: bool = typer.Option(False, "--json", help="Print the import reports as JSON on stdout."),
) -> None:
    """Import address labels as versions of their lists (re-importing a version replaces it; a newer
    version supersedes older ones). Exits 1 when a file gave no label, saying why for each file."""
    from trilateral.labels import LabelStore

    store = LabelStore(Settings.from_env())
    reports = [store.import_file(p, fmt=fmt, list_name=list_name, list_date=list_date) for p in paths]
    if as_json:
        docs = [r.as_dict() for r in reports]
        typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
    for report in reports:
        if not as_json or not report.ok:
            typer.echo(report.summary(), err=True)
    empty = [r for r in reports if not r.ok]
    if empty:
        typer.echo(f"error: {len(empty)} of {len(reports)} file(s) gave no label; the store keeps its previous "
                   "versions of their lists", err=True)
        raise typer.Exit(1)


@labels_app.command("lists")
def labels_lists(as_json: bool = typer.Option(False, "--json", help="Print the lists as JSON on stdout.")) -> None:
    """The stored lists and their versions: date (and where it came from), files, entries listed and delisted."""
    from trilateral.labels import LabelStore

    lists = LabelStore(Settings.from_env()).lists()
    if as_json:
        typer.echo(json.dumps(lists, indent=1))
        return
    for item in lists:
        typer.echo(f"{item['list']}: {item['listed']:,} entries listed, {item['delisted']:,} delisted")
        for v in item["versions"]:
            typer.echo(f"  {v['list_date'] or 'undated'} ({v['date_basis'] or 'before list versions'}) "
                       f"{v['format'] or ''} {v['path'] or v['dataset']} imported {v['imported_at'] or '?'}")


@labels_app.command("export")
def labels_export(
    out: Path = typer.Option(..., "--out", help="TagPack YAML file to write"),
    source: str = typer.Option(None, "--source", help="Only labels from this source."),
) -> None:
    """Write the stored labels as a GraphSense TagPack YAML."""
    from trilateral.labels import LabelStore

    n = LabelStore(Settings.from_env()).export_tagpack(out, source=source)
    typer.echo(f"wrote {n:,} tags to {out}", err=True)


@labels_app.command("lookup")
def labels_lookup(
    addresses: list[str] = typer.Argument(..., help="Addresses to look up"),
    chain: str = typer.Option("ethereum", "--chain"),
) -> None:
    """Labels of addresses, as JSON on stdout."""
    from trilateral.labels import LabelStore

    hits = LabelStore(Settings.from_env()).lookup(chain, addresses)
    typer.echo(json.dumps([{"address": a, "labels": [lab.as_dict() for lab in h]} for a, h in zip(addresses, hits,
                                                                                                     strict=True)],
                          indent=1))


def register(app: typer.Typer) -> None:
    """Add `chain` and `labels` sub-commands to the root app."""
    app.add_typer(chain_app, name="chain")
    app.add_typer(labels_app, name="labels")
