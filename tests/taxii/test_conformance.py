"""TAXII 2.1 conformance: a real `trilateral serve` driven only by taxii2-client and stix2 objects."""

from __future__ import annotations

import json

import pytest
import requests
from taxii2client.v21 import Collection, as_pages

from tests.conftest import shared_data
from tests.taxii.conftest import CLIENT_OF_KR, MAX_CONTENT_LENGTH, TaxiiServer
from tests.taxii.stix_factory import as_dict, envelope, indicator
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp

TAXII = "application/taxii+json;version=2.1"


def ids_of(envelope_json: dict) -> list[str]:
    return [o["id"] for o in envelope_json.get("objects", [])]


def all_ids(collection, **filters) -> list[str]:
    """Every object id over all pages (taxii2-client's as_pages follows `next`)."""
    out: list[str] = []
    for page in as_pages(collection.get_objects, per_request=filters.pop("per_request", 50), **filters):
        out.extend(ids_of(page))
    return out


def test_discovery_api_root_and_collections(taxii_server: TaxiiServer) -> None:
    server = taxii_server.server("US")
    assert server.title
    assert len(server.api_roots) == 1 and server.default is not None
    root = server.default
    assert root.title and root.max_content_length == MAX_CONTENT_LENGTH
    assert TAXII in root.versions
    by_id = {c.id: c for c in root.collections}
    assert by_id["shared"].can_read and by_id["shared"].can_write
    kr_root = taxii_server.api_root("KR")
    kr_view = {c.id: (c.can_read, c.can_write) for c in kr_root.collections}
    own = [cid for cid, rw in kr_view.items() if cid != "shared" and rw == (True, True)]
    others = [cid for cid, rw in kr_view.items() if cid != "shared" and rw[1] is False]
    assert own, f"KR has a collection of its own to write: {kr_view}"
    assert others, f"KR sees other members' collections but cannot write them: {kr_view}"
    shared = taxii_server.collection("KR", "shared")
    shared.refresh()
    assert shared.title and shared.can_write


