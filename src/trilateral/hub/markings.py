"""Markings read strictly: normalised ids, TLP claims that fail closed, granular markings, hub objects.

Why this module exists: the policy (policy.may_read) trusts one TLP level per stored version. That
level must never be weaker than what the submitter asked for, whatever spelling it used, and a
property covered by a stricter granular marking must not reach a reader of the weaker object level.

- Ids are compared lower-case (UUIDs are case-insensitive); OASIS TLP ids are matched exactly after that.
- A marking-definition that names a TLP level (its name, TLP 1.0 `definition`, statement or TLP 2.0
  extension) under an id that is not that level's OASIS id is refused: it would otherwise be read as
  "no TLP marking" (AMBER+STRICT), weaker than the RED it claims. Objects of the same submission that
  reference such a definition are refused with it.
- The hub's own objects (the five TLP 2.0 definitions, the four TLP 1.0 ones, the recipients
  extension-definition) are never stored: a copy equal to the real one is a no-op, anything else
  under their ids is refused.
- Granular TLP markings: one covering a required property raises the object's level (the object is
  unreadable without it); others are removed, with their covered properties, for each reader who may
  not read that level (`strip_granular`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from trilateral.core.principal import Principal
from trilateral.core.tlp import MARKING_ID_TO_TLP, TLP1_MARKING_IDS, Tlp, tlp2_marking_definition
from trilateral.hub.policy import ObjectMeta, may_read
from trilateral.hub.recipients import RECIPIENTS_EXTENSION_ID, recipients_extension_definition

_TLP_CLAIM = re.compile(r"TLP\s*[:_\- ]?\s*(CLEAR|WHITE|GREEN|AMBER\s*\+\s*STRICT|AMBER|RED)\b", re.IGNORECASE)
_TLP_WORDS = {"clear": Tlp.CLEAR, "white": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER,
              "amber+strict": Tlp.AMBER_STRICT, "red": Tlp.RED}
_COMMON_REQUIRED = frozenset({"type", "spec_version", "id", "created", "modified", "object_marking_refs",
                              "granular_markings", "extensions"})
REQUIRED: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "report": ("name", "published", "object_refs"),
    "grouping": ("context", "object_refs"),
    "note": ("content", "object_refs"),
    "opinion": ("opinion", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "malware": ("is_family", "name"),
    "malware-analysis": ("product",),
    "attack-pattern": ("name",), "campaign": ("name",), "course-of-action": ("name",),
    "identity": ("name",), "incident": ("name",), "infrastructure": ("name",), "intrusion-set": ("name",),
    "threat-actor": ("name",), "tool": ("name",), "vulnerability": ("name",), "location": (),
    "marking-definition": ("name", "definition", "definition_type"),
    "ipv4-addr": ("value",), "ipv6-addr": ("value",), "domain-name": ("value",), "url": ("value",),
    "email-addr": ("value",), "mac-addr": ("value",), "autonomous-system": ("number",),
    "mutex": ("name",), "file": ("hashes", "name"), "x-trilateral-freeze-request": (),
}.items()}


def normalise_id(stix_id: str) -> str:
    """The id as the hub compares it: lower-case (the type is lower-case by the spec, UUIDs are case-free)."""
    return stix_id.lower()


def tlp_of_ref(ref: Any) -> Tlp | None:
    """The TLP level of a marking reference, if it is an OASIS TLP id (any case)."""
    return MARKING_ID_TO_TLP.get(ref.lower()) if isinstance(ref, str) else None


def claimed_tlp(definition: dict[str, Any]) -> Tlp | None:
    """The strictest TLP level a marking-definition claims anywhere in its text, if any."""
    text = orjson.dumps({k: v for k, v in definition.items() if k not in ("id", "created_by_ref")}).decode()
    levels = [_TLP_WORDS[re.sub(r"\s", "", m.group(1)).lower()] for m in _TLP_CLAIM.finditer(text)]
    extensions = definition.get("extensions")
    for ext in extensions.values() if isinstance(extensions, dict) else ():
        if isinstance(ext, dict) and isinstance(ext.get("tlp_2_0"), str) and ext["tlp_2_0"].lower() in _TLP_WORDS:
            levels.append(_TLP_WORDS[ext["tlp_2_0"].lower()])
    tlp1 = definition.get("definition")
    if definition.get("definition_type") == "tlp" and isinstance(tlp1, dict) and isinstance(tlp1.get("tlp"), str):
        levels.append(_TLP_WORDS.get(tlp1["tlp"].lower(), Tlp.RED))
    return max(levels) if levels else None


def builtin_verdict(obj: dict[str, Any], stix_id: str) -> tuple[bool, str] | None:
    """For an id of the hub's own objects: (True, note) for the real definition, (False, reason) otherwise.

    None when `stix_id` is not one of them."""
    if stix_id == RECIPIENTS_EXTENSION_ID:
        real = recipients_extension_definition()
        same = all(obj.get(k) == v for k, v in real.items() if k != "id")
        return (True, "the hub's recipients extension-definition (built in, not stored)") if same else (
            False, f"{stix_id} is the hub's recipients extension-definition: it cannot be stored, versioned "
            "or replaced; use another id")
    level = MARKING_ID_TO_TLP.get(stix_id)
    if level is None:
        return None
    claimed = claimed_tlp(obj) if obj.get("type") == "marking-definition" else None
    if stix_id in TLP1_MARKING_IDS:
        same = obj.get("type") == "marking-definition" and obj.get("definition_type") == "tlp" and claimed == level
    else:
        real = tlp2_marking_definition(level)
        same = (obj.get("type") == "marking-definition" and obj.get("name") == real["name"]
                and obj.get("extensions") == real["extensions"] and claimed == level)
    return (True, "standard TLP marking-definition (built in, not stored)") if same else (
        False, f"{stix_id} is the OASIS {level.label} marking-definition: only its exact definition is "
        "accepted (built in, never stored or versioned)")


def refused_definition(obj: dict[str, Any], stix_id: str) -> str | None:
    """Why a submitted marking-definition under a non-OASIS id is refused (it claims a TLP level)."""
    if obj.get("type") != "marking-definition" or stix_id in MARKING_ID_TO_TLP:
        return None
    claimed = claimed_tlp(obj)
    if claimed is None:
        return None
    return (f"{stix_id}: marking-definition claims {claimed.label} but is not the OASIS {claimed.label} "
            f"definition ({_oasis(claimed)}); reference the standard id instead")


def _oasis(level: Tlp) -> str:
    return tlp2_marking_definition(level)["id"]


def _marking_refs(obj: dict[str, Any]) -> list[str]:
    refs = obj.get("object_marking_refs")
    if refs is None:
        return []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ValueError("object_marking_refs must be a list of marking-definition ids")
    return refs


def _granular(obj: dict[str, Any]) -> list[dict[str, Any]]:
    marks = obj.get("granular_markings")
    if marks is None:
        return []
    if not isinstance(marks, list) or not all(isinstance(m, dict) for m in marks):
        raise ValueError("granular_markings must be a list of objects")
    return marks


def normalise_markings(obj: dict[str, Any], refused: set[str]) -> dict[str, Any]:
    """`obj` with its marking refs lower-cased (a copy if any changed; the input is never modified);
    ValueError if one names a refused (TLP-claiming) definition."""
    refs = _marking_refs(obj)
    marks = _granular(obj)
    lowered = [r.lower() for r in refs]
    new_marks = [{**m, "marking_ref": m["marking_ref"].lower()} if isinstance(m.get("marking_ref"), str) else m
                 for m in marks]
    named = set(lowered) | {m["marking_ref"] for m in new_marks if isinstance(m.get("marking_ref"), str)}
    bad = sorted(named & refused)
    if bad:
        raise ValueError(f"references marking-definition {bad[0]}, which claims a TLP level under a "
                         "non-OASIS id and was refused")
    if lowered == refs and new_marks == marks:
        return obj
    out = dict(obj)
    if "object_marking_refs" in obj:
        out["object_marking_refs"] = lowered
    if "granular_markings" in obj:
        out["granular_markings"] = new_marks
    return out


def _top(selector: Any) -> str | None:
    return re.split(r"[.\[]", selector, maxsplit=1)[0] if isinstance(selector, str) and selector else None


def granular_levels(obj: dict[str, Any]) -> list[tuple[Tlp, frozenset[str]]]:
    """(TLP level, top-level properties covered) of each granular TLP marking."""
    out = []
    for mark in _granular(obj):
        level = tlp_of_ref(mark.get("marking_ref"))
        selectors = mark.get("selectors")
        if level is None or not isinstance(selectors, list):
            continue
        out.append((level, frozenset(t for t in map(_top, selectors) if t)))
    return out


def stored_tlp(obj: dict[str, Any]) -> Tlp:
    """The level a version is read at: object markings (none: AMBER+STRICT) raised by any granular
    marking covering a property the object cannot be read without."""
    levels = [t for t in map(tlp_of_ref, _marking_refs(obj)) if t is not None]
    level = max(levels) if levels else Tlp.AMBER_STRICT
    required = _COMMON_REQUIRED | REQUIRED.get(str(obj.get("type")), frozenset())
    for granular, covered in granular_levels(obj):
        if covered & required:
            level = max(level, granular)
    return level


def strip_granular(principal: Principal, meta: ObjectMeta, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without the properties (and their granular markings) `principal` may not read."""
    hidden: set[str] = set()
    keep = []
    for mark in obj.get("granular_markings") or ():
        level = tlp_of_ref(mark.get("marking_ref")) if isinstance(mark, dict) else None
        if level is not None and not may_read(principal, ObjectMeta(level, meta.submitter_code,
                                                                    meta.submitter_member, meta.recipients)):
            hidden.update(t for t in map(_top, mark.get("selectors") or ()) if t)
            continue
        keep.append(mark)
    if not hidden:
        return obj
    out = {k: v for k, v in obj.items() if k not in hidden and k != "granular_markings"}
    if keep:
        out["granular_markings"] = keep
    return out
