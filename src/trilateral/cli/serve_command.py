"""`trilateral serve`: the TAXII 2.1 server (discovery at /taxii2/, OpenAPI document at /openapi.json)."""

from __future__ import annotations

from pathlib import Path

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port to listen on."),
    access_log: str = typer.Option(None, "--access-log",
                                   help="Where JSON access lines go: '-' (stderr, default), a file, or 'off'."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes (each opens the hub)."),
    certfile: Path | None = typer.Option(None, "--certfile", help="TLS: PEM certificate (chain) to serve HTTPS."),
    keyfile: Path | None = typer.Option(None, "--keyfile", help="TLS: PEM private key of --certfile."),
    sync_interval: float = typer.Option(None, "--sync-interval", min=0.1,
                                        help="Also sync with every peer node in the background, every S seconds."),
) -> None:
    """Serve TAXII 2.1 over the hub until interrupted (HTTPS with --certfile/--keyfile)."""
    from trilateral.taxii.server import check_port_free, plain_http_warning, tls_options
    from trilateral.taxii.server import serve as run_server

    tls = tls_options(certfile, keyfile)
    check_port_free(host, port)
    warning = plain_http_warning(host, bool(tls))
    if warning:
        typer.echo(warning, err=True)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"TAXII 2.1 discovery at {scheme}://{shown}:{port}/taxii2/ (OpenAPI document at /openapi.json)",
               err=True)
    if sync_interval:
        from trilateral.federation.node import BackgroundSync

        BackgroundSync(None, sync_interval).start()
    run_server(host=host, port=port, access_log=access_log, workers=workers, certfile=certfile, keyfile=keyfile)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
