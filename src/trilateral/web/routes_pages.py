"""Today, Intel, Screening and Reports pages: each parses HTTP, calls a service or the hub, renders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from trilateral.core.errors import InputError, TrilateralError
from trilateral.core.tlp import Tlp
from trilateral.web.app import render
from trilateral.web.deps import Viewer, check_csrf, current_viewer
from trilateral.web.limits import TooMuchWork, limiter
from trilateral.web.services import cases as case_service
from trilateral.web.services import intel, today

router = APIRouter(include_in_schema=False)


def _home(request: Request) -> Path:
    return request.app.state.hub.settings.home


def feed_query(request: Request) -> intel.FeedQuery:
    """The feed filters of a request's query string (shared by the page and its JSON twin)."""
    p = request.query_params
    tlps = []
    for t in p.getlist("tlp"):
        try:
            tlps.append(Tlp.parse(t))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return intel.FeedQuery(collection=p.get("collection") or "shared",
                           types=[t for t in p.getlist("type") if t], tlps=tlps,
                           submitter=(p.get("submitter") or "").strip(), since=intel.parse_since(p.get("since")),
                           text=(p.get("q") or "").strip(), cursor=p.get("cursor") or None)


@router.get("/")
def today_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    summary = today.summary(request.app.state.hub, viewer.principal, _home(request))
    return render(request, "today.html", viewer, s=summary)


@router.get("/today/actions")
def today_actions(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    rows = today.overdue_actions(request.app.state.hub, viewer.principal, date.today())
    return render(request, "_actions.html", viewer, actions=rows)


@router.get("/today/freeze")
def today_freeze(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    rows = case_service.shared_freeze_requests(request.app.state.hub, viewer.principal)
    return render(request, "_freeze_shared.html", viewer, requests=rows)


@router.get("/intel")
def intel_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    hub = request.app.state.hub
    try:
        q = feed_query(request)
        page, error = intel.feed(hub, viewer.principal, q), ""
    except TrilateralError as exc:
        q, page, error = intel.FeedQuery(), intel.FeedPage([], None, 0), str(exc)
    collections = [c.id for c in hub.collections(viewer.principal)]
    template = "_feed.html" if request.headers.get("hx-request") else "intel.html"
    return render(request, template, viewer, q=q, page=page, error=error, collections=collections,
                  since=request.query_params.get("since", ""), levels=list(Tlp),
                  query=request.url.query)


@router.get("/intel/object/{object_id}")
def object_page(object_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    view = intel.object_view(request.app.state.hub, viewer.principal, object_id)
    if view is None:
        return render(request, "error.html", viewer, status=404, message=f"No object {object_id} that you may read.")
    return render(request, "object.html", viewer, o=view)


@router.get("/intel/object/{object_id}/sightings")
def object_sightings(object_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    return render(request, "_sightings.html", viewer,
                  counts=intel.sightings(request.app.state.hub, viewer.principal, object_id))


@router.get("/intel/share")
def share_form(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    return _share_page(request, viewer)


def _share_page(request: Request, viewer: Viewer, status: int = 200, **extra: object) -> Response:
    writable = [c.id for c in request.app.state.hub.collections(viewer.principal) if c.can_write]
    return render(request, "share.html", viewer, status=status, levels=list(Tlp), kinds=list(intel.INDICATOR_KINDS),
                  collections=writable, **extra)


@router.post("/intel/share")
async def share(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    form = await request.form()
    check_csrf(request, viewer, form)
    try:
        tlp = Tlp.parse(str(form.get("tlp") or "amber"))
        recipients = intel.parse_recipients(str(form.get("recipients") or ""))
        upload = form.get("file")
        if upload is not None and getattr(upload, "filename", ""):
            objects = intel.objects_from_file(await upload.read(), upload.filename)
        else:
            objects = [intel.indicator_from_form(str(form.get("kind") or ""), str(form.get("value") or ""),
                                                 str(form.get("name") or ""), str(form.get("description") or ""))]
        result = intel.share(request.app.state.hub, viewer.principal, objects, tlp, recipients,
                             str(form.get("collection") or "shared"))
    except (TrilateralError, ValueError) as exc:
        return _share_page(request, viewer, status=400, error=str(exc))
    return _share_page(request, viewer, result=result)


@router.get("/screening")
def screening_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    return render(request, "screening.html", viewer, results=None, text="")


@router.post("/screening")
async def screening(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.screening import screen_form

    form = await request.form()
    check_csrf(request, viewer, form)
    upload = form.get("file")
    data = await upload.read() if upload is not None and getattr(upload, "filename", "") else b""
    text = str(form.get("addresses") or "")
    try:
        hops = int(str(form.get("hops") or "3"))
        async with limiter(request.app).aslot(viewer.principal.code, "screen", request.url.path):
            results = await run_in_threadpool(screen_form, request.app, viewer.principal, text, data,
                                              str(form.get("chain") or ""), hops)
        error = ""
    except TooMuchWork as exc:
        return _refused(render(request, "screening.html", viewer, status=429, results=None, error=str(exc),
                               text=text), exc)
    except (TrilateralError, ValueError) as exc:
        results, error = None, str(exc)
    return render(request, "screening.html", viewer, status=400 if error else 200, results=results, error=error,
                  text=text)


def _refused(response: Response, exc: TooMuchWork) -> Response:
    """A 429 page that says when to come back."""
    response.headers.update(exc.headers)
    return response


@router.get("/reports")
def reports_page(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.reports import current_quarter, list_reports

    return render(request, "reports.html", viewer, reports=list_reports(_home(request), viewer.principal),
                  quarter=current_quarter(datetime.now(UTC).date()))


@router.post("/reports")
async def make_report(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.reports import generate, list_reports, parse_quarter

    form = await request.form()
    check_csrf(request, viewer, form)
    quarter = str(form.get("quarter") or "").strip()
    try:
        quarter = parse_quarter(quarter)
        # seconds of CPU (HTML + PDF): limited per principal, and off the event loop so that others'
        # pages and TAXII calls go on meanwhile
        async with limiter(request.app).aslot(viewer.principal.code, "report", request.url.path):
            await run_in_threadpool(generate, request.app.state.hub, viewer.principal, quarter,
                                    pdf=form.get("pdf") == "on")
    except TrilateralError as exc:
        page = render(request, "reports.html", viewer, status=429 if isinstance(exc, TooMuchWork) else 400,
                      error=str(exc), reports=list_reports(_home(request), viewer.principal), quarter=quarter)
        return _refused(page, exc) if isinstance(exc, TooMuchWork) else page
    return RedirectResponse("/reports", status_code=303)


@router.get("/reports/{quarter}/{name:path}")
def report_file(quarter: str, name: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.reports import report_path

    path = report_path(_home(request), viewer.principal, quarter, name)
    if path is None:
        return render(request, "error.html", viewer, status=404, message="No such report file.")
    return FileResponse(path)


