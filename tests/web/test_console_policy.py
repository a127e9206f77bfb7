"""Property check: on the same random data as the hub's policy tests, every principal sees through the
console (feed JSON, feed HTML, object pages, object JSON) exactly the versions `may_read` allows."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hub.conftest import bundle, indicator
from tests.hub.test_policy import CODES, object_st
from tests.web.conftest import sign_in
from trilateral.core.tlp import Tlp
from trilateral.hub.policy import ObjectMeta, may_read


@pytest.mark.slow
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(objects=st.lists(object_st, min_size=1, max_size=5))
def test_every_console_read_matches_may_read(app_client, console_hub, objects) -> None:
    hub, tokens = console_hub
    people = {c: hub.principal(c) for c in CODES}
    value = f"203.0.113.{uuid.uuid4().int % 250}"
    expected: dict[str, dict[str, set[str]]] = {c: {} for c in CODES}
    all_ids = []
    for submitter, versions in objects:
        stix_id = f"indicator--{uuid.uuid4()}"
        all_ids.append(stix_id)
        payload = []
        for n, (tlp, recipients) in enumerate(versions):
            modified = f"2026-03-0{n + 1}T00:00:00.000Z"
            payload.append(indicator(value, tlp, stix_id=stix_id, modified=modified, recipients=recipients))
            m = ObjectMeta(Tlp.AMBER_STRICT if tlp is None else tlp, submitter, people[submitter].member_code,
                           frozenset(recipients))
            for code in CODES:
                if may_read(people[code], m):
                    expected[code].setdefault(stix_id, set()).add(modified)
        assert not hub.submit(people[submitter], bundle(*payload)).failed
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
