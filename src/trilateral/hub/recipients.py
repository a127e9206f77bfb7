"""Who a RED (or client-addressed AMBER) object is for: the `x_trilateral_recipients` extension.

Recipients are principal codes carried in a STIX 2.1 property extension whose definition has the
fixed id below, so other STIX tools see a documented, schema-described property rather than an
unexplained custom field. The plain top-level custom property `x_trilateral_recipients` is accepted
too (what a hand-written bundle most likely uses); both sources are merged.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

RECIPIENTS_EXTENSION_ID = "extension-definition--2f6b1c0e-6c3d-4c1e-9a51-7e3b8f5d2a10"
RECIPIENTS_PROPERTY = "x_trilateral_recipients"
_NOBODY: frozenset[str] = frozenset()


def recipients_extension_definition() -> dict[str, Any]:
    """The STIX 2.1 extension-definition object that documents the property."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": RECIPIENTS_EXTENSION_ID,
        "created_by_ref": "identity--8f3c2b4e-1d7a-4a55-9d0e-5b2f9c6a7e31",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Trilateral recipients",
        "description": "Principal codes (members or clients of the Trilateral hub) an object marked "
                       "TLP:RED, or TLP:AMBER addressed to a client, is shared with.",
        "schema": "A property-extension with one property x_trilateral_recipients: a list of "
                  "principal codes (strings, e.g. 'KR', 'KR-UPBIT').",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def recipients_of(obj: dict[str, Any]) -> frozenset[str]:
    """Recipient codes named by the extension and/or the top-level custom property (upper-cased)."""
    if "extensions" not in obj and RECIPIENTS_PROPERTY not in obj:  # most objects
        return _NOBODY
    codes: set[str] = set()
    extensions = obj.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise ValueError("extensions must be a JSON object keyed by extension-definition id")
    ext = extensions.get(RECIPIENTS_EXTENSION_ID)
    for source in (ext.get(RECIPIENTS_PROPERTY) if isinstance(ext, dict) else None,
                   obj.get(RECIPIENTS_PROPERTY)):
        if source is None:
            continue
        if not isinstance(source, list) or not all(isinstance(c, str) and c.strip() for c in source):
            raise ValueError(f"{RECIPIENTS_PROPERTY} must be a list of principal codes")
        codes.update(c.strip().upper() for c in source)
    return frozenset(codes)


def with_recipients(obj: dict[str, Any], codes: Iterable[str]) -> dict[str, Any]:
    """A copy of `obj` addressed to `codes` through the extension."""
    out = copy.deepcopy(obj)
    out.setdefault("extensions", {})[RECIPIENTS_EXTENSION_ID] = {
        "extension_type": "property-extension",
        RECIPIENTS_PROPERTY: sorted({c.upper() for c in codes}),
    }
    return out
