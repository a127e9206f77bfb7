"""Run the TAXII server with uvicorn; a port already in use is a one-line user error.

TLS is uvicorn's own (`--certfile/--keyfile`, PEM). Serving plain HTTP beyond the loopback interface
sends member tokens and intelligence in clear, so it is allowed (a reverse proxy may terminate TLS)
but warned about.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

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


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_warning(host: str, tls: bool) -> str | None:
    """The warning to print when serving without TLS on an address other machines can reach."""
    if tls or is_loopback(host):
        return None
    return (f"warning: serving plain HTTP on {host}: member tokens and intelligence cross the network "
            "unencrypted; pass --certfile and --keyfile (or put a TLS-terminating proxy in front and "
            "listen on 127.0.0.1)")


def tls_options(certfile: Path | None, keyfile: Path | None) -> dict[str, str]:
    """uvicorn's ssl_* arguments; both files or neither, each readable."""
    if certfile is None and keyfile is None:
        return {}
    if certfile is None or keyfile is None:
        raise ConfigurationError("TLS needs both --certfile (PEM certificate chain) and --keyfile (PEM private key)")
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        try:
            Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"{flag} {path}: cannot read ({exc.strerror})") from None
    import ssl

    try:  # a wrong or mismatched pair is one line here, not a traceback from uvicorn's startup
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(certfile), str(keyfile))
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigurationError(f"--certfile {certfile} / --keyfile {keyfile}: not a usable PEM certificate "
                                 f"and matching private key ({exc})") from None
    return {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)}


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None,
          access_log: str | None = None, workers: int = 1, certfile: Path | None = None,
          keyfile: Path | None = None) -> None:
    """Serve TAXII 2.1 (discovery at /taxii2/, OpenAPI document at /openapi.json) until interrupted.

    With `workers` > 1, uvicorn runs that many processes, each building the app from the environment
    (the hub's cursor secret lives in the database, so any worker continues any `next`).
    """
    import os

    import uvicorn

    from trilateral.taxii.access_log import configure_access_log
    from trilateral.taxii.app import create_served_app

    tls = tls_options(certfile, keyfile)
    check_port_free(host, port)
    if access_log is not None:
        os.environ["TRILATERAL_ACCESS_LOG"] = access_log
    if workers > 1:
        if settings is not None:
            raise ConfigurationError("several workers read their settings from the environment; "
                                     "do not pass settings with workers > 1")
        uvicorn.run("trilateral.taxii.app:create_served_app", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_level="warning", **tls)
        return
    configure_access_log(access_log)
    app = create_served_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", lifespan="on", **tls)
