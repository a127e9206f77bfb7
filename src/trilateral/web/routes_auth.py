"""Sign-in (form fields `code` and `token`, checked by the hub's token check), sign-out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from trilateral.core.errors import AuthenticationError
from trilateral.web.app import render
from trilateral.web.deps import Viewer, check_csrf, check_login_csrf, codec, current_viewer, signed_out
from trilateral.web.sessions import LOGIN_COOKIE, SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, status: int = 200, error: str = "") -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    response = render(request, "login.html", None, status=status, login_csrf=codec(request).csrf_token(nonce),
                      error=error, next=_safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=3600, path="/login")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    check_login_csrf(request, form)
    code, token = str(form.get("code") or "").strip(), str(form.get("token") or "").strip()
    try:
        principal = request.app.state.hub.authenticate(token, code=code or None) if code and token else None
    except AuthenticationError:
        principal = None
    if principal is None:
        return _login_page(request, status=401, error="Sign-in failed: unknown code, wrong token, or revoked.")
    value, session = codec(request).issue(principal.code)
    response = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=codec(request).lifetime, path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    check_csrf(request, viewer, await request.form())
    signed_out(request).add(viewer.session.nonce)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
