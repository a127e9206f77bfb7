"""Issue 14, robustness: malformed input fails alone and clearly; revocation and limits hold."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from tests.security.conftest import COLLECTION, TAXII, Hub, indicator
from trilateral.core.tlp import Tlp


def _deep(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels):
        value = {"x": value}
    return value


def test_10_deeply_nested_object_fails_alone_with_its_id(hub: Hub, tmp_path: Path) -> None:
    good = [indicator(Tlp.GREEN, value=f"198.18.10.{n}") for n in range(2)]
    deep = indicator(Tlp.GREEN, value="198.18.10.9", x_payload=_deep(300))
    status = hub.post("KR", good[0], deep, good[1])
    assert status["success_count"] == 2 and status["failure_count"] == 1
    assert status["failures"][0]["id"] == deep["id"] and "nested" in status["failures"][0]["message"]
    assert {o["id"] for o in hub.objects("JP", *(o["id"] for o in good))} == {o["id"] for o in good}
    odd = [{"type": "indicator", "id": 'x--"\u0000'}, {**indicator(Tlp.GREEN), "modified": "2" * 60},
           indicator(Tlp.RED, recipients=["KR\u0000"])]  # NUL and over-long text: PostgreSQL refuses both
    status = hub.post("KR", *odd, indicator(Tlp.GREEN, value="198.18.10.99"))
    assert status["success_count"] == 1 and status["failure_count"] == 3

    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
              "objects": [indicator(Tlp.GREEN, value="198.18.10.20"),
                          indicator(Tlp.GREEN, value="198.18.10.21", x_payload=_deep(300))]}
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(bundle))
    run = hub.cli("intel", "import", str(path), "--as", "US")
    assert run.returncode == 2 and "Traceback" not in run.stderr and "TypeError" not in run.stderr
    assert "1 stored" in run.stdout and f"failed: {bundle['objects'][1]['id']}" in run.stderr


def test_11_overflowing_timestamps_are_400_with_a_reason(hub: Hub) -> None:
    obj = indicator(Tlp.GREEN, value="198.18.11.1")
    hub.post("US", obj)
    late, early = "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"
    paths = [COLLECTION + "objects/", COLLECTION + "manifest/", f"{COLLECTION}objects/{obj['id']}/"]
    with hub.client("US") as c:
        for path in paths:
            for params in ({"added_after": late}, {"match[version]": early}, {"added_after": early}):
                r = c.get(path, params=params)
                assert r.status_code == 400 and "outside the years" in r.json()["description"], (path, params)
        r = c.get(f"{COLLECTION}objects/{obj['id']}/versions/", params={"added_after": late})
        assert r.status_code == 400
        r = c.delete(f"{COLLECTION}objects/{obj['id']}/", params={"match[version]": early})
        assert r.status_code == 400
        assert c.get(f"{COLLECTION}objects/{obj['id']}/").status_code == 200  # nothing deleted
    run = hub.cli("intel", "export", "--as", "US", "--since", late)
    assert run.returncode != 0 and "Traceback" not in run.stderr and "outside the years" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_12_revocation_recipient_limit_and_member_names(hub: Hub) -> None:
    token = hub.add("GB")
    hub.server.tokens["GB"] = token
    ours = indicator(Tlp.GREEN, value="198.18.12.1")
    time.sleep(2.5)  # the TAXII layer remembers each principal's collection list for 2 s (taxii/deps.py)
    hub.post("GB", ours, collection="member-GB")
    assert hub.get("US", "/api/v1/collections/member-GB/objects/").status_code == 200
    assert ours["id"] in hub.cli("intel", "export", "--as", "US").stdout
    assert hub.cli("member", "revoke", "GB").returncode == 0
    assert hub.get("US", "/api/v1/collections/member-GB/objects/").status_code == 404
    exported = hub.cli("intel", "export", "--as", "US")
    assert exported.returncode == 0 and ours["id"] not in exported.stdout

    crowd = indicator(Tlp.RED, value="198.18.12.2", recipients=[f"C{n:03d}" for n in range(65)])
    status = hub.post("KR", crowd)
    assert status["failure_count"] == 1 and "at most 64" in status["failures"][0]["message"]

    forged = hub.cli("member", "add", "EVIL", "--name", "Evil\nUS token: not-a-token")
    assert forged.returncode != 0 and "control character" in forged.stderr
    listing = hub.cli("member", "list").stdout
    assert "EVIL" not in listing and "not-a-token" not in listing
    with hub.client("US") as c:  # a bad request body never half-writes either
        r = c.post(COLLECTION + "objects/", content=b'{"objects": [', headers={"Content-Type": TAXII})
        assert r.status_code == 400
