"""Discovery, API root, collections and status resources (TAXII 2.1 sections 4.1-4.3, 5.1-5.2)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from trilateral.core.principal import Principal
from trilateral.taxii.auth import require_principal
from trilateral.taxii.deps import collection_for, hub_of, require_taxii_accept
from trilateral.taxii.errors import TaxiiError
from trilateral.taxii.media import STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE
from trilateral.taxii.responses import format_timestamp, taxii_json

API_ROOT = "/api/v1/"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

router = APIRouter(dependencies=[Depends(require_taxii_accept)])


@router.get("/taxii2/", tags=["discovery"], summary="Server discovery")
def discovery() -> Response:
    """Where the API roots are. Open to anyone, so a client can find where to authenticate."""
    return taxii_json({
        "title": "Trilateral intel hub",
        "description": "TAXII 2.1 exchange of STIX 2.1 intelligence between US, KR, JP and their clients; "
                       "TLP 2.0 markings decide what each principal reads.",
        "contact": "the hub operator of your member agency",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    })


@router.get(API_ROOT, tags=["api root"], summary="API root information")
def api_root(request: Request, principal: Principal = Depends(require_principal)) -> Response:
    settings = request.app.state.settings
    return taxii_json({
        "title": "Trilateral shared intelligence",
        "description": "Shared and per-member collections of the trilateral hub.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": settings.max_bundle_bytes,
    })


def collection_resource(info: Any) -> dict:
    body = {"id": info.id, "title": info.title or info.id, "can_read": bool(info.can_read),
            "can_write": bool(info.can_write), "media_types": [STIX_MEDIA_TYPE]}
    if getattr(info, "description", None):
        body["description"] = info.description
    return body


@router.get(API_ROOT + "collections/", tags=["collections"], summary="Collections this principal can see")
def collections(request: Request, principal: Principal = Depends(require_principal)) -> Response:
    infos = hub_of(request).collections(principal)
    return taxii_json({"collections": [collection_resource(i) for i in infos]} if infos else {})


@router.get(API_ROOT + "collections/{collection_id}/", tags=["collections"], summary="One collection")
def collection(collection_id: str, request: Request,
               principal: Principal = Depends(require_principal)) -> Response:
    return taxii_json(collection_resource(collection_for(hub_of(request), principal, collection_id)))


def _detail(object_id: Any, version: Any, message: str | None) -> dict:
    detail = {"id": object_id or "unknown", "version": format_timestamp(version) if version else ""}
    if message:
        detail["message"] = message
    return detail


def _status_details(items: Any) -> list[dict]:
    """TAXII status details from the hub's StatusDetail records."""
    return [_detail(d.id, d.version, d.message) for d in items or ()]


def status_resource(result: Any) -> dict:
    """A TAXII status resource from the hub's SubmitResult (just after POST) or StatusRecord (later)."""
    if hasattr(result, "successes"):  # StatusRecord: the hub's counts include details not yet written
        return {
            "id": str(result.id),
            "status": result.status,
            "request_timestamp": format_timestamp(result.request_timestamp),
            "total_count": result.total_count,
            "success_count": result.success_count,
            "successes": _status_details(result.successes),
            "failure_count": result.failure_count,
            "failures": _status_details(result.failures),
            "pending_count": result.pending_count,
            "pendings": _status_details(result.pendings),
        }
    successes = ([_detail(i, v, None) for i, v in result.stored]
                 + [_detail(i, v, "identical object already stored") for i, v in result.duplicates])
    failures = [_detail(i, None, str(reason)) for i, reason in result.failed]
    return {
        "id": str(result.status_id),
        "status": "complete",
        "request_timestamp": format_timestamp(result.date_added),
        "total_count": len(successes) + len(failures),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


@router.get(API_ROOT + "status/{status_id}/", tags=["status"], summary="Status of an earlier POST")
def status(status_id: str, request: Request, principal: Principal = Depends(require_principal)) -> Response:
    if not _UUID.match(status_id):
        raise TaxiiError(404, f"no status {status_id!r}")
    try:
        record = hub_of(request).get_status(principal, status_id)
    except (LookupError, ValueError):
        raise TaxiiError(404, f"no status {status_id!r} for {principal.code}") from None
    if record is None:
        raise TaxiiError(404, f"no status {status_id!r} for {principal.code}")
    return taxii_json(status_resource(record))
