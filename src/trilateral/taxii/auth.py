"""Who is calling: HTTP Basic (user = member or client code, password = token) or Bearer token.

`require_principal` is the FastAPI dependency every protected route uses (the screening API too).
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from trilateral.core.errors import AuthenticationError
from trilateral.core.principal import Principal
from trilateral.taxii.errors import unauthorized


def credentials(authorization: str | None) -> tuple[str, str | None]:
    """(token, code or None) from an Authorization header; 401 when absent or unreadable."""
    if not authorization or not authorization.strip():
        raise unauthorized("authentication required: HTTP Basic (code:token) or Bearer token")
    scheme, _, value = authorization.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in {"bearer", "token"} and value:
        return value, None
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized("malformed HTTP Basic credentials") from None
        code, sep, token = decoded.partition(":")
        if not sep or not code or not token:
            raise unauthorized("HTTP Basic credentials must be CODE:TOKEN")
        return token, code
    raise unauthorized(f"unsupported authorization scheme {scheme!r}: use Basic or Bearer")


def require_principal(request: Request) -> Principal:
    """The authenticated principal of this request (FastAPI dependency); 401 with WWW-Authenticate if none."""
    token, code = credentials(request.headers.get("authorization"))
    hub = request.app.state.hub
    try:
        principal = hub.authenticate(token, code=code)
    except AuthenticationError as exc:
        raise unauthorized(str(exc) or "unknown principal or bad token") from None
    request.state.principal = principal.code
    return principal
