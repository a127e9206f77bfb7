"""JSON calls the console's pages make, and the live stream (Server-Sent Events) of new intel.

Every call resolves the signed-in principal first and reads through the same services as the pages,
so HTML and JSON show the same objects; a post needs the X-CSRF-Token header.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from trilateral.core.errors import TrilateralError
from trilateral.web.deps import Viewer, active_principal, check_csrf, current_viewer
from trilateral.web.limits import TooMuchWork, limiter
from trilateral.web.routes_pages import feed_query
from trilateral.web.services import cases as case_service
from trilateral.web.services import intel, recent
from trilateral.web.services.today import ALERT_WINDOW_DAYS

router = APIRouter(prefix="/api/console", include_in_schema=False)
LIVE_POLL_SECONDS = 1.0
LIVE_HEARTBEAT_SECONDS = 15.0


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _count(text: str | None) -> int | None:
    """A query parameter as a non-negative int, or None: ASCII digits only ("²".isdigit() is true but
    int() refuses it) and at most 18 of them (int() refuses thousands of digits) -- never a 500."""
    return int(text) if text and len(text) <= 18 and text.isascii() and text.isdigit() else None


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


@router.get("/feed")
def feed(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    try:
        page = intel.feed(request.app.state.hub, viewer.principal, feed_query(request))
    except TrilateralError as exc:
        return _error(str(exc), 400)
    return _json({"items": [i.as_json() for i in page.items], "next": page.next_cursor, "scanned": page.scanned})


@router.get("/object/{object_id}")
def object_json(object_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    view = intel.object_view(request.app.state.hub, viewer.principal, object_id)
    if view is None:
        return _error("no such object that you may read", 404)
    return _json({"id": view.id, "tlp": view.tlp.label, "submitter": view.submitter, "collection": view.collection,
                  "versions": [{"version": v["version"], "date_added": v["date_added"], "tlp": v["tlp"].label,
                                "submitter": v["submitter"]} for v in view.versions],
                  "object": view.latest})


@router.get("/object/{object_id}/sightings")
def sightings_json(object_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    return _json(intel.sightings(request.app.state.hub, viewer.principal, object_id))


@router.get("/cases")
def cases_json(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    found = case_service.visible_cases(request.app.state.hub.settings.home, viewer.principal)
    return _json([{"id": c.id, "name": c.name, "tlp": c.tlp.label, "offramps": len(c.findings.get("offramps") or []),
                   "unanswered_freeze_requests": len(c.unanswered)} for c in found])


@router.get("/freeze-requests")
def freeze_json(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    rows = case_service.shared_freeze_requests(request.app.state.hub, viewer.principal)
    return _json([{"id": r["id"], "exchange": r.get("exchange"), "tlp": r["_tlp"].label,
                   "submitter": r["_submitter"]} for r in rows])


def _case(request: Request, viewer: Viewer, case_id: str) -> case_service.Case | None:
    return case_service.get_case(request.app.state.hub.settings.home, viewer.principal, case_id)


@router.get("/cases/{case_id}/graph")
async def case_graph(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    case = _case(request, viewer, case_id)
    if case is None:
        return _error("no such case that you may read", 404)
    try:
        async with limiter(request.app).aslot(viewer.principal.code, "graph", request.url.path):
            graph = await run_in_threadpool(case_service.case_graph, case, _count(request.query_params.get("budget")))
    except TooMuchWork as exc:
        return _error(str(exc), 429, exc.headers)
    return _json(graph)


@router.get("/cases/{case_id}/context")
def case_context_json(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.case_context import context

    case = _case(request, viewer, case_id)
    if case is None:
        return _error("no such case that you may read", 404)
    return _json(context(request.app.state.hub, viewer.principal, case).as_json())


@router.get("/cases/{case_id}/explain")
def case_explain(case_id: str, request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    case = _case(request, viewer, case_id)
    if case is None:
        return _error("no such case that you may read", 404)
    return _json(case_service.explain_address(case, request.query_params.get("address", "")))


def _screen_body_problem(body: Any) -> str | None:
    """What is wrong with a screening request's shape, named, before anything runs on it."""
    if not isinstance(body, dict):
        return 'body must be a JSON object {"addresses": [...], "chain": "...", "hops": N}'
    addresses = body.get("addresses")
    if addresses is not None and not (isinstance(addresses, list) and all(isinstance(a, str) for a in addresses)):
        return "addresses must be a list of strings"
    if body.get("chain") is not None and not isinstance(body["chain"], str):
        return "chain must be a string"
    hops = body.get("hops", 3)
    if isinstance(hops, str) and hops.isascii() and hops.isdigit() and len(hops) <= 3:
        body["hops"] = int(hops)
    elif isinstance(hops, bool) or not isinstance(hops, int):
        return "hops must be an integer"
    return None


