"""Issue 14, integrity: only an object's owner adds the versions others read; the hub's own objects
cannot be replaced."""

from __future__ import annotations

import uuid

from tests.security.conftest import COLLECTION, Hub, indicator
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp, tlp2_marking_definition
from trilateral.hub.recipients import RECIPIENTS_EXTENSION_ID, recipients_extension_definition

LATER = "2026-04-01T00:00:00.000Z"


def test_1_forged_version_changes_nothing_others_read(hub: Hub) -> None:
    original = indicator(Tlp.AMBER_STRICT, value="203.0.113.1")
    hub.post("KR", original)
    forged = indicator(Tlp.GREEN, stix_id=original["id"], modified=LATER, revoked=True, value="203.0.113.1")
    status = hub.post("JP-SAKURA", forged)  # a client that cannot read the original
    assert status["success_count"] == 1 and status["failure_count"] == 0  # as for an id nobody holds
    for reader in ("KR", "US", "JP"):
        seen = hub.objects(reader, original["id"], **{"match[version]": "all"})
        assert [o["modified"] for o in seen] == [T0 := original["modified"]] and "revoked" not in seen[0], reader
        versions = hub.get(reader, f"{COLLECTION}objects/{original['id']}/versions/").json()["versions"]
        assert versions == [T0], reader
    # the forger sees only its own copy; its member's clients and everyone else never do
    assert [o.get("revoked") for o in hub.objects("JP-SAKURA", original["id"])] == [True]
    # a member that can read the original cannot version it either
    hub.post("US", indicator(Tlp.GREEN, stix_id=original["id"], modified="2026-05-01T00:00:00.000Z"))
    assert [o["modified"] for o in hub.objects("JP", original["id"])] == [T0]
    # the owner still versions and deletes its object
    hub.post("KR", indicator(Tlp.AMBER_STRICT, stix_id=original["id"], modified=LATER, value="203.0.113.1"))
    assert [o["modified"] for o in hub.objects("JP", original["id"])] == [LATER]
    with hub.client("KR") as c:
        assert c.delete(f"{COLLECTION}objects/{original['id']}/").status_code == 200
    assert hub.objects("JP", original["id"]) == []

    # publishing in another principal's name: created_by_ref binds an object to its identity's owner
    identity = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}", "created": T0,
                "modified": T0, "name": "KR agency", "identity_class": "organization",
                "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    hub.post("KR", identity)
    impostor = indicator(Tlp.GREEN, created_by_ref=identity["id"])
    assert hub.post("JP", impostor)["success_count"] == 1
    assert hub.objects("US", impostor["id"]) == [] and len(hub.objects("JP", impostor["id"])) == 1

    # deterministic-id SCOs: each submitter's copy is its own
    sco_id = f"ipv4-addr--{uuid.uuid5(uuid.NAMESPACE_URL, 'security-test-' + hub.url)}"
    red = {"type": "ipv4-addr", "spec_version": "2.1", "id": sco_id, "value": "192.0.2.55",
           "object_marking_refs": [TLP2_MARKING_IDS[Tlp.RED]]}
    green = {**red, "object_marking_refs": [TLP2_MARKING_IDS[Tlp.GREEN]]}
    assert hub.post("US", red)["success_count"] == 1
    assert hub.post("JP", green)["success_count"] == 1  # not blocked, not an "already stored" answer
    kr_sees = hub.objects("KR", sco_id)
    assert [o["object_marking_refs"] for o in kr_sees] == [green["object_marking_refs"]]
    assert sorted(tuple(o["object_marking_refs"]) for o in hub.objects("US", sco_id)) == sorted(
        [tuple(red["object_marking_refs"]), tuple(green["object_marking_refs"])])


def test_2_hub_objects_cannot_be_stored_versioned_or_shadowed(hub: Hub) -> None:
    red_id = TLP2_MARKING_IDS[Tlp.RED]
    weakened = {**tlp2_marking_definition(Tlp.RED), "name": "TLP:CLEAR",
                "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                               {"extension_type": "property-extension", "tlp_2_0": "clear"}}}
    upper = {**tlp2_marking_definition(Tlp.GREEN), "id": TLP2_MARKING_IDS[Tlp.GREEN].upper().replace(
        "MARKING-DEFINITION", "marking-definition"), "name": "TLP:GREEN", "description": "shadow"}
    upper["extensions"] = {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                           {"extension_type": "property-extension", "tlp_2_0": "clear"}}
    ext = {**recipients_extension_definition(), "modified": LATER, "schema": "anything"}
    status = hub.post("US", weakened, upper, ext)
    assert status["success_count"] == 0 and status["failure_count"] == 3
    reasons = " ".join(f["message"] for f in status["failures"])
    assert "OASIS TLP:RED" in reasons and "recipients extension-definition" in reasons
    for reader in ("JP", "KR-UPBIT"):
        served = hub.by_id(reader, red_id).json()["objects"]
        assert served == [tlp2_marking_definition(Tlp.RED)]
        assert hub.get(reader, f"{COLLECTION}objects/{RECIPIENTS_EXTENSION_ID}/").status_code == 404
    # an import carrying the real definitions succeeds and stores nothing
    real = hub.post("KR", *(tlp2_marking_definition(t) for t in Tlp), recipients_extension_definition())
    assert real["success_count"] == 6 and real["failure_count"] == 0
    assert hub.by_id("KR", red_id).json()["objects"] == [tlp2_marking_definition(Tlp.RED)]
    assert hub.get("KR", f"{COLLECTION}objects/{RECIPIENTS_EXTENSION_ID}/").status_code == 404
