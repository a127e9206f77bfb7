"""Issue 14, confidentiality: no oracle, no weakened marking, nothing counted that may not be read."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from tests.security.conftest import COLLECTION, Hub, indicator
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp


def _shape(status: dict) -> dict:
    """A status without its ids and times: what must not depend on others' hidden objects."""
    return {"status": status["status"], "total": status["total_count"], "ok": status["success_count"],
            "failed": status["failure_count"], "pending": status["pending_count"],
            "messages": sorted(str(d.get("message")) for d in status.get("successes", []) + status.get("failures", []))}


def test_3_no_existence_oracle_on_post(hub: Hub) -> None:
    secret = indicator(Tlp.RED, value="203.0.113.3")
    hub.post("KR", secret)
    same = hub.post("JP", secret)  # the exact hidden content
    different = hub.post("US", {**secret, "name": "guess"})  # same id and version, other content
    fresh = hub.post("JP", {**secret, "id": f"indicator--{uuid.uuid4()}"})  # an id nobody holds
    assert _shape(same) == _shape(fresh) == _shape(different)
    assert _shape(fresh)["ok"] == 1 and _shape(fresh)["failed"] == 0
    again = hub.post("JP", secret)  # JP's own copy now exists: it is told about its own objects only
    assert again["successes"][0]["message"] == "identical object already stored"
    later = hub.get("JP", f"/api/v1/status/{same['id']}/").json()
    assert later["success_count"] == 1 and later["failure_count"] == 0
    assert [o["name"] for o in hub.objects("US", secret["id"])] == ["guess"]  # its own copy only
    assert [o["name"] for o in hub.objects("KR", secret["id"])] == [secret["name"]]


def test_4_marking_ids_are_normalised_and_tlp_claims_fail_closed(hub: Hub) -> None:
    red_upper = TLP2_MARKING_IDS[Tlp.RED].replace("e828b379-4e03-4974-9ac4-e53a884c97c1",
                                                  "E828B379-4E03-4974-9AC4-E53A884C97C1")
    marked = indicator(None, object_marking_refs=[red_upper], value="203.0.113.4")
    assert hub.post("KR", marked)["success_count"] == 1
    for reader in ("US", "JP", "KR-UPBIT"):
        assert hub.objects(reader, marked["id"]) == [], reader
    assert hub.by_id("JP", marked["id"]).status_code == 404
    assert hub.objects("KR", marked["id"])[0]["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.RED]]

    custom_id = f"marking-definition--{uuid.uuid4()}"
    custom = {"type": "marking-definition", "spec_version": "2.1", "id": custom_id, "created": "2026-01-01T00:00:00Z",
              "name": "TLP:RED", "definition_type": "statement", "definition": {"statement": "TLP:RED"}}
    user = indicator(None, object_marking_refs=[custom_id], value="203.0.113.44")
    status = hub.post("KR", custom, user)
    assert status["success_count"] == 0 and status["failure_count"] == 2
    assert "claims TLP:RED" in status["failures"][0]["message"]
    assert custom_id in status["failures"][1]["message"]
    assert hub.objects("JP", user["id"]) == [] and hub.objects("JP", custom_id) == []


def test_5_bundle_inside_envelope_is_refused(hub: Hub) -> None:
    inner = indicator(Tlp.RED, value="203.0.113.5")
    nested = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [inner]}
    good = indicator(Tlp.GREEN, value="203.0.113.55")
    status = hub.post("KR", nested, good)
    assert status["success_count"] == 1 and status["failure_count"] == 1
    assert status["failures"][0]["id"] == nested["id"] and "bundle" in status["failures"][0]["message"]
    for reader in ("US", "JP", "KR-UPBIT"):
        assert hub.objects(reader, nested["id"], inner["id"]) == []
    assert [o["id"] for o in hub.objects("JP", good["id"])] == [good["id"]]


