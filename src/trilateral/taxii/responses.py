"""Fast TAXII JSON responses: orjson, and envelopes spliced from each object's JSON bytes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from trilateral.taxii.media import TAXII_MEDIA_TYPE


def taxii_json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=dict(headers or {}),
                    media_type=TAXII_MEDIA_TYPE)


def format_timestamp(value: datetime | str) -> str:
    """RFC 3339 UTC with microseconds, as TAXII date_added values and headers carry them."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_bytes(record: Any) -> bytes:
    """The JSON bytes of a stored object, reusing the stored text when the hub hands it over."""
    raw = getattr(record, "raw_json", None) or getattr(record, "json_text", None)
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode()
    return orjson.dumps(record.object)


def envelope_bytes(items: Iterable[bytes], key: str, more: bool, next_token: str | None,
                   extra: Mapping[str, Any] | None = None) -> bytes:
    """`{"more": .., "next": .., key: [..]}` without re-serialising the items; `extra`: more members."""
    head = b'{"more":' + (b"true" if more else b"false")
    if more and next_token:
        head += b',"next":' + orjson.dumps(next_token)
    for name, value in (extra or {}).items():
        head += b',' + orjson.dumps(name) + b':' + orjson.dumps(value)
    parts = list(items)
    if not parts:
        return head + b"}"
    return head + b',"' + key.encode() + b'":[' + b",".join(parts) + b"]}"


def paged_response(body: bytes, first: str | None, last: str | None) -> Response:
    headers = {}
    if first is not None and last is not None:
        headers = {"X-TAXII-Date-Added-First": first, "X-TAXII-Date-Added-Last": last}
    return Response(body, status_code=200, headers=headers, media_type=TAXII_MEDIA_TYPE)


def now_timestamp() -> str:
    return format_timestamp(datetime.now(UTC))
