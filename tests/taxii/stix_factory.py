"""STIX 2.1 objects for the TAXII tests, built with the OASIS `stix2` library."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import stix2

from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp

RECIPIENTS = "x_trilateral_recipients"


def indicator(n: int, tlp: Tlp = Tlp.GREEN, recipients: list[str] | None = None,
              modified: datetime | None = None, object_id: str | None = None) -> stix2.v21.Indicator:
    """An indicator of one wallet address, marked `tlp` (RED ones name their recipients)."""
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    extra = {RECIPIENTS: recipients} if recipients else {}
    return stix2.v21.Indicator(
        id=object_id or f"indicator--{uuid.uuid4()}",
        created=created,
        modified=modified or created,
        name=f"wallet {n}",
        pattern_type="stix",
        pattern=f"[cryptocurrency-wallet:address = '0x{n:040x}']",
        valid_from=created,
        object_marking_refs=[TLP2_MARKING_IDS[tlp]],
        allow_custom=True,
        **extra,
    )


def as_dict(obj: stix2.base._STIXBase) -> dict:
    return json.loads(obj.serialize())


def envelope(*objects: stix2.base._STIXBase) -> dict:
    """A TAXII 2.1 envelope of the objects."""
    return {"objects": [as_dict(o) for o in objects]}
