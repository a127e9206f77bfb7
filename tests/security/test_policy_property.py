"""Property test (issue 14): for random principals, objects, versions, markings (case variants, custom
and granular markings) and submit orders, no read path returns, counts or confirms anything
`may_read` denies, and nobody but an id's owner changes what others read.

The expected view is computed here from the submissions alone (a model of ownership and markings)
and `may_read`, then compared with every read path of a real hub: objects (paged, all versions and
latest), by id, versions, manifest, status, export, screening's hub look-up (the console reads
through the same hub.query), and each submitter's own answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilateral.core.principal import Principal
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub import Hub
from trilateral.hub.errors import NotFound
from trilateral.hub.lookups import indicators_naming
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.recipients import with_recipients
from trilateral.hub.types import parse_timestamp, to_micros

CODES = ("US", "KR", "JP", "KR-C", "JP-C")
TIMES = ("2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z")
_NS = uuid.UUID("0b5e7c1e-7c44-4f0a-9a43-36b3c7d3a3b1")


@dataclass(frozen=True)
class Spec:
    submitter: str
    sco: bool
    slot: int
    time: int
    tlp: Tlp | None
    upper: bool
    custom: bool
    granular: tuple[Tlp, str] | None
    recipients: tuple[str, ...]
    variant: int


specs = st.builds(
    Spec, submitter=st.sampled_from(CODES), sco=st.booleans(), slot=st.integers(0, 2), time=st.integers(0, 2),
    tlp=st.one_of(st.none(), st.sampled_from(list(Tlp))), upper=st.booleans(),
    custom=st.integers(0, 7).map(lambda n: n == 0),
    granular=st.one_of(st.none(), st.tuples(st.sampled_from(list(Tlp)), st.sampled_from(["description", "pattern"]))),
    recipients=st.lists(st.sampled_from(CODES), max_size=2, unique=True).map(tuple), variant=st.integers(0, 1))


def _ref(level: Tlp, upper: bool) -> str:
    ref = TLP2_MARKING_IDS[level]
    return ref.split("--")[0] + "--" + ref.split("--")[1].upper() if upper else ref


def address(nonce: str, slot: int) -> str:
    """The address an example's indicator in `slot` names (distinct per example, for screening)."""
    return f"10.{int(nonce[:2], 16)}.{int(nonce[2:4], 16)}.{slot}"


def build(spec: Spec, nonce: str) -> tuple[list[dict], Tlp]:
    """The objects of one submission and the level the model expects it read at."""
    marks = [_ref(spec.tlp, spec.upper)] if spec.tlp is not None else []
    extra: list[dict] = []
    if spec.custom:
        custom_id = f"marking-definition--{uuid.uuid5(_NS, nonce + 'custom')}"
        extra.append({"type": "marking-definition", "spec_version": "2.1", "id": custom_id,
                      "created": TIMES[0], "name": "TLP:RED", "definition_type": "statement",
                      "definition": {"statement": "TLP:RED"}})
        marks.append(custom_id)
    if spec.sco:
        obj = {"type": "ipv4-addr", "spec_version": "2.1", "value": f"10.{spec.slot}.0.{spec.variant}",
               "id": f"ipv4-addr--{uuid.uuid5(_NS, nonce + str(spec.slot))}"}
    else:
        obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(_NS, nonce + str(spec.slot))}",
               "created": TIMES[0], "modified": TIMES[spec.time], "name": f"v{spec.variant}",
               "description": f"secret {spec.variant}", "pattern": f"[ipv4-addr:value = '{address(nonce, spec.slot)}']",
               "pattern_type": "stix", "valid_from": TIMES[0]}
        if spec.granular is not None:
            obj["granular_markings"] = [{"marking_ref": _ref(spec.granular[0], spec.upper),
                                         "selectors": [spec.granular[1]]}]
    if spec.upper:
        obj["id"] = obj["id"].split("--")[0] + "--" + obj["id"].split("--")[1].upper()
    if marks:
        obj["object_marking_refs"] = marks
    if spec.recipients:
        obj = with_recipients(obj, spec.recipients)
    level = max([spec.tlp] if spec.tlp is not None else [Tlp.AMBER_STRICT])
    if spec.granular is not None and spec.granular[1] == "pattern" and not spec.sco:
        level = max(level, spec.granular[0])
    return [*extra, obj], level


def _content(obj: dict) -> str:
    """The object as the hub compares versions: ids and marking refs lower-case."""
    out = {**obj, "id": obj["id"].lower()}
    if "object_marking_refs" in out:
        out["object_marking_refs"] = [r.lower() for r in out["object_marking_refs"]]
    if "granular_markings" in out:
        out["granular_markings"] = [{**m, "marking_ref": m["marking_ref"].lower()} for m in out["granular_markings"]]
    return json.dumps(out, sort_keys=True)


@dataclass
class Row:
    submitter: str
    stix_id: str
    modified_us: int
    meta: ObjectMeta
    spec: Spec


@pytest.fixture
def store(database_url: str) -> Iterator[Hub]:
    """An in-process hub (SQLite and PostgreSQL): hundreds of submissions per run, no server needed."""
    from trilateral.core.settings import Settings

    h = Hub.open(Settings.from_env())
    try:
        yield h
    finally:
        h.close()


