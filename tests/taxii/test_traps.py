"""Traps other TAXII servers fell into, driven with taxii2-client."""

from __future__ import annotations

import pytest
import requests
from taxii2client.v21 import as_pages

from tests.taxii.conftest import CLIENT_OF_KR, TaxiiServer
from tests.taxii.stix_factory import envelope, indicator
from trilateral.core.tlp import Tlp


def capture_headers(collection) -> list[requests.Response]:
    responses: list[requests.Response] = []
    collection._conn.session.hooks["response"].append(lambda r, *a, **k: responses.append(r))
    return responses


def test_more_than_limit_objects_with_one_date_added_page_exactly_once(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    objects = [indicator(600 + n) for n in range(25)]
    us.add_objects(envelope(*objects))  # one request: the hub may give them all one date_added
    ids = ",".join(o.id for o in objects)
    expected = sorted(o.id for o in objects)

    pages = list(as_pages(us.get_objects, per_request=10, id=ids))
    assert [len(p["objects"]) for p in pages] == [10, 10, 5]
    by_next = [o["id"] for page in pages for o in page["objects"]]
    assert sorted(by_next) == expected

    responses = capture_headers(us)
    by_added_after: list[str] = []
    page = us.get_objects(limit=10, id=ids)
    while page.get("objects"):
        assert len(page["objects"]) <= 10
        by_added_after.extend(o["id"] for o in page["objects"])
        last = responses[-1].headers["X-TAXII-Date-Added-Last"]
        page = us.get_objects(limit=10, id=ids, added_after=last)
    assert sorted(by_added_after) == expected

    manifest = [m for p in as_pages(us.get_manifest, per_request=7, id=ids) for m in p["objects"]]
    assert sorted(m["id"] for m in manifest) == expected


def test_next_token_replayed_by_another_principal_does_not_widen_its_view(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    objects = [indicator(700 + n, Tlp.AMBER_STRICT if n % 2 else Tlp.GREEN) for n in range(8)]
    for obj in objects:
        us.add_objects(envelope(obj))
    ids = ",".join(o.id for o in objects)
    first_page = us.get_objects(limit=2, id=ids)
    assert first_page["more"] and first_page["next"]

    client = taxii_server.collection(CLIENT_OF_KR)
    with pytest.raises(requests.HTTPError) as exc:
        client.get_objects(limit=2, id=ids, next=first_page["next"])
    assert exc.value.response.status_code == 400
    assert "objects" not in exc.value.response.json()

    # the client's own paging shows only the GREEN half, over several pages
    seen = [o["id"] for p in as_pages(client.get_objects, per_request=2, id=ids) for o in p["objects"]]
    assert sorted(seen) == sorted(o.id for o in objects[0::2])

    # the same principal may not reuse a token with other filters either
    with pytest.raises(requests.HTTPError) as exc:
        us.get_objects(limit=2, id=objects[0].id, next=first_page["next"])
    assert exc.value.response.status_code == 400


def test_paging_headers_never_reveal_hidden_objects(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    green, red = indicator(800, Tlp.GREEN), indicator(801, Tlp.RED, recipients=["JP"])
    us.add_objects(envelope(green))
    us.add_objects(envelope(red))
    client = taxii_server.collection(CLIENT_OF_KR)
    responses = capture_headers(client)
    page = client.get_objects(id=f"{green.id},{red.id}")
    assert [o["id"] for o in page["objects"]] == [green.id]
    us_responses = capture_headers(us)
    us.get_objects(id=green.id)
    green_added = us_responses[-1].headers["X-TAXII-Date-Added-Last"]
    assert responses[-1].headers["X-TAXII-Date-Added-Last"] == green_added
    empty = client.get_objects(id=red.id)
    assert not empty.get("objects") and "X-TAXII-Date-Added-Last" not in responses[-1].headers
