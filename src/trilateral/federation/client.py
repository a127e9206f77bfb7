"""TAXII 2.1 client for sync (I/O edge), on httpx.

Why httpx and not taxii2-client: the cursor needs the `X-TAXII-Date-Added-Last` response header,
which taxii2-client's `get_objects` does not hand back, and a peer's provenance list rides in the
envelope next to `objects`. httpx gives both, keeps one pooled connection per peer, and has timeouts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from trilateral.core.errors import TrilateralError
from trilateral.federation.core import PROVENANCE_KEY

TAXII_ACCEPT = "application/taxii+json;version=2.1"


class PeerError(TrilateralError):
    """A peer could not be read (unreachable, refused our token, answered something not TAXII)."""


@dataclass(frozen=True)
class PeerCollection:
    id: str
    url: str


@dataclass(frozen=True)
class Page:
    objects: list[dict[str, Any]]
    provenance: list[Any]
    more: bool
    next_token: str | None
    date_added_last: str | None
    raw: bytes = b""  # the envelope as received (what a validation worker reads)


class TaxiiPeer:
    """One peer node (or any TAXII 2.1 server) read with HTTP Basic: our node code and our token."""

    def __init__(self, discovery_url: str, user: str, token: str | None, timeout: float | None = None) -> None:
        if timeout is None:  # a slow server (medallion pages in quadratic time) may need more
            timeout = float(os.environ.get("TRILATERAL_SYNC_TIMEOUT", "120"))
        self.discovery_url = discovery_url if discovery_url.endswith("/") else discovery_url + "/"
        auth = httpx.BasicAuth(user, token) if token else None
        self.http = httpx.Client(auth=auth, timeout=timeout, headers={"Accept": TAXII_ACCEPT},
                                 follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TaxiiPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = self.http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise PeerError(f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise PeerError(f"{url}: HTTP {response.status_code}: {_taxii_reason(response)}")
        return response

    def _json(self, url: str, params: dict[str, str] | None = None) -> tuple[Any, httpx.Response]:
        response = self._get(url, params)
        try:
            return orjson.loads(response.content), response
        except orjson.JSONDecodeError:
            raise PeerError(f"{url}: the answer is not JSON") from None

    def api_root(self) -> str:
        discovery, _ = self._json(self.discovery_url)
        root = discovery.get("default") or next(iter(discovery.get("api_roots") or []), None)
        if not isinstance(root, str):
            raise PeerError(f"{self.discovery_url}: discovery lists no API root")
        return urljoin(self.discovery_url, root if root.endswith("/") else root + "/")

    def collections(self) -> list[PeerCollection]:
        root = self.api_root()
        body, _ = self._json(root + "collections/")
        out = []
        for c in body.get("collections") or []:
            if isinstance(c, dict) and c.get("can_read") and isinstance(c.get("id"), str):
                out.append(PeerCollection(c["id"], f"{root}collections/{c['id']}/"))
        return out

    def page(self, collection: PeerCollection, params: dict[str, str]) -> Page:
        """One page of objects; `InvalidNext` when the peer refuses our `next` token (400)."""
        url = collection.url + "objects/"
        try:
            response = self.http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise PeerError(f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (400, 404, 410) and "next" in params:  # expired or foreign token
            raise InvalidNext(f"{url}: {_taxii_reason(response)}")
        if response.status_code != 200:
            raise PeerError(f"{url}: HTTP {response.status_code}: {_taxii_reason(response)}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PeerError(f"{url}: the answer is not JSON") from None
        objects = body.get("objects") or []
        provenance = body.get(PROVENANCE_KEY) or []
        if not isinstance(objects, list):
            raise PeerError(f"{url}: 'objects' is not a list")
        if not isinstance(provenance, list) or (provenance and len(provenance) != len(objects)):
            provenance = []
        nxt = body.get("next")
        return Page(objects, provenance, bool(body.get("more")), nxt if isinstance(nxt, str) else None,
                    response.headers.get("X-TAXII-Date-Added-Last"), response.content)


class InvalidNext(PeerError):
    """The peer no longer accepts a `next` token we saved."""


def _taxii_reason(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
        return str(body.get("description") or body.get("title") or body)[:300]
    except (orjson.JSONDecodeError, AttributeError):
        return response.text[:300]
