"""Submit, versions, provenance, status, collections: the store on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from trilateral.core.errors import AuthenticationError, PermissionDenied
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub, StatusNotFound
from trilateral.hub.types import parse_timestamp

from .conftest import T0, bundle, indicator


def test_submit_stores_good_objects_and_reports_each_bad_one(hub: Hub, people) -> None:
    good = indicator()
    wrong_version = indicator(spec_version="2.0")
    bad_pattern = indicator(pattern="[ipv4-addr:value = ")
    result = hub.submit(people["US"], bundle(good, {"type": "x"}, wrong_version, bad_pattern), source="f.json")
    assert result.stored == [(good["id"], T0)]
    failed = dict(result.failed)
    assert None in failed and "not a STIX object" in failed[None]
    assert "spec_version '2.0'" in failed[wrong_version["id"]]
    assert bad_pattern["id"] in failed and "pattern" in failed[bad_pattern["id"]].lower()
    assert result.total == 4
    [stored] = hub.query(people["US"]).records
    assert stored.object == good and stored.submitted_by == "US" and stored.tlp is Tlp.GREEN
    assert stored.date_added.microsecond == result.date_added.microsecond


def test_every_version_is_kept_and_older_modified_is_a_version(hub: Hub, people) -> None:
    v2 = indicator(modified="2026-03-02T00:00:00.000Z")
    v1 = dict(v2, modified="2026-03-01T12:00:00.000Z", name="older")
    hub.submit(people["US"], bundle(v2))
    result = hub.submit(people["US"], bundle(v1))
    assert result.stored == [(v1["id"], v1["modified"])]
    page = hub.query(people["KR"], versions="all")
    assert sorted(r.modified for r in page.records) == [v1["modified"], v2["modified"]]
    assert [r.modified for r in hub.query(people["KR"], versions="last").records] == [v2["modified"]]
    assert [r.modified for r in hub.query(people["KR"], versions="first").records] == [v1["modified"]]
    exact = hub.query(people["KR"], versions=[v1["modified"]]).records
    assert [r.object["name"] for r in exact] == ["older"]
    assert [m.version for m in hub.versions(people["KR"], "shared", v1["id"]).records] == [v2["modified"],
                                                                                          v1["modified"]]


def test_identical_resubmission_is_a_duplicate_not_an_error(hub: Hub, people) -> None:
    obj = indicator()
    hub.submit(people["US"], bundle(obj))
    again = hub.submit(people["US"], bundle(obj))
    assert again.duplicates == [(obj["id"], T0)] and not again.failed and not again.stored


def test_same_id_and_modified_with_different_content_is_an_error(hub: Hub, people) -> None:
    obj = indicator()
    hub.submit(people["US"], bundle(obj))
    changed = dict(obj, name="changed")
    result = hub.submit(people["US"], bundle(changed))
    assert [i for i, _ in result.failed] == [obj["id"]]
    assert "different content" in result.failed[0][1]
    assert [r.object["name"] for r in hub.query(people["US"]).records] == [obj["name"]]


def test_status_is_persisted_for_the_submitter_and_its_member_only(hub: Hub, people) -> None:
    result = hub.submit(people["KR-UPBIT"], bundle(indicator(), {"type": "x"}))
    for who in ("KR-UPBIT", "KR"):
        status = hub.get_status(people[who], result.status_id)
        assert (status.status, status.success_count, status.failure_count, status.pending_count) == (
            "complete", 1, 1, 0)
    for who in ("US", "JP-BITFLYER"):
        with pytest.raises(StatusNotFound):
            hub.get_status(people[who], result.status_id)


def test_member_sees_in_status_only_what_it_may_read_of_its_clients_red(hub: Hub, people) -> None:
    red = indicator(tlp=Tlp.RED, recipients=["US"])
    result = hub.submit(people["KR-UPBIT"], bundle(red, indicator()))
    assert hub.get_status(people["KR-UPBIT"], result.status_id).success_count == 2
    status = hub.get_status(people["KR"], result.status_id)
    assert status.success_count == 1 and red["id"] not in {d.id for d in status.successes}


def test_collections_and_write_rules(hub: Hub, people) -> None:
    ids = {c.id: c for c in hub.collections(people["KR-UPBIT"])}
    assert set(ids) == {"shared", "member-US", "member-KR", "member-JP"}
    assert ids["member-KR"].can_write and not ids["member-US"].can_write and ids["shared"].can_write
    hub.submit(people["KR-UPBIT"], bundle(indicator()), collection="member-KR")
    with pytest.raises(PermissionDenied):
        hub.submit(people["JP"], bundle(indicator()), collection="member-KR")
    assert len(hub.query(people["JP"], collection="member-KR").records) == 1


def test_delete_by_submitter_or_its_member_only(hub: Hub, people) -> None:
    obj = indicator()
    hub.submit(people["KR-UPBIT"], bundle(obj))
    assert hub.delete(people["US"], "shared", obj["id"]) == 0
    assert hub.delete(people["KR"], "shared", obj["id"]) == 1
    assert hub.query(people["KR"]).records == []


def test_authentication_bearer_basic_rotation_revocation(hub: Hub) -> None:
    [(us, token), *_] = hub.init()
    assert hub.authenticate(token) == us
    assert hub.authenticate(token, "us") == us
    with pytest.raises(AuthenticationError):
        hub.authenticate(token, "KR")
    with pytest.raises(AuthenticationError):
        hub.authenticate("not-a-token")
    new = hub.rotate_token("US")
    with pytest.raises(AuthenticationError):
        hub.authenticate(token)
    assert hub.authenticate(new) == us
    hub.revoke("US")
    with pytest.raises(AuthenticationError):
        hub.authenticate(new)


def test_unknown_principal_is_an_authentication_error(hub: Hub) -> None:
    with pytest.raises(AuthenticationError, match="unknown principal"):
        hub.principal("ZZ")


def test_revoked_sponsor_cuts_off_its_clients(hub: Hub) -> None:
    hub.init()
    _, token = hub.add_principal("KR-UPBIT", "Upbit", client_of="KR")
    hub.revoke("KR")
    with pytest.raises(AuthenticationError):
        hub.authenticate(token)


def test_tokens_are_stored_only_as_hashes(hub: Hub) -> None:
    import sqlalchemy as sa

    tokens = [t for _, t in hub.init()]
    with hub.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM principals")) for v in row)
    assert all(t not in dump for t in tokens) and all(len(t) >= 43 for t in tokens)


def test_date_added_has_microseconds(hub: Hub, people) -> None:
    result = hub.submit(people["US"], bundle(indicator()))
    [rec] = hub.query(people["US"]).records
    assert rec.date_added == result.date_added
    assert parse_timestamp("2026-03-01T00:00:00.1234567Z").microsecond == 123456


def test_standard_tlp_marking_definitions_in_a_bundle_are_not_stored(hub: Hub, people) -> None:
    from trilateral.core.tlp import tlp2_marking_definition

    marking = tlp2_marking_definition(Tlp.GREEN)
    result = hub.submit(people["US"], bundle(marking, indicator()))
    assert not result.failed and result.duplicates == [(marking["id"], marking["created"])]
    assert [r.object["type"] for r in hub.query(people["US"]).records] == ["indicator"]


def test_a_revoked_principal_cannot_act_by_code(hub: Hub, people) -> None:
    hub.revoke("KR-UPBIT")
    with pytest.raises(AuthenticationError, match="revoked"):
        hub.principal("KR-UPBIT")


def test_identical_resubmission_skips_revalidation(hub: Hub, people, monkeypatch) -> None:
    from trilateral.hub import stixcheck, stixfast

    obj = indicator()
    hub.submit(people["US"], bundle(obj))
    monkeypatch.setattr(stixfast, "plain_indicator", lambda o: None)
    monkeypatch.setattr(stixcheck, "full_check", lambda o: "must not be called")
    again = hub.submit(people["US"], bundle(obj, indicator()))
    assert again.duplicates == [(obj["id"], T0)] and len(again.failed) == 1


def test_sightings_are_counted_per_indicator_per_member(hub: Hub, people) -> None:
    target = indicator()
    hub.submit(people["US"], bundle(target))

    def sighting(tlp: Tlp = Tlp.GREEN) -> dict:
        import uuid

        from trilateral.core.tlp import TLP2_MARKING_IDS

        return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": T0,
                "modified": T0, "sighting_of_ref": target["id"], "object_marking_refs": [TLP2_MARKING_IDS[tlp]]}

    hub.submit(people["KR"], bundle(sighting(), sighting()))
    hub.submit(people["KR-UPBIT"], bundle(sighting()))
    hub.submit(people["JP"], bundle(sighting(Tlp.RED)))
    assert hub.sighting_counts(people["US"], target["id"]) == {"KR": 3}
    assert hub.sighting_counts(people["JP"], target["id"]) == {"KR": 3, "JP": 1}


def test_export_carries_the_definitions_its_objects_use(hub: Hub, people) -> None:
    from trilateral.core.tlp import TLP2_MARKING_IDS
    from trilateral.hub.recipients import RECIPIENTS_EXTENSION_ID

    red = indicator(tlp=Tlp.RED, recipients=["JP"])
    hub.submit(people["US"], bundle(red, indicator()))
    exported = hub.export(people["JP"])
    ids = [o["id"] for o in exported["objects"]]
    assert red["id"] in ids and RECIPIENTS_EXTENSION_ID in ids
    assert TLP2_MARKING_IDS[Tlp.RED] in ids and TLP2_MARKING_IDS[Tlp.GREEN] in ids
    assert hub.export(people["JP"], since="2999-01-01T00:00:00Z")["objects"] == []


def test_a_version_stored_after_the_pre_check_is_still_a_duplicate_or_an_error(hub: Hub, people, monkeypatch) -> None:
    """Another writer stores a version between the look-up before the transaction and the insert:
    the unique constraint refuses the optimistic insert and the batch is decided again, whole."""
    from trilateral.hub import ingest

    raced, changed_race, fresh = indicator(), indicator(), indicator()
    hub.submit(people["US"], bundle(raced, changed_race))
    monkeypatch.setattr(ingest, "known_versions", lambda *args: set())  # the pre-check saw neither
    result = hub.submit(people["US"], bundle(raced, fresh, dict(changed_race, name="changed"), fresh))
    assert result.stored == [(fresh["id"], T0)]
    assert sorted(result.duplicates) == sorted([(raced["id"], T0), (fresh["id"], T0)])
    assert [i for i, _ in result.failed] == [changed_race["id"]]
    assert hub.count_visible(people["US"]) == 3
    status = hub.get_status(people["US"], result.status_id)
    assert (status.success_count, status.failure_count, status.pending_count) == (3, 1, 0)
    assert hub.audit_verify().ok


def test_new_seqs_are_read_back_when_others_drew_numbers_meanwhile(hub: Hub, people) -> None:
    """The numbers of just-inserted rows come from max(seq) when it grew by exactly the row count,
    and are read back from the table otherwise; both give each row its own seq."""
    import sqlalchemy as sa

    from trilateral.hub import ingest
    from trilateral.hub.database import reading
    from trilateral.hub.schema import objects

    objs = [indicator(str(n)) for n in range(3)]
    hub.submit(people["US"], bundle(*objs))
    with reading(hub.engine) as conn:
        rows = conn.execute(sa.select(objects.c.seq, objects.c.stix_id, objects.c.modified_us)
                            .order_by(objects.c.seq)).all()
        inserted = [ingest.Prepared(0, r.stix_id, "indicator", T0, r.modified_us, Tlp.GREEN, frozenset(), "", "", None)
                    for r in rows]
        first = rows[0].seq
        assert list(ingest._new_seqs(conn, "shared", first - 1, inserted)) == [r.seq for r in rows]
        # as if another session had drawn the number before ours: read back, still right
        assert list(ingest._new_seqs(conn, "shared", first - 2, inserted)) == [r.seq for r in rows]
        assert list(ingest._new_seqs(conn, "shared", first, inserted[1:])) == [r.seq for r in rows[1:]]
