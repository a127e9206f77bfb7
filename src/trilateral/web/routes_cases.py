"""Cases pages: the list, one case (graph, off-ramps, holdings, freeze requests, linked incident and
attribution) and recording an exchange's answer to a freeze request (members only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from trilateral.core.errors import TrilateralError
from trilateral.web.app import render
from trilateral.web.deps import Viewer, check_csrf, current_viewer
from trilateral.web.services import cases as case_service

router = APIRouter(include_in_schema=False)


@router.get("/cases")
def cases_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    hub = request.app.state.hub
    found = case_service.visible_cases(hub.settings.home, viewer.principal)
    shared = case_service.shared_freeze_requests(hub, viewer.principal)
    return render(request, "cases.html", viewer, cases=found, shared=shared)


@router.get("/cases/{case_id}")
def case_page(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    case = case_service.get_case(request.app.state.hub.settings.home, viewer.principal, case_id)
    if case is None:
        return render(request, "error.html", viewer, status=404, message="No case with that id that you may read.")
    return render(request, "case.html", viewer, case=case, statuses=case_service.STATUSES,
                  message=request.query_params.get("saved", ""))


@router.get("/cases/{case_id}/context")
def case_context_fragment(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    """The linked incident and its attribution (loaded after the case page: it reads hub objects)."""
    from trilateral.web.services.case_context import context

    hub = request.app.state.hub
    case = case_service.get_case(hub.settings.home, viewer.principal, case_id)
    if case is None:
        return render(request, "error.html", viewer, status=404, message="No case with that id that you may read.")
    return render(request, "_case_context.html", viewer, ctx=context(hub, viewer.principal, case))


@router.post("/cases/{case_id}/freeze")
async def freeze_answer(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    form = await request.form()
    check_csrf(request, viewer, form)
    case = case_service.get_case(request.app.state.hub.settings.home, viewer.principal, case_id)
    if case is None or not viewer.is_member:
        return render(request, "error.html", viewer, status=404, message="No case with that id that you may change.")
    try:
        case_service.record_answer(case, str(form.get("exchange") or ""), str(form.get("status") or ""),
                                   case_service.parse_frozen(str(form.get("frozen") or "")))
    except TrilateralError as exc:
        return render(request, "case.html", viewer, status=400, case=case, statuses=case_service.STATUSES,
                      error=str(exc))
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)
