"""TAXII 2.1 media types and the Accept / Content-Type negotiation of the specification (406 / 415)."""

from __future__ import annotations

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
_ACCEPTED_VERSIONS = {None, "2.1"}


def _parse_media_range(text: str) -> tuple[str, dict[str, str]]:
    """('type/subtype', {param: value}) of one media range, lower-cased, spaces ignored."""
    parts = [p.strip() for p in text.split(";")]
    params: dict[str, str] = {}
    for part in parts[1:]:
        if "=" in part:
            key, _, value = part.partition("=")
            params[key.strip().lower()] = value.strip().strip('"').lower()
    return parts[0].lower(), params


def accepts_taxii(accept_header: str | None) -> bool:
    """True when a TAXII 2.1 response satisfies the client's Accept header.

    A missing header, `*/*`, `application/*` and `application/taxii+json` with no version or version 2.1
    are satisfied; anything else (another media type or version, q=0) is not.
    """
    if accept_header is None or not accept_header.strip():
        return True
    for item in accept_header.split(","):
        media, params = _parse_media_range(item)
        if params.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if media in {"*/*", "application/*"}:
            return True
        if media == "application/taxii+json" and params.get("version") in _ACCEPTED_VERSIONS:
            return True
    return False


def is_taxii_content_type(content_type: str | None) -> bool:
    """True for a POST body we can read: TAXII 2.1 envelope (or, as a kindness, a STIX 2.1 bundle)."""
    if not content_type:
        return False
    media, params = _parse_media_range(content_type)
    if media not in {"application/taxii+json", "application/stix+json"}:
        return False
    return params.get("version") in _ACCEPTED_VERSIONS
