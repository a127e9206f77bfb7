"""Console sessions and CSRF tokens: signed, expiring, bound to one principal (pure: no I/O).

A session is a signed token in an HttpOnly cookie rather than a row in a session table: the hub owns
every table and the console queries none, and a signed token works across `serve --workers N`. The
token names the principal, when it was issued, when it expires and a random nonce; the server
re-checks the principal against the hub on every request, so a revoked principal (or one whose token
was rotated after sign-in) loses its session at once. CSRF tokens are HMACs of the session nonce
(synchronizer token without server state); the sign-in form's token is an HMAC of a random
pre-sign-in cookie (double submit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import orjson

SESSION_COOKIE = "trl_session"
LOGIN_COOKIE = "trl_login"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    """A verified session: who, when issued and until when (epoch seconds), and its nonce."""

    code: str
    issued: int
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and verifies session tokens and CSRF tokens with one server secret."""

    def __init__(self, secret: bytes, lifetime: int = SESSION_SECONDS) -> None:
        # a key of its own, derived from the hub's secret, so console tokens never verify as cursors
        self._key = hmac.new(secret, b"trilateral-console-session-v1", hashlib.sha256).digest()
        self.lifetime = lifetime

    def _mac(self, purpose: str, body: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"|" + body, hashlib.sha256).digest()

    def issue(self, code: str, now: float | None = None) -> tuple[str, Session]:
        issued = int(now if now is not None else time.time())
        session = Session(code, issued, issued + self.lifetime, secrets.token_urlsafe(16))
        body = orjson.dumps({"c": code, "i": session.issued, "e": session.expires, "n": session.nonce})
        return _b64(body) + "." + _b64(self._mac("session", body)), session

    def verify(self, token: str | None, now: float | None = None) -> Session | None:
        """The session a token carries, or None when it is missing, forged or expired."""
        if not token or "." not in token:
            return None
        try:
            body_text, mac_text = token.split(".", 1)
            body, mac = _unb64(body_text), _unb64(mac_text)
            if not hmac.compare_digest(mac, self._mac("session", body)):
                return None
            data = orjson.loads(body)
            session = Session(str(data["c"]), int(data["i"]), int(data["e"]), str(data["n"]))
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            return None
        if session.expires <= (now if now is not None else time.time()):
            return None
        return session

    def csrf_token(self, nonce: str) -> str:
        """The CSRF token for a session (its nonce) or for the sign-in form (the pre-sign-in cookie)."""
        return _b64(self._mac("csrf", nonce.encode())[:24])

    def csrf_ok(self, nonce: str | None, presented: str | None) -> bool:
        if not nonce or not presented:
            return False
        return hmac.compare_digest(self.csrf_token(nonce).encode(), presented.encode())
