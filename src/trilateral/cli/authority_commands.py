"""`trilateral member profile CODE ...`: the requesting-authority block of a member's freeze letters."""

from __future__ import annotations

import typer


def member_profile(
    code: str = typer.Argument(..., help="Member code, e.g. US."),
    agency: str = typer.Option(..., "--agency", help="Agency name as it signs letters."),
    contact: str = typer.Option(..., "--contact", help="Who the recipient answers (name, e-mail, phone)."),
    reference_prefix: str = typer.Option(..., "--reference-prefix", help="Prefix of the letters' references."),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The law or agreement the request rests on."),
    deadline_days: int = typer.Option(..., "--deadline-days", help="Days the recipient has to answer (1-365)."),
    issuer: list[str] = typer.Option([], "--issuer",
                                     help="Stablecoin issuer this member sends requests to (Tether, Circle); "
                                          "repeatable."),
) -> None:
    """Set the requesting-authority profile used in MEMBER's freeze letters (authorities.toml)."""
    from trilateral.core.errors import InputError
    from trilateral.core.settings import Settings
    from trilateral.trace.authorities import Authority, save_authority
    from trilateral.trace.freeze import ISSUERS

    known = {name.lower(): name for name, _ in ISSUERS.values()}
    for name in issuer:
        if name.lower() not in known:
            raise InputError(f"--issuer {name!r}: unknown stablecoin issuer (known: {', '.join(sorted(known.values()))})")
    if not 1 <= deadline_days <= 365:
        raise InputError(f"--deadline-days {deadline_days}: give 1 to 365 days")
    profile = Authority(code.upper(), agency, contact, reference_prefix, legal_basis, deadline_days,
                        tuple(known[i.lower()] for i in issuer))
    path = save_authority(Settings.from_env().home, profile)
    typer.echo(f"{profile.code}: profile saved in {path}")


def register(app: typer.Typer) -> None:
    """Add `member profile` to the `member` group of hub_commands."""
    from trilateral.cli.hub_commands import member_app

    member_app.command("profile")(member_profile)
