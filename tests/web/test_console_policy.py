"""Property check: on the same random data as the hub's policy tests, every principal sees through the
console (feed JSON, feed HTML, object pages, object JSON) exactly the versions `may_read` allows."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hub.test_policy import CODES, object_st
from tests.web.conftest import sign_in, store_drawn_objects


@pytest.mark.slow
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(objects=st.lists(object_st, min_size=1, max_size=5))
def test_every_console_read_matches_may_read(app_client, console_hub, objects) -> None:
    hub, tokens = console_hub
    value = f"203.0.113.{uuid.uuid4().int % 250}"
    all_ids, expected = store_drawn_objects(hub, CODES, objects, value)
    for code in CODES:
        sign_in(app_client, code, tokens[code])
        want = expected[code]
        feed = app_client.get("/api/console/feed", params={"since": "2000-01-01", "collection": "shared"}).json()
        seen = {i["id"]: i["version"] for i in feed["items"] if i["id"] in all_ids}
        assert set(seen) == set(want), code
        assert all(seen[i] == max(want[i]) for i in seen), code  # the newest version it may read
        html = app_client.get("/intel", params={"since": "2000-01-01"}).text
        assert set(re.findall(r"/intel/object/(indicator--[0-9a-f-]+)", html)) & set(all_ids) == set(want), code
        for stix_id in all_ids:
            page = app_client.get(f"/intel/object/{stix_id}")
            data = app_client.get(f"/api/console/object/{stix_id}")
            if stix_id in want:
                assert page.status_code == 200 and data.status_code == 200
                assert {v["version"] for v in data.json()["versions"]} == want[stix_id]
            else:  # hidden and missing look the same
                assert page.status_code == 404 and data.status_code == 404
                assert value not in page.text
                assert app_client.get(f"/api/console/object/{stix_id}/sightings").json() == {}
