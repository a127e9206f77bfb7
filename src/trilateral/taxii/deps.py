"""Request helpers shared by the routes: the hub, content negotiation, collection access."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from trilateral.core.principal import Principal
from trilateral.taxii.errors import TaxiiError
from trilateral.taxii.media import TAXII_MEDIA_TYPE, accepts_taxii


def hub_of(request: Request) -> Any:
    return request.app.state.hub


async def require_taxii_accept(request: Request) -> None:
    """406 unless the client accepts application/taxii+json;version=2.1."""
    if not accepts_taxii(request.headers.get("accept")):
        raise TaxiiError(406, f"this server answers only {TAXII_MEDIA_TYPE}; "
                              f"got Accept: {request.headers.get('accept')}")


_COLLECTIONS_TTL = 2.0
_collections_cache: dict[tuple[int, Principal], tuple[float, list]] = {}


def collections_of(hub: Any, principal: Principal) -> list:
    """hub.collections(principal), remembered for 2 s: an early 404/403 for the routes.

    The hub checks the collection again on every query, submit and delete, so a stale entry can
    only delay an early answer, never let a request through.
    """
    key = (id(hub), principal)
    now = time.monotonic()
    hit = _collections_cache.get(key)
    if hit is not None and now - hit[0] < _COLLECTIONS_TTL:
        return hit[1]
    infos = list(hub.collections(principal))
    if len(_collections_cache) > 10_000:
        _collections_cache.clear()
    _collections_cache[key] = (now, infos)
    return infos


def collection_for(hub: Any, principal: Principal, collection_id: str, *, read: bool = False,
                   write: bool = False) -> Any:
    """The hub's CollectionInfo for this principal: 404 if unknown, 403 if it may not read/write it."""
    for info in collections_of(hub, principal):
        if info.id == collection_id:
            if read and not info.can_read:
                raise TaxiiError(403, f"{principal.code} may not read collection {collection_id}")
            if write and not info.can_write:
                raise TaxiiError(403, f"{principal.code} may not write to collection {collection_id}")
            return info
    raise TaxiiError(404, f"no collection {collection_id!r} (list them at the API root's collections/)")


def count_objects(request: Request, n: int) -> None:
    """Record how many STIX objects this request returned or accepted, for the access log."""
    request.state.objects = n
