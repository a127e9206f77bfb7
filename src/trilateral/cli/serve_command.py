"""Commands of one capability; registered on the root app by trilateral.cli."""

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app (filled in by the capability's owner)."""
