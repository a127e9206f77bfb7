"""Report fixtures: a real hub on the `database_url` fixture, seeded by members and a client."""

from __future__ import annotations

import pytest

from tests.report.seed import Seed, seeded_quarter
from trilateral.core.principal import Principal
from trilateral.hub import Hub


@pytest.fixture
def people(hub: Hub) -> dict[str, Principal]:
    """US, KR, JP and KR's client KR-UPBIT."""
    out = {p.code: p for p, _ in hub.init()}
    out["KR-UPBIT"] = hub.add_principal("KR-UPBIT", "Upbit", client_of="KR")[0]
    return out


@pytest.fixture
def seeded(hub: Hub, people: dict[str, Principal]) -> Seed:
    """The hand-built quarter of tests/report/seed.py, each object submitted by its member."""
    seed = seeded_quarter()
    for who, objects in seed.by_submitter.items():
        result = hub.submit(people[who], objects)
        assert not result.failed, result.failed
    return seed
