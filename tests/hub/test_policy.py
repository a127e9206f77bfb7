"""DESIGN.md §3, rule by rule, on the pure function; then SQL filtering == may_read on random data."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.tlp import TLP1_MARKING_IDS, TLP2_MARKING_IDS, Tlp, effective_tlp
from trilateral.hub import Hub
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.recipients import RECIPIENTS_PROPERTY, recipients_of, with_recipients

from .conftest import bundle, indicator

US = Principal("US", PrincipalKind.MEMBER)
KR = Principal("KR", PrincipalKind.MEMBER)
US_BANK = Principal("US-BANK", PrincipalKind.CLIENT, "US")
KR_UPBIT = Principal("KR-UPBIT", PrincipalKind.CLIENT, "KR")
KR_OTHER = Principal("KR-OTHER", PrincipalKind.CLIENT, "KR")
EVERYONE = (US, KR, US_BANK, KR_UPBIT, KR_OTHER)


def meta(tlp: Tlp, by: Principal, to: tuple[str, ...] = ()) -> ObjectMeta:
    return ObjectMeta(tlp, by.code, by.member_code, frozenset(to))


def readers(m: ObjectMeta) -> set[str]:
    return {p.code for p in EVERYONE if may_read(p, m)}


def test_clear_and_green_are_for_every_member_and_client() -> None:
    for tlp in (Tlp.CLEAR, Tlp.GREEN):
        assert readers(meta(tlp, US)) == {p.code for p in EVERYONE}


def test_amber_from_us_is_hidden_from_clients_of_kr() -> None:
    assert readers(meta(Tlp.AMBER, US)) == {"US", "KR", "US-BANK"}


def test_amber_addressed_to_a_client_reaches_that_client_only() -> None:
    assert readers(meta(Tlp.AMBER, US, ("KR-UPBIT",))) == {"US", "KR", "US-BANK", "KR-UPBIT"}


def test_amber_submitted_by_a_client_reaches_its_sponsor_s_other_clients() -> None:
    assert readers(meta(Tlp.AMBER, KR_UPBIT)) == {"US", "KR", "KR-UPBIT", "KR-OTHER"}


def test_amber_strict_is_for_members_only_never_clients() -> None:
    assert readers(meta(Tlp.AMBER_STRICT, US, ("KR-UPBIT",))) == {"US", "KR"}


def test_a_client_always_reads_its_own_amber_strict_object() -> None:
    assert readers(meta(Tlp.AMBER_STRICT, KR_UPBIT)) == {"US", "KR", "KR-UPBIT"}


def test_red_is_for_named_recipients_and_the_submitter_only() -> None:
    assert readers(meta(Tlp.RED, US)) == {"US"}
    assert readers(meta(Tlp.RED, US, ("KR-UPBIT",))) == {"US", "KR-UPBIT"}
    assert readers(meta(Tlp.RED, KR_UPBIT, ("US",))) == {"KR-UPBIT", "US"}  # not its sponsor KR


def test_no_marking_means_amber_strict_and_several_mean_the_most_restrictive() -> None:
    assert effective_tlp(None) is Tlp.AMBER_STRICT and effective_tlp([]) is Tlp.AMBER_STRICT
    assert effective_tlp([TLP2_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.RED]]) is Tlp.RED
    assert effective_tlp([next(iter(TLP1_MARKING_IDS))]) is Tlp.CLEAR  # TLP 1.0 WHITE


def test_recipients_come_from_the_extension_or_the_top_level_property() -> None:
    obj = with_recipients(indicator(), ["kr-upbit"])
    assert recipients_of(obj) == {"KR-UPBIT"}
    assert recipients_of(dict(indicator(), **{RECIPIENTS_PROPERTY: ["JP"]})) == {"JP"}
    with pytest.raises(ValueError):
        recipients_of(dict(indicator(), **{RECIPIENTS_PROPERTY: "JP"}))


def test_unmarked_object_is_hidden_from_clients_in_the_store(hub: Hub, people) -> None:
    hub.submit(people["US"], bundle(indicator(tlp=None)))
    assert len(hub.query(people["KR"]).records) == 1
    assert hub.query(people["US-BANK"]).records == []


# --- random data: every read path agrees with may_read ------------------------------------------
CODES = ["US", "KR", "JP", "US-BANK", "KR-UPBIT", "JP-BITFLYER"]
version_st = st.tuples(st.sampled_from([None, *Tlp]), st.lists(st.sampled_from(CODES), max_size=2, unique=True))
object_st = st.tuples(st.sampled_from(CODES), st.lists(version_st, min_size=1, max_size=3))


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(objects=st.lists(object_st, min_size=1, max_size=5))
def test_no_read_path_reveals_a_forbidden_version(hub: Hub, people, objects) -> None:
    value = f"203.0.113.{uuid.uuid4().int % 250}"
    expected: dict[str, set[tuple[str, str]]] = {c: set() for c in CODES}
    metas: dict[tuple[str, str], ObjectMeta] = {}
    status_ids = []
    all_ids = []
    for submitter, versions in objects:
        stix_id = f"indicator--{uuid.uuid4()}"
        all_ids.append(stix_id)
        payload = []
        for n, (tlp, recipients) in enumerate(versions):
            modified = f"2026-03-0{n + 1}T00:00:00.000Z"
            payload.append(indicator(value, tlp, stix_id=stix_id, modified=modified, recipients=recipients))
            m = ObjectMeta(Tlp.AMBER_STRICT if tlp is None else tlp, submitter,
                           people[submitter].member_code, frozenset(recipients))
            metas[(stix_id, modified)] = m
            for code in CODES:
                if may_read(people[code], m):
                    expected[code].add((stix_id, modified))
        status_ids.append((submitter, hub.submit(people[submitter], bundle(*payload)).status_id))
    for code in CODES:  # each principal sights every object, GREEN: counts must still hide hidden ones
        hub.submit(people[code], bundle(*[{
            "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": "2026-03-05T00:00:00.000Z", "modified": "2026-03-05T00:00:00.000Z",
            "sighting_of_ref": stix_id, "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]} for stix_id in all_ids]))
    for code in CODES:
        p = people[code]
        seen = {(r.id, r.modified) for r in hub.query(p, ids=all_ids, versions="all").records}
        assert seen == expected[code]
        paged, cursor = set(), None
        while True:
            page = hub.query(p, ids=all_ids, versions="all", limit=1, cursor=cursor)
            paged |= {(r.id, r.modified) for r in page.records}
            if not page.more:
                assert page.next_cursor is None
                break
            cursor = page.next_cursor
        assert paged == expected[code]
        last = {(r.id, r.modified) for r in hub.query(p, ids=all_ids, versions="last").records}
        assert last == {max(v for v in expected[code] if v[0] == i) for i in {i for i, _ in expected[code]}}
        manifest = {(m.id, m.version) for m in hub.manifest(p, ids=all_ids, versions="all").records}
        assert manifest == expected[code]
        for stix_id in all_ids:
            versions = {(stix_id, m.version) for m in hub.versions(p, "shared", stix_id).records}
            assert versions == {v for v in expected[code] if v[0] == stix_id}
            counts = hub.sighting_counts(p, stix_id)
            if not any(v[0] == stix_id for v in expected[code]):
                assert counts == {}
            else:
                assert sum(counts.values()) == len(CODES)
        exported = {(o["id"], o.get("modified")) for o in hub.export(p)["objects"] if o["id"] in all_ids}
        assert exported <= expected[code]
        for corr in hub.correlations(p):
            for stix_id in corr.object_ids:
                if stix_id in all_ids:
                    assert any(v[0] == stix_id for v in expected[code])
        for submitter, status_id in status_ids:
            if people[submitter].member_code != p.code and submitter != code:
                continue
            status = hub.get_status(p, status_id)
            for detail in status.successes:
                assert submitter == code or (detail.id, detail.version) in expected[code]


def test_correlation_is_visible_only_to_who_may_read_both(hub: Hub, people) -> None:
    us_obj = indicator("192.0.2.44", Tlp.AMBER)
    kr_obj = indicator("192.0.2.44", Tlp.RED, recipients=["JP"])
    hub.submit(people["US"], bundle(us_obj))
    hub.submit(people["KR"], bundle(kr_obj))
    for code, visible in (("US", False), ("KR", True), ("JP", True), ("US-BANK", False)):
        pairs = {c.object_ids for c in hub.correlations(people[code])}
        assert ((us_obj["id"], kr_obj["id"]) in pairs) is visible, code


def test_same_member_objects_do_not_correlate(hub: Hub, people) -> None:
    hub.submit(people["KR"], bundle(indicator("192.0.2.45")))
    hub.submit(people["KR-UPBIT"], bundle(indicator("192.0.2.45")))
    assert hub.correlations(people["KR"]) == []
