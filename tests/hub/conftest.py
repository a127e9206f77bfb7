"""Hub fixtures: an opened hub on the `database_url` fixture (SQLite and PostgreSQL), STIX builders."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from trilateral.core.principal import Principal
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub import Hub
from trilateral.hub.recipients import with_recipients

T0 = "2026-03-01T00:00:00.000Z"


@pytest.fixture
def people(hub: Hub) -> dict[str, Principal]:
    """US, KR, JP and one client of each (US-BANK, KR-UPBIT, JP-BITFLYER)."""
    out = {p.code: p for p, _ in hub.init()}
    for member, client in (("US", "US-BANK"), ("KR", "KR-UPBIT"), ("JP", "JP-BITFLYER")):
        out[client] = hub.add_principal(client, client.title(), client_of=member)[0]
    return out


def indicator(value: str = "198.51.100.7", tlp: Tlp | None = Tlp.GREEN, *, modified: str = T0,
              stix_id: str | None = None, recipients: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": T0, "modified": modified, "name": f"bad {value}",
        "pattern": f"[ipv4-addr:value = '{value}']", "pattern_type": "stix", "valid_from": T0,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_MARKING_IDS[tlp]]
    obj.update(extra)
    return with_recipients(obj, recipients) if recipients else obj


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
