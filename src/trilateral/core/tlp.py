"""TLP 2.0 (FIRST) as STIX 2.1 marking definitions, with the OASIS standard ids.

`stix2` ships only the TLP 1.0 constants, so the TLP 2.0 objects are defined here exactly as the
OASIS cti-stix-common-objects TLP 2.0 extension publishes them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


class Tlp(IntEnum):
    """TLP levels ordered from least to most restrictive."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "TLP:" + self.name.replace("_", "+")

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """Accept 'amber+strict', 'TLP:AMBER+STRICT', 'AMBER_STRICT', 'white' (TLP 1.0 name for CLEAR)."""
        key = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if key == "WHITE":
            key = "CLEAR"
        try:
            return cls[key]
        except KeyError:
            raise ValueError(f"unknown TLP level {text!r} (use clear, green, amber, amber+strict, red)") from None


TLP2_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# TLP 1.0 ids of the STIX 2.1 specification (section 7.2.1.4), read as their TLP 2.0 equivalents.
TLP1_MARKING_IDS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}

MARKING_ID_TO_TLP: dict[str, Tlp] = {**{v: k for k, v in TLP2_MARKING_IDS.items()}, **TLP1_MARKING_IDS}

_TLP2_VALUE = {Tlp.CLEAR: "clear", Tlp.GREEN: "green", Tlp.AMBER: "amber", Tlp.AMBER_STRICT: "amber+strict",
               Tlp.RED: "red"}


def tlp2_marking_definition(level: Tlp) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object for `level`, as plain STIX 2.1 JSON."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": _TLP2_VALUE[level]}},
    }


def tlp2_marking_definitions() -> list[dict[str, Any]]:
    return [tlp2_marking_definition(level) for level in Tlp]


def effective_tlp(marking_refs: list[str] | None) -> Tlp:
    """The TLP of an object: no TLP marking means AMBER+STRICT; several mean the most restrictive."""
    levels = [MARKING_ID_TO_TLP[m] for m in marking_refs or () if m in MARKING_ID_TO_TLP]
    return max(levels) if levels else Tlp.AMBER_STRICT
