"""Structured access log: one JSON line per request (time, principal, method, path, status, ms, objects).

A plain ASGI middleware (no per-request task switching). Routes put the number of STIX objects they
returned or accepted in `request.state.objects`; `require_principal` puts the caller's code in
`request.state.principal`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

ACCESS_LOGGER = "trilateral.taxii.access"


def configure_access_log(target: str | None = None) -> logging.Logger:
    """Send access lines to stderr (default), a file path, or nowhere ('off').

    `target` defaults to $TRILATERAL_ACCESS_LOG.
    """
    target = target if target is not None else os.environ.get("TRILATERAL_ACCESS_LOG", "-")
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if target.lower() in {"off", "none", ""}:
        logger.disabled = True
        return logger
    logger.disabled = False
    handler: logging.Handler = (logging.StreamHandler(sys.stderr) if target == "-"
                                else logging.FileHandler(target, encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


class AccessLogMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.logger.disabled:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]
        state = scope.setdefault("state", {})

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            principal = state.get("principal")
            entry = {
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "principal": principal,
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status[0],
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "objects": state.get("objects"),
                "client": (scope.get("client") or [None])[0],
            }
            self.logger.info(orjson.dumps(entry).decode())
