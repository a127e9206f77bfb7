"""Who is looking: the signed-in principal of a console request, re-checked against the hub each time,
and the CSRF check every form post goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from trilateral.core.principal import Principal, PrincipalKind
from trilateral.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, Session, SessionCodec

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: HTML pages redirect to /login, JSON calls answer 401."""


class CsrfRejected(Exception):
    """A form or JSON post without the session's CSRF token: 403, nothing changed."""


@dataclass(frozen=True)
class Viewer:
    """The principal behind a console request, its session and the CSRF token its forms carry."""

    principal: Principal
    session: Session
    csrf: str

    @property
    def is_member(self) -> bool:
        return self.principal.is_member


def codec(request: Request) -> SessionCodec:
    state = request.app.state
    if getattr(state, "console_codec", None) is None:
        state.console_codec = SessionCodec(state.hub.cursor_secret)
    return state.console_codec


def signed_out(request: Request) -> set[str]:
    """Nonces of sessions signed out in this process (the cookie is also deleted in the browser)."""
    state = request.app.state
    if getattr(state, "console_signed_out", None) is None:
        state.console_signed_out = set()
    return state.console_signed_out


def active_principal(hub: Any, session: Session) -> Principal | None:
    """The session's principal if it still may sign in: not revoked, sponsor not revoked, token not
    rotated since the session was issued (a rotation is how a member ends a leaked session)."""
    infos = {p.code: p for p in hub.list_principals()}
    info = infos.get(session.code)
    if info is None or info.revoked:
        return None
    if info.sponsor and (info.sponsor not in infos or infos[info.sponsor].revoked):
        return None
    if info.token_rotated is not None and info.token_rotated.timestamp() > session.issued:
        return None
    return Principal(info.code, PrincipalKind(info.kind), info.sponsor, info.name)


def current_viewer(request: Request) -> Viewer:
    """FastAPI dependency of every console page and JSON call."""
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    session = codec(request).verify(request.cookies.get(SESSION_COOKIE))
    if session is None or session.nonce in signed_out(request):
        raise SignInRequired()
    principal = active_principal(request.app.state.hub, session)
    if principal is None:
        raise SignInRequired()
    viewer = Viewer(principal, session, codec(request).csrf_token(session.nonce))
    request.state.viewer = viewer
    request.state.principal = principal.code  # for the access log
    return viewer


def check_csrf(request: Request, viewer: Viewer, form: Any = None) -> None:
    """A post must carry the session's CSRF token in the form field or the X-CSRF-Token header."""
    presented = (form.get(CSRF_FIELD) if form is not None else None) or request.headers.get(CSRF_HEADER)
    if not codec(request).csrf_ok(viewer.session.nonce, presented if isinstance(presented, str) else None):
        raise CsrfRejected()


def check_login_csrf(request: Request, form: Any) -> None:
    presented = form.get(CSRF_FIELD)
    if not codec(request).csrf_ok(request.cookies.get(LOGIN_COOKIE), presented if isinstance(presented, str) else None):
        raise CsrfRejected()
