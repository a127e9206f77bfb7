"""Random STIX versions with random markings and recipients, and what each node must hold."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.federation.nodes import CLIENTS
from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.recipients import with_recipients
from trilateral.hub.types import parse_timestamp, to_micros

ALL_CODES = [*CLIENTS, *CLIENTS.values()]


def principal(code: str) -> Principal:
    if code in CLIENTS:
        return Principal(code, PrincipalKind.MEMBER)
    sponsor = next(m for m, c in CLIENTS.items() if c == code)
    return Principal(code, PrincipalKind.CLIENT, sponsor)


def indicator(level: Tlp, recipients: list[str] = (), *, n: int = 0, object_id: str | None = None,
              modified: str = "2026-01-01T00:00:00.000Z", revoked: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": object_id or f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "pattern": f"[ipv4-addr:value = '10.{n // 65025 % 250}.{n // 255 % 255}.{n % 255}']",
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [TLP2_MARKING_IDS[level]]}
    if revoked:
        obj["revoked"] = True
    return with_recipients(obj, recipients) if recipients else obj


@dataclass
class Ledger:
    """Every version submitted anywhere, with who submitted it on which node."""

    versions: dict[tuple[str, int], tuple[ObjectMeta, str]] = field(default_factory=dict)  # -> (meta, origin)

    def add(self, obj: dict[str, Any], submitter: str) -> None:
        p = principal(submitter)
        recips = frozenset(obj.get("extensions", {}).get(next(iter(obj.get("extensions", {}) or {"": 0})), {})
                           .get("x_trilateral_recipients", ())) if obj.get("extensions") else frozenset()
        level = max(Tlp(k) for k, v in TLP2_MARKING_IDS.items() if v in obj["object_marking_refs"])
        meta = ObjectMeta(level, p.code, p.member_code, recips)
        self.versions[(obj["id"], to_micros(parse_timestamp(obj["modified"])))] = (meta, p.member_code)

    def expected(self, node: str) -> set[tuple[str, int]]:
        """Exactly the versions some principal hosted on `node` may read (plus its own)."""
        hosted = [principal(node), principal(CLIENTS[node])]
        return {key for key, (meta, origin) in self.versions.items()
                if origin == node or any(may_read(p, meta) for p in hosted)}


def random_batch(rng: random.Random, ledger: Ledger, size: int, start: int) -> dict[tuple[str, str], list[dict]]:
    """`size` random versions, grouped by (node, submitter); recorded in `ledger`."""
    out: dict[tuple[str, str], list[dict]] = {}
    for i in range(size):
        submitter = rng.choice(ALL_CODES)
        node = principal(submitter).member_code
        level = rng.choice(list(Tlp))
        recips = sorted(rng.sample(ALL_CODES, rng.randint(0, 2))) if level >= Tlp.AMBER else []
        obj = indicator(level, recips, n=start + i)
        ledger.add(obj, submitter)
        out.setdefault((node, submitter), []).append(obj)
    return out
