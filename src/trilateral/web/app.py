"""Mounts the console into the served FastAPI app: pages at /, sign-in at /login, JSON under
/api/console/, bundled browser assets under /static/ (shipped in the package, no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from trilateral.core.tlp import Tlp
from trilateral.web.deps import CSRF_FIELD, CsrfRejected, SignInRequired, Viewer

HERE = Path(__file__).parent
TLP_CLASS = {Tlp.CLEAR: "tlp-clear", Tlp.GREEN: "tlp-green", Tlp.AMBER: "tlp-amber",
             Tlp.AMBER_STRICT: "tlp-amber-strict", Tlp.RED: "tlp-red"}
NAV = [("/", "Today"), ("/intel", "Intel"), ("/cases", "Cases"), ("/screening", "Screening"),
       ("/reports", "Reports"), ("/admin", "Administration")]

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(TLP_CLASS=TLP_CLASS, Tlp=Tlp, CSRF_FIELD=CSRF_FIELD)
templates.env.filters["short"] = lambda s, n=14: s if len(str(s)) <= n else str(s)[:n] + "…"
templates.env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else ""


def render(request: Request, name: str, viewer: Viewer | None, status: int = 200, **context: Any) -> Response:
    """A page with the signed-in principal, its CSRF token and the navigation it may use."""
    nav = [(href, label) for href, label in NAV if label != "Administration" or (viewer and viewer.is_member)]
    response = templates.TemplateResponse(request, name, {"viewer": viewer, "nav": nav,
                                                          "csrf": viewer.csrf if viewer else "", **context},
                                          status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data: blob:; "
                                                   "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
    return response


def install_console(app: FastAPI) -> None:
    """Add the console's routes, static files and error handlers to `app` (TAXII stays at /taxii2/)."""
    from trilateral.web.routes_admin import router as admin_router
    from trilateral.web.routes_api import router as api_router
    from trilateral.web.routes_auth import router as auth_router
    from trilateral.web.routes_cases import router as cases_router
    from trilateral.web.routes_pages import router as pages_router

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    for router in (auth_router, pages_router, cases_router, admin_router, api_router):
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith("/api/console/"):
            return JSONResponse({"error": "sign in required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}" if target != "/" else "/login", status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        if request.url.path.startswith("/api/console/"):
            return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
        return render(request, "error.html", None, status=403,
                      message="This form was missing its security token (CSRF). Reload the page and try again.")
