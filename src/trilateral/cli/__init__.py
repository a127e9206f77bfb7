"""The `trilateral` command: thin typer commands over the capability packages.

Each capability registers its commands from its own module so that teams do not edit one file.
"""

from __future__ import annotations

import os
import sys

import typer

from trilateral.core.errors import TrilateralError

app = typer.Typer(
    name="trilateral",
    help="Joint US-KR-JP response to DPRK cyber operations: intel hub, fund tracing, attribution, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    if debug:
        os.environ["TRILATERAL_DEBUG"] = "1"


def _register_all() -> None:
    from trilateral.cli import (
        attribution_commands,
        audit_commands,
        authority_commands,
        case_commands,
        chain_commands,
        demo_command,
        federation_commands,
        hub_commands,
        prices_commands,
        report_commands,
        serve_command,
        sim_commands,
        trace_commands,
        watch_commands,
        webhook_commands,
    )

    for module in (hub_commands, serve_command, chain_commands, sim_commands, trace_commands,
                   attribution_commands, report_commands, demo_command, prices_commands, case_commands,
                   watch_commands, webhook_commands, audit_commands, federation_commands):
        module.register(app)
    authority_commands.register(app)  # after hub_commands: it adds `member profile`


_register_all()


def fail(message: str, code: int = 1) -> None:
    """Print one clear line on stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    """Entry point: user errors become one line on stderr; tracebacks only with --debug."""
    debug = "--debug" in sys.argv or os.environ.get("TRILATERAL_DEBUG") == "1"
    try:
        code = app(standalone_mode=False)
        # typer's click returns (not raises) the exit code of an interrupt or typer.Exit here
        if isinstance(code, int) and code:
            if code == 130:
                print("error: interrupted", file=sys.stderr)
            sys.exit(code)
    except TrilateralError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # usage errors (typer's own click) and unexpected failures: one line
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):  # click/typer UsageError and ClickException
            show()
            sys.exit(int(getattr(exc, "exit_code", 2) or 2))
        if debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)
