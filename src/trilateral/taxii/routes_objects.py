"""Objects, object by id, manifest and versions (TAXII 2.1 sections 5.3-5.8), paged through the hub."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from trilateral.core.errors import InputError
from trilateral.core.principal import Principal
from trilateral.taxii.auth import require_principal
from trilateral.taxii.builtins import with_builtins
from trilateral.taxii.deps import collection_for, count_objects, hub_of, require_taxii_accept
from trilateral.taxii.errors import TaxiiError
from trilateral.taxii.media import STIX_MEDIA_TYPE, is_taxii_content_type
from trilateral.taxii.paging import added_after_safe_page
from trilateral.taxii.params import Filters, is_stix_id, parse_filters
from trilateral.taxii.responses import (
    envelope_bytes,
    format_timestamp,
    object_bytes,
    paged_response,
    taxii_json,
)
from trilateral.taxii.routes_root import API_ROOT, status_resource

router = APIRouter(dependencies=[Depends(require_taxii_accept)], tags=["objects"])
COLLECTION = API_ROOT + "collections/{collection_id}/"
_BY_ID = frozenset({"limit", "next", "added_after", "match[version]", "match[spec_version]"})
_VERSIONS = frozenset({"limit", "next", "added_after", "match[spec_version]"})
_DELETE = frozenset({"match[version]", "match[spec_version]"})


async def filter_docs(
    limit: str | None = Query(None, description="page size (server caps it at 10,000)"),
    next: str | None = Query(None, description="opaque token from the previous page's `next`"),
    added_after: str | None = Query(None, description="only objects added after this RFC 3339 time"),
    match_id: str | None = Query(None, alias="match[id]", description="comma-separated STIX ids"),
    match_type: str | None = Query(None, alias="match[type]", description="comma-separated STIX types"),
    match_version: str | None = Query(None, alias="match[version]",
                                      description="first, last (default), all, or RFC 3339 timestamps"),
    match_spec_version: str | None = Query(None, alias="match[spec_version]", description="2.0 or 2.1"),
) -> None:
    """Documents the filters in OpenAPI; the values are validated by `parse_filters`."""


def _fetch(hub: Any, principal: Principal, collection_id: str, filters: Filters, ids: tuple[str, ...] | None,
           manifest: bool, limit: int, cursor: str | None) -> Any:
    method = hub.manifest if manifest and hasattr(hub, "manifest") else hub.query
    try:
        return method(principal, collection=collection_id, added_after=filters.added_after,
                      ids=list(ids or filters.ids or ()) or None,
                      types=list(filters.types) if filters.types else None,
                      versions=filters.versions,
                      spec_versions=list(filters.spec_versions) if filters.spec_versions else None,
                      limit=limit, cursor=cursor, skip_origins=filters.skip_origins,
                      **({} if manifest else {"audit": False}))
    except (InputError, ValueError) as exc:  # a bad or foreign `next`, or a filter the hub refuses
        raise TaxiiError(400, str(exc)) from None


def _run_query(request: Request, principal: Principal, collection_id: str, filters: Filters,
               ids: tuple[str, ...] | None = None, manifest: bool = False) -> Any:
    """One page: the built-in TLP 2.0 definitions the filters select, then the hub's page."""
    hub = hub_of(request)
    collection_for(hub, principal, collection_id, read=True)
    fetch = partial(_fetch, hub, principal, collection_id, filters, ids, manifest)
    unique = bool(getattr(hub, "date_added_unique", False))

    def fetch_hub(limit: int, cursor: str | None) -> Any:
        return added_after_safe_page(fetch, limit, cursor, unique_dates=unique)

    return with_builtins(filters, ids, fetch_hub)


def _bounds(records: list) -> tuple[str | None, str | None]:
    if not records:
        return None, None
    added = [r.date_added for r in records]
    return format_timestamp(min(added)), format_timestamp(max(added))


def _version(record: Any) -> str:
    version = getattr(record, "modified", None) or getattr(record, "version", None)
    return format_timestamp(version or record.date_added)


def _objects_page(request: Request, principal: Principal, collection_id: str, filters: Filters,
                  ids: tuple[str, ...] | None = None, missing_is_404: bool = False) -> Response:
    page = _run_query(request, principal, collection_id, filters, ids)
    records = page.records
    if missing_is_404 and not records and not filters.next_token:
        raise TaxiiError(404, f"no object {ids[0] if ids else ''} that {principal.code} may read here")
    audit = getattr(hub_of(request), "audit_returned", None)
    if audit is not None:  # what this response returns, not what was fetched to build it
        audit(principal, records, collection_id)
    count_objects(request, len(records))
    first, last = _bounds(records)
    body = envelope_bytes((object_bytes(r) for r in records), "objects", page.more, page.next_cursor,
                          _provenance(hub_of(request), principal, records))
    return paged_response(body, first, last)


def _provenance(hub: Any, principal: Principal, records: list) -> dict[str, Any] | None:
    """For a peer node (federation): origin node and original submitter of each object, in order."""
    if not records or not hasattr(hub, "is_peer") or not hub.is_peer(principal):
        return None
    from trilateral.federation.core import PROVENANCE_KEY

    return {PROVENANCE_KEY: hub.provenance(records)}


@router.get(COLLECTION + "objects/", summary="Objects this principal may read", dependencies=[Depends(filter_docs)])
def get_objects(collection_id: str, request: Request,
                principal: Principal = Depends(require_principal)) -> Response:
    return _objects_page(request, principal, collection_id, parse_filters(request.query_params))


