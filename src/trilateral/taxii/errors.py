"""TAXII error messages (specification section 3.6.1) and the mapping of every failure to one.

No request, however malformed, is answered with a bare 500: unexpected failures still get a TAXII
error body, and user errors get the 4xx the specification names.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from trilateral.core.errors import AuthenticationError, InputError, PermissionDenied, TrilateralError
from trilateral.taxii.responses import taxii_json

log = logging.getLogger("trilateral.taxii")

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class TaxiiError(Exception):
    """An HTTP failure that is answered with a TAXII error message."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}


def unauthorized(description: str) -> TaxiiError:
    return TaxiiError(401, description, {"WWW-Authenticate": 'Basic realm="trilateral", Bearer'})


def error_response(status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    body = {"title": _TITLES.get(status, "Error"), "description": description, "http_status": str(status)}
    return taxii_json(body, status=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Turn every exception the routes can raise into a TAXII error message."""

    @app.exception_handler(TaxiiError)
    async def _taxii(_: Request, exc: TaxiiError) -> Response:
        return error_response(exc.status, exc.description, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            hint = " (TAXII paths end with '/')" if not request.url.path.endswith("/") else ""
            return error_response(404, f"no such resource: {request.url.path}{hint}")
        return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(400, f"invalid request parameter {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(AuthenticationError)
    async def _auth(_: Request, exc: AuthenticationError) -> Response:
        e = unauthorized(str(exc))
        return error_response(e.status, e.description, e.headers)

    @app.exception_handler(PermissionDenied)
    async def _denied(_: Request, exc: PermissionDenied) -> Response:
        return error_response(403, str(exc))

    try:
        from trilateral.hub.errors import NotFound
    except ImportError:  # pragma: no cover - the hub is part of the same distribution
        NotFound = LookupError  # noqa: N806

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: Exception) -> Response:
        return error_response(404, str(exc))

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> Response:
        return error_response(422, str(exc))

    @app.exception_handler(TrilateralError)
    async def _other(_: Request, exc: TrilateralError) -> Response:
        return error_response(400, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected failure on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); nothing was half-written")
