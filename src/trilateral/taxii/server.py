"""Run the TAXII server with uvicorn; a port already in use is a one-line user error."""

from __future__ import annotations

import errno
import socket

from trilateral.core.errors import ConfigurationError
from trilateral.core.settings import Settings


def check_port_free(host: str, port: int) -> None:
    """Raise ConfigurationError naming the address when nothing can listen on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"port {port} on {host} is already in use; stop the other server or pass --port") from None
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None,
          access_log: str | None = None, workers: int = 1) -> None:
    """Serve TAXII 2.1 (discovery at /taxii2/, OpenAPI at /docs) until interrupted.

    With `workers` > 1, uvicorn runs that many processes, each building the app from the environment
    (the hub's cursor secret lives in the database, so any worker continues any `next`).
    """
    import os

    import uvicorn

    from trilateral.taxii.access_log import configure_access_log
    from trilateral.taxii.app import create_served_app

    check_port_free(host, port)
    if access_log is not None:
        os.environ["TRILATERAL_ACCESS_LOG"] = access_log
    if workers > 1:
        if settings is not None:
            raise ConfigurationError("several workers read their settings from the environment; "
                                     "do not pass settings with workers > 1")
        uvicorn.run("trilateral.taxii.app:create_served_app", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_level="warning")
        return
    configure_access_log(access_log)
    app = create_served_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", lifespan="on")
