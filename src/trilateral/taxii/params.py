"""TAXII 2.1 query parameters: limit, next, added_after and the match[...] filters, validated once.

Bad values are a 400 with a message naming the parameter. `next` is passed to the hub untouched: its
cursors are signed and bound to the principal and the filters, and the policy is re-applied for
whoever presents one, so a replayed token can never widen what the caller sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import QueryParams

from trilateral.taxii.errors import TaxiiError

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
MAX_FILTER_VALUES = 10_000

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,248}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_STIX_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}$")
_SPEC_VERSIONS = {"2.0", "2.1"}
_VERSION_WORDS = {"first", "last", "all"}
# x_trilateral_skip_origins: a federation node reading a peer leaves out what the peer received from
# nodes it reads directly (docs/federation.md); an x_ parameter other TAXII servers ignore
SKIP_ORIGINS = "x_trilateral_skip_origins"
_KNOWN = {"limit", "next", "added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]",
          SKIP_ORIGINS}
_ORIGIN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,63}$")
MAX_SKIP_ORIGINS = 64


@dataclass(frozen=True)
class Filters:
    """The filters of one objects / manifest / versions / object request."""

    added_after: datetime | None = None
    ids: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] | None = None
    limit: int = DEFAULT_PAGE_SIZE
    next_token: str | None = None
    skip_origins: tuple[str, ...] = ()


def is_stix_id(text: str) -> bool:
    return bool(_STIX_ID.match(text))


def parse_timestamp(text: str, name: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (sub-microsecond digits are truncated)."""
    m = _TIMESTAMP.match(text.strip())
    if not m:
        raise TaxiiError(400, f"{name}={text!r} is not an RFC 3339 timestamp such as 2026-01-31T12:00:00.000Z")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                         int((frac or "0").ljust(6, "0")[:6]),
                         tzinfo=UTC if zone in {"Z", "z"} else datetime.strptime(zone, "%z").tzinfo)
    except ValueError as exc:
        raise TaxiiError(400, f"{name}={text!r} is not a valid date and time: {exc}") from None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise TaxiiError(400, f"{name}={text!r} is outside the years 1-9999 once converted to UTC") from None


def _split(params: QueryParams, name: str) -> list[str] | None:
    values = params.getlist(name)
    if not values:
        return None
    items = [v.strip() for value in values for v in value.split(",")]
    if any(not v for v in items):
        raise TaxiiError(400, f"{name} has an empty value")
    if len(items) > MAX_FILTER_VALUES:
        raise TaxiiError(400, f"{name} has {len(items)} values; at most {MAX_FILTER_VALUES} are allowed")
    return items


def parse_filters(params: QueryParams, *, allow: frozenset[str] | None = None,
                  default_versions: tuple[str, ...] = ("last",)) -> Filters:
    """Validate the query string of a paged endpoint. `allow` limits which filters it takes."""
    for name in params:
        if name not in _KNOWN:
            if name.startswith("match["):
                raise TaxiiError(400, f"unsupported filter {name} (use match[id], match[type], "
                                      "match[version] or match[spec_version])")
            continue
        if allow is not None and name not in allow:
            raise TaxiiError(400, f"filter {name} is not supported on this endpoint")
        if len(params.getlist(name)) > 1 and name in {"limit", "next", "added_after"}:
            raise TaxiiError(400, f"{name} given more than once")

    limit = DEFAULT_PAGE_SIZE
    if "limit" in params:
        text = params["limit"].strip()
        # ASCII digits only ("²".isdigit() is true, int() refuses it); a huge number is just the maximum
        digits = text.lstrip("0")
        if not (text.isascii() and text.isdigit()) or not digits:
            raise TaxiiError(400, f"limit={params['limit']!r} must be a positive integer")
        limit = min(int(digits), MAX_PAGE_SIZE) if len(digits) <= 18 else MAX_PAGE_SIZE

    added_after = parse_timestamp(params["added_after"], "added_after") if "added_after" in params else None

    ids = _split(params, "match[id]")
    for value in ids or ():
        if not _STIX_ID.match(value):
            raise TaxiiError(400, f"match[id]={value!r} is not a STIX identifier (type--uuid)")
    types = _split(params, "match[type]")
    for value in types or ():
        if not _STIX_TYPE.match(value):
            raise TaxiiError(400, f"match[type]={value!r} is not a STIX type name")
    spec_versions = _split(params, "match[spec_version]")
    for value in spec_versions or ():
        if value not in _SPEC_VERSIONS:
            raise TaxiiError(400, f"match[spec_version]={value!r} must be 2.0 or 2.1")
    versions = _split(params, "match[version]")
    for value in versions or ():
        if value not in _VERSION_WORDS:
            parse_timestamp(value, "match[version]")

    skip = _split(params, SKIP_ORIGINS) or []
    if len(skip) > MAX_SKIP_ORIGINS:
        raise TaxiiError(400, f"{SKIP_ORIGINS} names {len(skip)} nodes; at most {MAX_SKIP_ORIGINS}")
    for value in skip:
        if not _ORIGIN.match(value):
            raise TaxiiError(400, f"{SKIP_ORIGINS}={value[:70]!r} is not a member code (upper-case letters, "
                                  "digits, '-' or '_')")
    next_token = params.get("next")
    if next_token is not None and not next_token.strip():
        next_token = None
    return Filters(
        added_after=added_after,
        ids=tuple(dict.fromkeys(ids)) if ids else None,
        types=tuple(dict.fromkeys(types)) if types else None,
        versions=tuple(dict.fromkeys(versions)) if versions else default_versions,
        spec_versions=tuple(dict.fromkeys(spec_versions)) if spec_versions else None,
        limit=limit,
        next_token=next_token,
        skip_origins=tuple(sorted(set(skip))),
    )