@router.get(COLLECTION + "manifest/", summary="Manifest of the objects this principal may read",
            dependencies=[Depends(filter_docs)])
def get_manifest(collection_id: str, request: Request,
                 principal: Principal = Depends(require_principal)) -> Response:
    filters = parse_filters(request.query_params)
    page = _run_query(request, principal, collection_id, filters, manifest=True)
    records = page.records
    count_objects(request, len(records))
    items = (orjson.dumps({"id": r.id, "date_added": format_timestamp(r.date_added), "version": _version(r),
                           "media_type": STIX_MEDIA_TYPE}) for r in records)
    first, last = _bounds(records)
    return paged_response(envelope_bytes(items, "objects", page.more, page.next_cursor), first, last)


def _object_id(object_id: str) -> str:
    if not is_stix_id(object_id):
        raise TaxiiError(404, f"{object_id!r} is not a STIX identifier (type--uuid); no such object")
    return object_id


@router.get(COLLECTION + "objects/{object_id}/", summary="One object (its versions per match[version])",
            dependencies=[Depends(filter_docs)])
def get_object(collection_id: str, object_id: str, request: Request,
               principal: Principal = Depends(require_principal)) -> Response:
    object_id = _object_id(object_id)
    filters = parse_filters(request.query_params, allow=_BY_ID)
    return _objects_page(request, principal, collection_id, filters, ids=(object_id,), missing_is_404=True)


@router.get(COLLECTION + "objects/{object_id}/versions/", summary="Versions of one object",
            dependencies=[Depends(filter_docs)])
def get_versions(collection_id: str, object_id: str, request: Request,
                 principal: Principal = Depends(require_principal)) -> Response:
    object_id = _object_id(object_id)
    filters = parse_filters(request.query_params, allow=_VERSIONS, default_versions=("all",))
    page = _run_query(request, principal, collection_id, filters, ids=(object_id,), manifest=True)
    records = page.records
    if not records and not filters.next_token:
        raise TaxiiError(404, f"no object {object_id} that {principal.code} may read here")
    count_objects(request, len(records))
    body: dict[str, Any] = {"more": page.more}
    if page.more and page.next_cursor:
        body["next"] = page.next_cursor
    if records:
        body["versions"] = [_version(r) for r in records]
    first, last = _bounds(records)
    headers = {"X-TAXII-Date-Added-First": first, "X-TAXII-Date-Added-Last": last} if first and last else None
    return taxii_json(body, headers=headers)


@router.delete(COLLECTION + "objects/{object_id}/", summary="Delete an object (versions per match[version])")
def delete_object(collection_id: str, object_id: str, request: Request,
                  principal: Principal = Depends(require_principal)) -> Response:
    object_id = _object_id(object_id)
    filters = parse_filters(request.query_params, allow=_DELETE, default_versions=("all",))
    hub = hub_of(request)
    collection_for(hub, principal, collection_id, write=True)
    try:
        deleted = hub.delete(principal, collection_id, object_id, versions=filters.versions)
    except (InputError, ValueError) as exc:
        raise TaxiiError(400, str(exc)) from None
    if not deleted:
        raise TaxiiError(404, f"no object {object_id} that {principal.code} may delete here")
    count_objects(request, int(deleted))
    return Response(status_code=200)


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing with 413 as soon as it exceeds `max_bytes` (before storing anything)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.strip().isdigit()) or len(declared.strip()) > 18:
            raise TaxiiError(400, f"Content-Length {declared!r} is not a number")
        if int(declared) > max_bytes:
            raise TaxiiError(413, f"body of {int(declared):,} bytes exceeds max_content_length {max_bytes:,}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TaxiiError(413, f"body exceeds max_content_length {max_bytes:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _envelope(body: bytes, max_objects: int) -> dict:
    """The parsed envelope (or STIX bundle): 400 for bad JSON, 422 for JSON that is not one, 413 if too many."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TaxiiError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict) or "objects" not in payload:
        raise TaxiiError(422, 'body must be a TAXII envelope {"objects": [...]} (or a STIX bundle)')
    objects = payload["objects"]
    if not isinstance(objects, list) or not objects:
        raise TaxiiError(422, "the envelope's objects must be a non-empty list of STIX objects")
    if len(objects) > max_objects:
        raise TaxiiError(413, f"{len(objects):,} objects exceed the limit of {max_objects:,} per request")
    return payload


@router.post(COLLECTION + "objects/", summary="Add objects (returns a status resource)", status_code=202)
async def add_objects(collection_id: str, request: Request,
                      principal: Principal = Depends(require_principal)) -> Response:
    if not is_taxii_content_type(request.headers.get("content-type")):
        raise TaxiiError(415, "Content-Type must be application/taxii+json;version=2.1, "
                              f"got {request.headers.get('content-type')!r}")
    settings = request.app.state.settings
    hub = hub_of(request)
    await run_in_threadpool(collection_for, hub, principal, collection_id, write=True)
    body = await _read_body(request, settings.max_bundle_bytes)
    payload = _envelope(body, settings.max_bundle_objects)
    result = await run_in_threadpool(partial(hub.submit, principal, payload, collection=collection_id,
                                             source="taxii", json_size=len(body)))
    status = status_resource(result)
    count_objects(request, status["success_count"])
    return taxii_json(status, status=202)