def _people(hub: Hub) -> dict[str, Principal]:
    hub.init()
    have = {p.code for p in hub.list_principals()}
    for code, sponsor in (("KR-C", "KR"), ("JP-C", "JP")):
        if code not in have:
            hub.add_principal(code, code, client_of=sponsor)
    return {code: hub.principal(code) for code in CODES}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(submissions=st.lists(specs, min_size=1, max_size=8))
def test_no_read_path_returns_what_may_read_denies(store: Hub, submissions: list[Spec]) -> None:
    hub = store
    people = _people(hub)
    nonce = uuid.uuid4().hex
    owners: dict[str, str] = {}
    own: dict[tuple[str, str, int], str] = {}
    rows: list[Row] = []
    statuses: list[tuple[str, str, list[tuple[str, Tlp, frozenset[str]]]]] = []
    for spec in submissions:
        objects, level = build(spec, nonce)
        obj = objects[-1]
        stix_id = obj["id"].lower()
        modified = to_micros(parse_timestamp(obj["modified"])) if "modified" in obj else 0
        result = hub.submit(people[spec.submitter], {"objects": objects})
        # the submitter's answer depends on its own earlier submissions only
        key = (spec.submitter, stix_id, modified)
        if spec.custom:
            assert len(result.failed) == len(objects) and not result.stored
            continue
        content = _content(obj)
        if key in own:  # its own version: identical content is a duplicate, other content a failure
            if own[key] == content:
                assert [i for i, _ in result.duplicates] == [stix_id] and not result.stored and not result.failed
            else:
                assert [i for i, _ in result.failed] == [stix_id] and not result.stored
            continue
        assert [i for i, _ in result.stored] == [stix_id] and not result.failed, result.failed
        own[key] = content
        member = people[spec.submitter].member_code
        shadow = False
        if not spec.sco:
            shadow = owners.setdefault(stix_id, spec.submitter) != spec.submitter
        meta = ObjectMeta(level, spec.submitter, member, frozenset(spec.recipients), shadow)
        rows.append(Row(spec.submitter, stix_id, modified, meta, spec))
        statuses.append((result.status_id, spec.submitter, [(stix_id, level, frozenset(spec.recipients))]))

    ids = sorted({r.stix_id for r in rows})
    for code, reader in people.items():
        visible = [r for r in rows if may_read(reader, r.meta)]
        want_all = sorted((r.stix_id, r.modified_us, r.submitter) for r in visible)
        latest: dict[str, int] = {}
        for r in visible:
            latest[r.stix_id] = max(latest.get(r.stix_id, -1), r.modified_us)
        want_last = sorted((r.stix_id, r.modified_us, r.submitter) for r in visible if r.modified_us == latest[r.stix_id])
        if not ids:
            continue
        got, cursor = [], None
        while True:  # objects, paged: what is returned and how many pages it takes
            page = hub.query(reader, ids=ids, versions="all", limit=2, cursor=cursor)
            got += page.records
            if not page.more:
                break
            cursor = page.next_cursor
        assert sorted((r.id, to_micros(parse_timestamp(r.modified)) if r.object.get("modified") else 0, r.submitted_by)
                      for r in got) == want_all, code
        for record in got:
            _check_granular(reader, rows, record)
        last = hub.query(reader, ids=ids).records
        assert sorted((r.id, to_micros(parse_timestamp(r.modified)) if r.object.get("modified") else 0, r.submitted_by)
                      for r in last) == want_last, code
        manifest = hub.manifest(reader, ids=ids, versions="all").records
        assert len(manifest) == len(want_all), code
        for stix_id in ids:
            versions = hub.versions(reader, "shared", stix_id.upper()).records  # any case finds it
            assert len(versions) == sum(1 for v in want_all if v[0] == stix_id), (code, stix_id)
        screened = indicators_naming(hub, reader, "ipv4", [address(nonce, n) for n in range(3)])
        assert {(r.id, r.submitted_by) for found in screened.values() for r in found} == {
            (i, who) for i, _, who in want_last if i.startswith("indicator--")}, code
        exported = {o["id"].lower() for o in hub.export(reader)["objects"]} & set(ids)
        assert exported == {v[0] for v in want_last}, code
        assert hub.count_visible(reader) >= len(want_all)
        for status_id, submitter, items in statuses:  # status: only its submitter (and member), only readable
            allowed = code == submitter or (reader.is_member and people[submitter].member_code == code)
            try:
                status = hub.get_status(reader, status_id)
            except NotFound:
                assert not allowed
                continue
            assert allowed
            readable = {i for i, level, rec in items if may_read(reader, ObjectMeta(
                level, submitter, people[submitter].member_code, rec))}
            assert {d.id for d in status.successes + status.failures} <= readable


def _check_granular(reader: Principal, rows: list[Row], record) -> None:
    obj = record.object
    row = next(r for r in rows if r.stix_id == record.id and r.submitter == record.submitted_by)
    granular = row.spec.granular
    if granular is None or row.spec.sco or reader.code == row.submitter:
        return
    may = may_read(reader, ObjectMeta(granular[0], row.submitter, row.meta.submitter_member,
                                      row.meta.recipients))
    assert ("description" in obj) == (may or granular[1] != "description"), (reader.code, obj)

