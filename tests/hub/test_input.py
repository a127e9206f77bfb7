"""Every bad-input path gets a clear error naming the file or object, and loses nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from trilateral.core.errors import InputError
from trilateral.hub import Hub, ingest

from .conftest import bundle, indicator


def test_malformed_json_names_the_source_and_position(hub: Hub, people) -> None:
    with pytest.raises(InputError, match=r"feed\.json: malformed JSON: .*line 1 column"):
        hub.submit(people["US"], b'{"type": "bundle", "objects": [', source="feed.json")


def test_json_that_is_not_stix_is_refused(hub: Hub, people) -> None:
    with pytest.raises(InputError, match="x.json: not STIX"):
        hub.submit(people["US"], {"hello": "world"}, source="x.json")
    with pytest.raises(InputError, match="not STIX"):
        hub.submit(people["US"], "42")


def test_stix_2_0_bundle_is_refused_as_a_whole(hub: Hub, people) -> None:
    with pytest.raises(InputError, match="spec_version '2.0'"):
        hub.submit(people["US"], dict(bundle(indicator()), spec_version="2.0"), source="old.json")


def test_object_without_spec_version_is_reported(hub: Hub, people) -> None:
    obj = indicator()
    del obj["spec_version"]
    result = hub.submit(people["US"], bundle(obj))
    assert result.failed[0][0] == obj["id"] and "spec_version" in result.failed[0][1]


def test_oversized_bundle_is_refused_with_the_limit_named(database_url, home, monkeypatch, people) -> None:
    monkeypatch.setenv("TRILATERAL_MAX_BUNDLE_BYTES", "2000")
    monkeypatch.setenv("TRILATERAL_MAX_BUNDLE_OBJECTS", "2")
    with Hub.open() as small:
        us = small.principal("US")
        with pytest.raises(InputError, match="big.json: .* over the limit of 2000 bytes"):
            small.submit(us, json.dumps(bundle(*[indicator() for _ in range(5)])), source="big.json")
        with pytest.raises(InputError, match="over the limit of 2000 bytes"):
            small.submit(us, bundle(*[indicator() for _ in range(5)]))
        with pytest.raises(InputError, match="3 objects is over the limit of 2"):
            small.submit(us, bundle(indicator(), indicator(), indicator()))
        # the size of the text a parsed payload came from (what the TAXII layer passes) is what counts
        with pytest.raises(InputError, match="2001 bytes is over the limit of 2000 bytes"):
            small.submit(us, bundle(indicator()), json_size=2001)
        assert small.query(us).records == []
        assert len(small.submit(us, bundle(indicator()), json_size=2000).stored) == 1


def test_invalid_objects_inside_a_good_bundle_are_named(hub: Hub, people) -> None:
    bad_ref = indicator(created_by_ref="not-an-id")
    result = hub.submit(people["US"], bundle(indicator(), bad_ref, "text", {"type": "indicator"}))
    reasons = dict(result.failed)
    assert len(result.stored) == 1 and len(result.failed) == 3
    assert "created_by_ref" in reasons[bad_ref["id"]]
    assert any("object 2: not a JSON object" in r for _, r in result.failed)
    assert any("object 3: not a STIX object" in r for _, r in result.failed)


def test_custom_trilateral_objects_and_properties_are_accepted(hub: Hub, people) -> None:
    action = {"type": "x-trilateral-action", "spec_version": "2.1",
              "id": "x-trilateral-action--0f7c4c7e-8a5e-4b8e-9d59-1c1f6f1a9a01",
              "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
              "title": "freeze", "owner": "KR", "status": "open", "x_trilateral_quarter": "2026Q1"}
    result = hub.submit(people["KR"], bundle(action, indicator(x_trilateral_score=3)))
    assert not result.failed and len(result.stored) == 2


def test_a_crash_mid_import_leaves_no_half_stored_batch(hub: Hub, people, monkeypatch) -> None:
    objects = [indicator(f"198.51.100.{i}") for i in range(7)]
    monkeypatch.setattr(ingest, "BATCH_SIZE", 3)
    real_correlate = ingest.correlate
    calls = {"n": 0}

    def crash_in_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_correlate(*args, **kwargs)

    monkeypatch.setattr(ingest, "correlate", crash_in_second_batch)
    with pytest.raises(RuntimeError):
        hub.submit(people["US"], bundle(*objects))
    stored = {r.id for r in hub.query(people["US"]).records}
    assert stored == {o["id"] for o in objects[:3]}
    assert hub.audit_verify().ok
    monkeypatch.setattr(ingest, "correlate", real_correlate)
    again = hub.submit(people["US"], bundle(*objects))  # resumable: the rest goes in, the first are duplicates
    assert len(again.duplicates) == 3 and len(again.stored) == 4


def test_submit_result_is_a_plain_record() -> None:
    assert {f.name for f in dataclasses.fields(ingest.SubmitResult)} >= {
        "status_id", "date_added", "stored", "duplicates", "failed", "total"}
