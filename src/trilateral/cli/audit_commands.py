"""`trilateral audit verify` and `audit checkpoint`: the keyed audit chain and its signed checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from trilateral.core.errors import TrilateralError

audit_app = typer.Typer(help="The keyed (HMAC) audit chain and its signed checkpoints.", no_args_is_help=True)


def _hub():  # type: ignore[no-untyped-def]
    from trilateral.hub import Hub

    return Hub.open(create=False)


@audit_app.command("verify")
def audit_verify(against: Path | None = typer.Option(
        None, "--against", help="Also check a checkpoint file made earlier by `audit checkpoint`.")) -> None:
    """Exit 0 if the audit chain is intact (and matches the checkpoint); otherwise say where and exit 1."""
    from trilateral.hub.audit_checkpoint import read

    checkpoint = read(against) if against is not None else None
    with _hub() as hub:
        verdict = hub.audit_verify()
        matched = hub.audit_check_checkpoint(checkpoint) if checkpoint is not None else None
    if not verdict.ok:
        raise TrilateralError(f"audit log broken at entry {verdict.first_bad}: {verdict.reason}")
    if matched is not None and not matched[0]:
        raise TrilateralError(f"audit log does not match {against}: {matched[1]}")
    typer.echo(f"audit log intact: {verdict.reason}")
    if matched is not None:
        typer.echo(f"checkpoint {against}: {matched[1]}")


@audit_app.command("checkpoint")
def audit_checkpoint(out: Path = typer.Option(..., "--out", help="Where to write the signed checkpoint (JSON).")
                     ) -> None:
    """Write a signed head of the verified chain for a member to keep; check it with `verify --against`."""
    with _hub() as hub:
        data = hub.audit_checkpoint()
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)  # never a half-written checkpoint
    typer.echo(f"checkpoint of entry {data['seq']} written to {out} (hub key {data['hub_key_id']})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
