"""Malformed requests get the right TAXII error, never a 500 and never a partial write (raw httpx)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.taxii.conftest import MAX_CONTENT_LENGTH, TaxiiServer
from tests.taxii.stix_factory import as_dict, envelope, indicator

TAXII = "application/taxii+json;version=2.1"
HEADERS = {"Accept": TAXII, "Content-Type": TAXII}
OBJECTS = "/api/v1/collections/shared/objects/"


def assert_taxii_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].replace(" ", "") == TAXII
    body = response.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return body


def stored(http: httpx.Client, object_ids: list[str]) -> list[str]:
    r = http.get(OBJECTS, params={"match[id]": ",".join(object_ids), "match[version]": "all"},
                 headers={"Accept": TAXII})
    assert r.status_code == 200
    return [o["id"] for o in r.json().get("objects", [])]


def test_bad_bodies_are_refused_without_writing(taxii_server: TaxiiServer) -> None:
    probe = indicator(900)
    text = json.dumps(envelope(probe))
    with taxii_server.http("US") as http:
        assert_taxii_error(http.post(OBJECTS, content=text[:-3], headers=HEADERS), 400)
        assert_taxii_error(http.post(OBJECTS, content=b"\xff\xfe{", headers=HEADERS), 400)
        assert_taxii_error(http.post(OBJECTS, content=json.dumps([as_dict(probe)]), headers=HEADERS), 422)
        assert_taxii_error(http.post(OBJECTS, content='{"objects": {}}', headers=HEADERS), 422)
        assert_taxii_error(http.post(OBJECTS, content='{"objects": []}', headers=HEADERS), 422)
        for wrong in ("application/json", "text/plain", "application/taxii+json;version=2.0", ""):
            r = http.post(OBJECTS, content=text, headers={"Accept": TAXII, "Content-Type": wrong})
            assert_taxii_error(r, 415)
        huge = b'{"objects": [' + b" " * MAX_CONTENT_LENGTH + b"]}"
        assert_taxii_error(http.post(OBJECTS, content=huge, headers=HEADERS), 413)

        def chunks():
            yield b'{"objects": ['
            for _ in range(MAX_CONTENT_LENGTH // 1000 + 2):
                yield b" " * 1000
            yield text[13:].encode()

        assert_taxii_error(http.post(OBJECTS, content=chunks(), headers=HEADERS), 413)
        assert stored(http, [probe.id]) == []


def test_bad_objects_fail_one_by_one_with_a_reason(taxii_server: TaxiiServer) -> None:
    good = as_dict(indicator(901))
    no_pattern = {k: v for k, v in as_dict(indicator(902)).items() if k != "pattern"}
    not_stix = {"hello": "world"}
    body = json.dumps({"objects": [good, no_pattern, not_stix]})
    with taxii_server.http("US") as http:
        r = http.post(OBJECTS, content=body, headers=HEADERS)
        assert r.status_code == 202, r.text
        status = r.json()
        assert status["success_count"] == 1 and status["failure_count"] == 2
        assert {f["id"] for f in status["failures"]} >= {no_pattern["id"]}
        assert all(f["message"] for f in status["failures"])
        assert stored(http, [good["id"], no_pattern["id"]]) == [good["id"]]
        again = http.get(f"/api/v1/status/{status['id']}/", headers={"Accept": TAXII})
        assert again.json()["failure_count"] == 2


def test_unacceptable_accept_gets_406(taxii_server: TaxiiServer) -> None:
    with taxii_server.http("US") as http:
        for accept in ("application/json", "text/html", "application/taxii+json;version=2.0",
                       "application/taxii+json;version=2.1;q=0"):
            assert_taxii_error(http.get(OBJECTS, headers={"Accept": accept}), 406)
        for accept in ("application/taxii+json", "*/*", f"text/html, {TAXII}"):
            assert http.get("/api/v1/", headers={"Accept": accept}).status_code == 200


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "-5"}, {"limit": "ten"}, {"limit": "1.5"},
    {"added_after": "yesterday"}, {"added_after": "2026-13-40T00:00:00Z"}, {"added_after": "2026-01-01"},
    {"match[id]": "not-an-id"}, {"match[id]": "indicator--1234"}, {"match[type]": "Indicator!"},
    {"match[version]": "latest"}, {"match[version]": "2026-01-01"}, {"match[spec_version]": "3.0"},
    {"match[colour]": "red"}, {"next": "garbage!!"}, {"next": "eyJhIjoxfQ"}, {"match[id]": ""},
])
def test_bad_filter_values_get_400(taxii_server: TaxiiServer, params: dict) -> None:
    with taxii_server.http("KR") as http:
        assert_taxii_error(http.get(OBJECTS, params=params, headers={"Accept": TAXII}), 400)
        manifest = OBJECTS.replace("objects/", "manifest/")
        assert_taxii_error(http.get(manifest, params=params, headers={"Accept": TAXII}), 400)


def test_unknown_ids_get_404(taxii_server: TaxiiServer) -> None:
    unknown = f"indicator--{uuid.uuid4()}"
    with taxii_server.http("KR") as http:
        get = {"Accept": TAXII}
        assert_taxii_error(http.get(f"{OBJECTS}{unknown}/", headers=get), 404)
        assert_taxii_error(http.get(f"{OBJECTS}{unknown}/versions/", headers=get), 404)
        assert_taxii_error(http.delete(f"{OBJECTS}{unknown}/", headers=get), 404)
        assert_taxii_error(http.get(f"{OBJECTS}not-an-id/", headers=get), 404)
        assert_taxii_error(http.get(f"/api/v1/status/{uuid.uuid4()}/", headers=get), 404)
        assert_taxii_error(http.get("/api/v1/status/nope/", headers=get), 404)
        assert_taxii_error(http.get("/api/v1/collections/nope/", headers=get), 404)
        assert_taxii_error(http.get("/api/v1/collections/nope/objects/", headers=get), 404)
        assert_taxii_error(http.get("/api/v2/", headers=get), 404)


def test_status_of_another_principal_is_not_found(taxii_server: TaxiiServer) -> None:
    with taxii_server.http("US") as http:
        status = http.post(OBJECTS, content=json.dumps(envelope(indicator(903))), headers=HEADERS).json()
    with taxii_server.http("JP") as http:
        assert_taxii_error(http.get(f"/api/v1/status/{status['id']}/", headers={"Accept": TAXII}), 404)


def test_every_path_needs_its_trailing_slash(taxii_server: TaxiiServer) -> None:
    with taxii_server.http("US") as http:
        for path in ("/taxii2", "/api/v1", "/api/v1/collections", "/api/v1/collections/shared",
                     "/api/v1/collections/shared/objects", "/api/v1/collections/shared/manifest"):
            body = assert_taxii_error(http.get(path, headers={"Accept": TAXII}), 404)
            assert "/" in body["description"]
        r = http.post("/api/v1/collections/shared/objects", content=json.dumps(envelope(indicator(904))),
                      headers=HEADERS)
        assert_taxii_error(r, 404)


def test_authentication_and_authorisation(taxii_server: TaxiiServer) -> None:
    get = {"Accept": TAXII}
    with taxii_server.http() as anonymous:
        assert anonymous.get("/taxii2/", headers=get).status_code == 200
        r = anonymous.get("/api/v1/", headers=get)
        assert_taxii_error(r, 401)
        assert "Basic" in r.headers["www-authenticate"] and "Bearer" in r.headers["www-authenticate"]
        assert_taxii_error(anonymous.get(OBJECTS, headers={**get, "Authorization": "Bearer wrong"}), 401)
        assert_taxii_error(anonymous.get(OBJECTS, headers={**get, "Authorization": "Basic !!!"}), 401)
        assert_taxii_error(anonymous.get(OBJECTS, headers={**get, "Authorization": "Digest x"}), 401)
        assert_taxii_error(anonymous.get(OBJECTS, auth=("KR", taxii_server.tokens["US"]), headers=get), 401)
        bearer = {**get, "Authorization": f"Bearer {taxii_server.tokens['JP']}"}
        assert anonymous.get(OBJECTS, headers=bearer).status_code == 200
    with taxii_server.http("KR") as http:
        collections = http.get("/api/v1/collections/", headers=get).json()["collections"]
        foreign = next(c["id"] for c in collections if not c["can_write"])
        r = http.post(f"/api/v1/collections/{foreign}/objects/",
                      content=json.dumps(envelope(indicator(905))), headers=HEADERS)
        assert_taxii_error(r, 403)


def test_openapi_document_is_served_without_the_cdn_swagger_page(taxii_server: TaxiiServer) -> None:
    with taxii_server.http() as http:
        assert http.get("/docs").status_code == 404  # Swagger UI would load scripts from a public CDN
        spec = http.get("/openapi.json").json()
        assert "/api/v1/collections/{collection_id}/objects/" in spec["paths"]