def test_post_get_filters_manifest_versions_status_delete(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    first = indicator(1)
    second = indicator(2, object_id=first.id, modified=first.modified.replace(year=2026, month=2))
    others = [indicator(n) for n in range(3, 8)]
    status = us.add_objects(envelope(first, *others))
    assert status.status == "complete" and status.success_count == 6 and status.failure_count == 0
    status2 = us.add_objects(envelope(second))
    assert status2.success_count == 1

    # the status is kept and can be fetched again later
    again = taxii_server.api_root("US").get_status(status.id)
    assert again.total_count == 6 and {s["id"] for s in again.successes} == {first.id, *(o.id for o in others)}

    got = us.get_objects(id=",".join([first.id, *(o.id for o in others)]))
    assert set(ids_of(got)) == {first.id, *(o.id for o in others)}
    latest = [o for o in got["objects"] if o["id"] == first.id]
    assert len(latest) == 1 and latest[0]["modified"].startswith("2026-02")

    # match[id], match[type], match[version], match[spec_version]
    assert ids_of(us.get_objects(id=others[0].id)) == [others[0].id]
    assert ids_of(us.get_objects(id=f"{others[0].id},{others[1].id}")) == sorted(
        [others[0].id, others[1].id], key=[o["id"] for o in got["objects"]].index)
    mine = ",".join([first.id, *(o.id for o in others)])
    assert len(ids_of(us.get_objects(type="indicator", id=mine))) == 6
    assert ids_of(us.get_objects(type="malware", id=mine)) == []
    all_versions = us.get_objects(id=first.id, version="all")["objects"]
    assert sorted(o["modified"][:7] for o in all_versions) == ["2026-01", "2026-02"]
    first_version = us.get_objects(id=first.id, version="first")["objects"]
    assert [o["modified"][:7] for o in first_version] == ["2026-01"]
    by_time = us.get_objects(id=first.id, version=as_dict(first)["modified"])["objects"]
    assert [o["modified"] for o in by_time] == [as_dict(first)["modified"]]
    assert len(ids_of(us.get_objects(spec_version="2.1", id=mine))) == 6
    assert ids_of(us.get_objects(spec_version="2.0", id=mine)) == []

    # object by id, versions, manifest
    one = us.get_object(first.id, version="all")
    assert {o["modified"][:7] for o in one["objects"]} == {"2026-01", "2026-02"}
    versions = us.object_versions(first.id)
    assert len(versions["versions"]) == 2 and versions["more"] is False
    manifest = us.get_manifest(id=",".join([first.id, *(o.id for o in others)]))
    entries = {m["id"]: m for m in manifest["objects"]}
    assert set(entries) == set(ids_of(got))
    assert entries[first.id]["version"].startswith("2026-02")
    assert all(m["media_type"] == "application/stix+json;version=2.1" and m["date_added"] for m in entries.values())

    # added_after: only what the second POST added
    captured: list[requests.Response] = []
    us._conn.session.hooks["response"].append(lambda r, *a, **k: captured.append(r))
    us.get_objects(id=others[-1].id)
    assert captured[-1].headers["X-TAXII-Date-Added-First"] == captured[-1].headers["X-TAXII-Date-Added-Last"]
    us.get_objects(id=",".join([first.id, *(o.id for o in others)]), version="first")
    after_first_post = captured[-1].headers["X-TAXII-Date-Added-Last"]  # the first POST's latest
    latest_only = us.get_objects(added_after=after_first_post, version="all")
    assert ids_of(latest_only) == [first.id]

    # DELETE one version, then the object
    us.delete_object(first.id, version=as_dict(first)["modified"])
    assert [o["modified"][:7] for o in us.get_object(first.id, version="all")["objects"]] == ["2026-02"]
    us.delete_object(first.id)
    with pytest.raises(requests.HTTPError) as exc:
        us.get_object(first.id)
    assert exc.value.response.status_code == 404
    assert ids_of(us.get_objects(id=first.id)) == []


def test_pagination_over_several_pages_with_bearer(taxii_server: TaxiiServer) -> None:
    jp = taxii_server.collection("JP", bearer=True)
    objects = [indicator(100 + n) for n in range(23)]
    jp.add_objects(envelope(*objects[:12]))
    jp.add_objects(envelope(*objects[12:]))
    only = ",".join(o.id for o in objects)
    pages = list(as_pages(jp.get_objects, per_request=5, id=only))
    assert len(pages) == 5 and [p["more"] for p in pages] == [True] * 4 + [False]
    seen = [i for p in pages for i in ids_of(p)]
    assert sorted(seen) == sorted(o.id for o in objects) and len(seen) == len(set(seen))
    manifest_pages = list(as_pages(jp.get_manifest, per_request=10, id=only))
    assert sum(len(p["objects"]) for p in manifest_pages) == 23 and len(manifest_pages) == 3


def test_tlp_enforcement_between_members_and_a_client(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    posted = {
        Tlp.CLEAR: indicator(201, Tlp.CLEAR),
        Tlp.GREEN: indicator(202, Tlp.GREEN),
        Tlp.AMBER: indicator(203, Tlp.AMBER),
        Tlp.AMBER_STRICT: indicator(204, Tlp.AMBER_STRICT),
        Tlp.RED: indicator(205, Tlp.RED, recipients=["JP"]),
    }
    assert us.add_objects(envelope(*posted.values())).success_count == 5
    kr_amber = indicator(206, Tlp.AMBER)
    taxii_server.collection("KR").add_objects(envelope(kr_amber))

    def visible(code: str) -> set[str]:
        return set(all_ids(taxii_server.collection(code)))

    name = {o.id: level for level, o in posted.items()}
    name[kr_amber.id] = "KR AMBER"
    expected = {
        "US": {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED, "KR AMBER"},
        "KR": {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, "KR AMBER"},
        "JP": {Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED, "KR AMBER"},
        CLIENT_OF_KR: {Tlp.CLEAR, Tlp.GREEN, "KR AMBER"},
    }
    for code, levels in expected.items():
        assert {name[i] for i in visible(code) if i in name} == levels, code

    client = taxii_server.collection(CLIENT_OF_KR)
    hidden = [posted[Tlp.AMBER], posted[Tlp.AMBER_STRICT], posted[Tlp.RED]]
    manifest_ids = {m["id"] for p in as_pages(client.get_manifest, per_request=100) for m in p.get("objects", [])}
    for obj in hidden:
        assert obj.id not in manifest_ids
        assert ids_of(client.get_objects(id=obj.id)) == []
        for call in (client.get_object, client.object_versions):
            with pytest.raises(requests.HTTPError) as exc:
                call(obj.id)
            assert exc.value.response.status_code == 404
    # KR may not delete what US submitted; the object stays
    with pytest.raises(requests.HTTPError) as exc:
        taxii_server.collection("KR").delete_object(posted[Tlp.GREEN].id)
    assert exc.value.response.status_code in {403, 404}
    assert ids_of(us.get_objects(id=posted[Tlp.GREEN].id)) == [posted[Tlp.GREEN].id]


def test_members_cannot_write_other_members_collections(taxii_server: TaxiiServer) -> None:
    foreign = [c for c in taxii_server.api_root("KR").collections if c.id != "shared" and not c.can_write]
    assert foreign
    # a client that ignores can_write=false still meets a 403 from the server
    forced = Collection(foreign[0].url, user="KR", password=taxii_server.tokens["KR"],
                        collection_info={"id": foreign[0].id, "title": foreign[0].title,
                                         "can_read": True, "can_write": True})
    with pytest.raises(requests.HTTPError) as exc:
        forced.add_objects(envelope(indicator(300)))
    assert exc.value.response.status_code == 403


def test_tlp2_marking_definitions_are_exactly_the_oasis_ones(taxii_server: TaxiiServer) -> None:
    oasis = json.loads(shared_data("stix_tlp_markings", "tlp2_marking_definitions_stix21.json").read_text())
    expected = {o["id"]: o for o in oasis["objects"]}
    assert set(expected) == set(TLP2_MARKING_IDS.values())
    # a member submits a bundle that carries the definitions it references, as STIX producers do
    taxii_server.collection("US").add_objects({"objects": [*oasis["objects"], as_dict(indicator(350))]})
    served = taxii_server.collection("US").get_objects(type="marking-definition")
    assert {o["id"]: o for o in served["objects"] if o["id"] in expected} == expected
    # every principal, clients included, resolves each TLP 2.0 reference to exactly the OASIS object
    for code in ("US", "KR", "JP", CLIENT_OF_KR):
        collection = taxii_server.collection(code)
        for marking_id, definition in expected.items():
            assert collection.get_object(marking_id)["objects"] == [definition], (code, marking_id)
    # built into every collection: a client paging by `next` with a small limit gets each exactly once
    client = taxii_server.collection(CLIENT_OF_KR)
    paged = [o for p in as_pages(client.get_objects, per_request=2, type="marking-definition")
             for o in p.get("objects", [])]
    assert sorted(paged, key=lambda o: o["id"]) == sorted(expected.values(), key=lambda o: o["id"])
    manifest = client.get_manifest(type="marking-definition")["objects"]
    assert {m["id"]: m["version"] for m in manifest} == {i: o["created"] for i, o in expected.items()}
    # a tampered copy under a TLP 2.0 id is never what clients get
    jp_collection = next(c.id for c in taxii_server.api_root("JP").collections if c.id != "shared" and c.can_write)
    green = TLP2_MARKING_IDS[Tlp.GREEN]
    tampered = {**expected[green], "name": "TLP:GREEN (edited)"}
    own = taxii_server.collection("JP", jp_collection)
    own.add_objects({"objects": [tampered]})
    assert own.get_object(green)["objects"] == [expected[green]]
    assert [o for o in own.get_objects(type="marking-definition")["objects"] if o["id"] == green] == [expected[green]]


def test_duplicate_post_is_not_an_error(taxii_server: TaxiiServer) -> None:
    kr = taxii_server.collection("KR")
    obj = indicator(400)
    kr.add_objects(envelope(obj))
    status = kr.add_objects(envelope(obj))
    assert status.failure_count == 0 and status.success_count == 1
    assert len(kr.object_versions(obj.id)["versions"]) == 1


def test_max_content_length_is_enforced_with_413(taxii_server: TaxiiServer) -> None:
    us = taxii_server.collection("US")
    big = [indicator(500 + n) for n in range(1000)]
    body = envelope(*big)
    assert len(json.dumps(body)) > MAX_CONTENT_LENGTH
    with pytest.raises(requests.HTTPError) as exc:
        us.add_objects(body)
    assert exc.value.response.status_code == 413
    assert exc.value.response.json()["http_status"] == "413"
    assert ids_of(us.get_objects(id=",".join(o.id for o in big[:50]))) == []


def test_access_log_is_json_lines(taxii_server: TaxiiServer) -> None:
    taxii_server.collection("US").get_objects()
    entries = taxii_server.access_entries()
    last = [e for e in entries if e["path"] == "/api/v1/collections/shared/objects/"][-1]
    assert last["principal"] == "US" and last["method"] == "GET" and last["status"] == 200
    assert {"time", "ms", "objects"} <= set(last)