def test_6_granular_markings_are_enforced(hub: Hub) -> None:
    covered = indicator(Tlp.GREEN, value="203.0.113.6", description="the RED part", labels=["red-label"],
                        granular_markings=[{"marking_ref": TLP2_MARKING_IDS[Tlp.RED].upper().replace(
                            "MARKING-DEFINITION", "marking-definition"), "selectors": ["description", "labels.[0]"]}],
                        recipients=["JP"])
    required = indicator(Tlp.GREEN, value="203.0.113.66",
                         granular_markings=[{"marking_ref": TLP2_MARKING_IDS[Tlp.RED], "selectors": ["pattern"]}])
    hub.post("KR", covered, required)
    for reader in ("US", "KR-UPBIT", "JP-SAKURA"):
        seen = hub.objects(reader, covered["id"])
        assert len(seen) == 1 and "description" not in seen[0] and "labels" not in seen[0], reader
        assert "granular_markings" not in seen[0] and "RED" not in str(seen[0]), reader
        assert hub.objects(reader, required["id"]) == [], reader
        assert hub.by_id(reader, required["id"]).status_code == 404
    named = hub.objects("JP", covered["id"])[0]  # a named recipient of the RED part reads it
    assert named["description"] == "the RED part" and named["labels"] == ["red-label"]
    exported = hub.cli("intel", "export", "--as", "US")
    assert exported.returncode == 0 and covered["id"] in exported.stdout and "the RED part" not in exported.stdout
    assert required["id"] not in exported.stdout


def _dates(hub: Hub, code: str, ids: list[str]) -> list[datetime]:
    r = hub.get(code, COLLECTION + "manifest/", **{"match[id]": ",".join(ids)})
    return sorted(datetime.fromisoformat(m["date_added"].replace("Z", "+00:00")) for m in r.json()["objects"])


def test_7_no_counts_from_date_added_gaps_or_cursors(hub: Hub) -> None:
    mixed = [indicator(Tlp.RED if n % 2 else Tlp.GREEN, value=f"198.18.0.{n}") for n in range(40)]
    hub.post("KR", *mixed)
    visible = [o["id"] for o in mixed[::2]]
    dates = _dates(hub, "JP", [o["id"] for o in mixed])
    assert len(dates) == 20
    gaps = {(b - a).total_seconds() * 1e6 for a, b in zip(dates, dates[1:], strict=False)}
    assert gaps != {2.0}, "every gap is exactly one hidden object wide"
    assert _dates(hub, "JP", visible) == dates

    first = hub.get("JP", COLLECTION + "objects/", limit=2, **{"match[id]": ",".join(visible)}).json()
    again = hub.get("JP", COLLECTION + "objects/", limit=2, **{"match[id]": ",".join(visible)}).json()
    assert first["more"] and first["next"] != again["next"]  # randomised: equal positions look different
    raw = base64.urlsafe_b64decode(first["next"] + "=" * (-len(first["next"]) % 4))
    with pytest.raises(ValueError):  # the old cursor was readable JSON holding the global row number
        json.loads(raw)
    forged = first["next"][:-4] + ("AAAA" if not first["next"].endswith("AAAA") else "BBBB")
    assert hub.get("JP", COLLECTION + "objects/", next=forged).status_code == 400
    assert hub.get("US", COLLECTION + "objects/", limit=2, next=first["next"],
                   **{"match[id]": ",".join(visible)}).status_code == 400


def test_8_unknown_recipients_are_refused(hub: Hub) -> None:
    early = indicator(Tlp.RED, recipients=["NEWCO"], value="203.0.113.8")
    status = hub.post("KR", early)
    assert status["success_count"] == 0 and "unknown recipient NEWCO" in status["failures"][0]["message"]
    hub.add("NEWCO", client_of="JP")
    assert hub.objects("NEWCO", early["id"]) == []
    named = indicator(Tlp.RED, recipients=["NEWCO"], value="203.0.113.88")
    assert hub.post("KR", named)["success_count"] == 1
    assert [o["id"] for o in hub.objects("NEWCO", named["id"])] == [named["id"]]


def test_9_audit_names_only_what_was_returned(hub: Hub) -> None:
    red = indicator(Tlp.RED, recipients=["JP"], value="203.0.113.9")
    hub.post("KR", red)
    with hub.db().connect() as conn:
        before = conn.execute(sa.text("SELECT max(seq) FROM audit_log")).scalar()
    page = hub.get("JP", COLLECTION + "objects/", limit=5).json()  # the five TLP definitions come first
    assert red["id"] not in {o["id"] for o in page["objects"]}
    assert hub.by_id("JP", red["id"]).status_code == 200
    with hub.db().connect() as conn:
        rows = conn.execute(sa.text("SELECT action, detail FROM audit_log WHERE seq > :s AND actor = 'JP' "
                                    "ORDER BY seq"), {"s": before}).all()
    reads = [detail for action, detail in rows if action == "read.query"]
    assert len(reads) == 1 and red["id"] in reads[0]  # the by-id read only
