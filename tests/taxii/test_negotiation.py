"""Media-type negotiation and filter parsing, without a server."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from trilateral.taxii.media import accepts_taxii, is_taxii_content_type
from trilateral.taxii.params import parse_filters


@pytest.mark.parametrize(("accept", "ok"), [
    (None, True), ("*/*", True), ("application/*", True), ("application/taxii+json", True),
    ("application/taxii+json;version=2.1", True), ("application/taxii+json; version=2.1", True),
    ("text/html, application/taxii+json;version=2.1;q=0.9", True),
    ("application/json", False), ("application/taxii+json;version=2.0", False),
    ("application/taxii+json;version=2.1;q=0", False), ("application/stix+json;version=2.1", False),
])
def test_accept_header(accept: str | None, ok: bool) -> None:
    assert accepts_taxii(accept) is ok


@pytest.mark.parametrize(("content_type", "ok"), [
    ("application/taxii+json;version=2.1", True), ("application/taxii+json", True),
    ("application/stix+json;version=2.1", True), ("application/json", False),
    ("application/taxii+json;version=2.0", False), (None, False), ("", False),
])
def test_post_content_type(content_type: str | None, ok: bool) -> None:
    assert is_taxii_content_type(content_type) is ok


def test_filters_are_parsed_and_deduplicated() -> None:
    ident = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    f = parse_filters(QueryParams(f"limit=50000&match[id]={ident},{ident}&match[type]=indicator"
                                  "&match[version]=first,all&added_after=2026-01-01T00:00:00.5%2B02:00"))
    assert f.limit == 10_000 and f.ids == (ident,) and f.types == ("indicator",)
    assert f.versions == ("first", "all")
    assert f.added_after is not None and f.added_after.isoformat() == "2025-12-31T22:00:00.500000+00:00"