@router.post("/screen")
async def screen_json(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    from trilateral.web.services.screening import screen_form

    check_csrf(request, viewer)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        return _error(f"body is not JSON: {exc}", 400)
    problem = _screen_body_problem(body)
    if problem:
        return _error(problem, 400)
    try:
        async with limiter(request.app).aslot(viewer.principal.code, "screen", request.url.path):
            results = await run_in_threadpool(screen_form, request.app, viewer.principal,
                                              "\n".join(body.get("addresses") or []), b"", body.get("chain") or "",
                                              body.get("hops", 3))
    except TooMuchWork as exc:
        return _error(str(exc), 429, exc.headers)
    except (TrilateralError, ValueError) as exc:
        return _error(str(exc), 400)
    return _json(results)


def _event(kind: str, data: Any, ident: str | None = None) -> bytes:
    head = f"id: {ident}\n" if ident else ""
    return (head + f"event: {kind}\ndata: ").encode() + orjson.dumps(data, default=str) + b"\n\n"


@router.get("/audit")
def audit_json(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    """The agency's audit entries, newest first (members only, as the Administration screen)."""
    if not viewer.is_member:
        return _error("administration is for member agencies", 403)
    log = request.app.state.hub.audit_entries(viewer.principal, before=_count(request.query_params.get("before")))
    return _json({"entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                               "detail": e.detail, "hidden_ids": e.hidden_ids} for e in log.entries],
                  "older": log.older})


@router.get("/alerts")
def alerts_json(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    """The chain watch's alerts of the last week the principal may read, newest first (Today's list)."""
    since = datetime.now(UTC) - timedelta(days=ALERT_WINDOW_DAYS)
    found, more = recent.new_alerts(request.app.state.hub, viewer.principal, since)
    return _json({"items": [a.as_json() for a in found], "more": more})


@router.get("/live")
async def live(request: Request, viewer: Viewer = Depends(current_viewer)) -> StreamingResponse:
    """New alerts and new intel the principal may read, as they arrive, in every collection (polls the
    hub, so objects submitted by any process or worker, the chain watch included, appear); the stream
    ends when the session stops being valid."""
    hub = request.app.state.hub
    last_id = request.headers.get("last-event-id")
    try:  # a reconnecting browser resumes after the last object it was sent
        start = datetime.fromisoformat(last_id) if last_id else datetime.now(UTC)
    except ValueError:
        start = datetime.now(UTC)
    collections = await run_in_threadpool(hub.collections, viewer.principal)
    since = {c.id: start for c in collections}

    async def stream() -> AsyncIterator[bytes]:
        quiet = 0.0
        yield b"retry: 3000\n\n"
        while not await request.is_disconnected():
            if await run_in_threadpool(active_principal, hub, viewer.session) is None:
                yield _event("signed-out", {})
                return
            events = await run_in_threadpool(recent.live_batch, hub, viewer.principal, since)
            for kind, data, added in events:
                yield _event(kind, data, added.isoformat())
            quiet = 0.0 if events else quiet + LIVE_POLL_SECONDS
            if quiet >= LIVE_HEARTBEAT_SECONDS:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(LIVE_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
