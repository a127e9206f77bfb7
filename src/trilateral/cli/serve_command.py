"""`trilateral serve`: the TAXII 2.1 server (discovery at /taxii2/, OpenAPI at /docs)."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port to listen on."),
    access_log: str = typer.Option(None, "--access-log",
                                   help="Where JSON access lines go: '-' (stderr, default), a file, or 'off'."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes (each opens the hub)."),
    sync_interval: float = typer.Option(None, "--sync-interval", min=0.1,
                                        help="Also sync with every peer node in the background, every S seconds."),
) -> None:
    """Serve TAXII 2.1 over the hub until interrupted."""
    from trilateral.taxii.server import check_port_free
    from trilateral.taxii.server import serve as run_server

    check_port_free(host, port)
    typer.echo(f"TAXII 2.1 discovery at http://{host}:{port}/taxii2/ (OpenAPI at /docs)", err=True)
    if sync_interval:
        from trilateral.federation.node import BackgroundSync

        BackgroundSync(None, sync_interval).start()
    run_server(host=host, port=port, access_log=access_log, workers=workers)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
