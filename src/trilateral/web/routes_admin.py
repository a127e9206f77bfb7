"""Administration (members only): members and clients, tokens (rotate, revoke, a new client), the
audit log (read-only, the agency's own entries through `Hub.audit_entries`) and its verification.
A member manages itself and its own clients, never another member."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from trilateral.core.errors import TrilateralError
from trilateral.web.app import render
from trilateral.web.deps import Viewer, check_csrf, current_viewer

router = APIRouter(include_in_schema=False)
ADMIN_PAGE_ENTRIES = 15
AUDIT_PAGE_ENTRIES = 50


def _forbidden(request: Request, viewer: Viewer) -> Response:
    return render(request, "error.html", viewer, status=403, message="Administration is for member agencies.")


def manageable(viewer: Viewer, code: str, sponsor: str | None) -> bool:
    return code == viewer.principal.code or sponsor == viewer.principal.code


def _page(request: Request, viewer: Viewer, status: int = 200, **extra: object) -> Response:
    hub = request.app.state.hub
    people = hub.list_principals()
    log = hub.audit_entries(viewer.principal, limit=ADMIN_PAGE_ENTRIES)
    return render(request, "admin.html", viewer, status=status, people=people, log=log,
                  can=lambda p: manageable(viewer, p.code, p.sponsor), **extra)


def _before(request: Request) -> int | None:
    value = request.query_params.get("before", "")
    return int(value) if value.isdigit() else None


@router.get("/admin/audit")
def audit_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    if not viewer.is_member:
        return _forbidden(request, viewer)
    log = request.app.state.hub.audit_entries(viewer.principal, before=_before(request), limit=AUDIT_PAGE_ENTRIES)
    return render(request, "audit.html", viewer, log=log, first=_before(request) is None)


@router.get("/admin")
def admin_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    if not viewer.is_member:
        return _forbidden(request, viewer)
    return _page(request, viewer)


@router.post("/admin/{action}")
async def admin_action(action: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    form = await request.form()
    check_csrf(request, viewer, form)
    if not viewer.is_member:
        return _forbidden(request, viewer)
    hub = request.app.state.hub
    code = str(form.get("code") or "").strip().upper()
    infos = {p.code: p for p in hub.list_principals()}
    try:
        if action == "verify":
            return _page(request, viewer, verdict=hub.audit_verify())
        if action == "add-client":
            principal, token = hub.add_principal(code, str(form.get("name") or code), client_of=viewer.principal.code)
            return _page(request, viewer, new_token=(principal.code, token))
        target = infos.get(code)
        if target is None or not manageable(viewer, target.code, target.sponsor):
            return _page(request, viewer, status=403, error=f"You may not manage {code or 'that principal'}.")
        if action == "rotate":
            return _page(request, viewer, new_token=(target.code, hub.rotate_token(target.code)))
        if action == "revoke" and target.code != viewer.principal.code:
            hub.revoke(target.code)
            return _page(request, viewer, notice=f"{target.code} is revoked.")
    except TrilateralError as exc:
        return _page(request, viewer, status=400, error=str(exc))
    return _page(request, viewer, status=400, error=f"Unknown action {action!r}.")
