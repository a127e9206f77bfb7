"""A conservative fast acceptance test for plain STIX 2.1 indicators.

Why: indicators are the bulk of what members share (feeds of addresses, domains, hashes), and the
full check (`stix2.parse` + `stix2-validator`, see stixcheck.py) costs ~300-600 µs per indicator in
pure Python, which caps a TAXII POST at ~2,000 objects/s. Neither library offers a cheaper mode
that keeps its verdict, so this module answers one narrower question by hand: "is this indicator
certainly valid for both libraries?"

`accepts(obj)` returns True only for an indicator built from a closed set of plain properties (no
custom properties, no extensions, no granular markings, no external references), that

- passes the validator's own indicator JSON schema (compiled by jsonschema-rs, the same compiled
  schema stixcheck.py uses), and names only identities in `created_by_ref` and only marking
  definitions in `object_marking_refs` (stix2 checks that; the schema does not),
- has timestamps in the exact `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` form naming a real instant (what
  `dateutil` and `stix2`'s `strptime` both accept; 7+ fraction digits, year 0 and the rest go to the
  full check), with `modified >= created` and `valid_until > valid_from`,
- has a STIX 2.1 pattern (`pattern_type` "stix") free of errors under stixcheck's memoised pattern
  analysis and the validator's own pattern and language checks (called here directly).

Anything else returns False and goes through the full check, whose verdict and messages are the
ones reported: a False here never rejects anything. tests/hub/test_stixfast.py generates thousands
of mutated indicators and checks that every one this accepts the full check accepts too.
"""

from __future__ import annotations

import functools
import os
import re
from datetime import datetime
from typing import Any

import stix2validator.v21.musts as musts21
import stix2validator.validator as sv

from trilateral.hub import stixcheck

_PLAIN = frozenset({
    "type", "spec_version", "id", "created", "modified", "created_by_ref", "name", "description",
    "indicator_types", "pattern", "pattern_type", "pattern_version", "valid_from", "valid_until",
    "kill_chain_phases", "revoked", "labels", "confidence", "lang", "object_marking_refs",
})
_KILL_CHAIN_KEYS = frozenset({"kill_chain_name", "phase_name"})
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z")
_SCHEMA_DIR = os.path.abspath(os.path.dirname(sv.__file__) + "/schemas-2.1/schemas/")  # as the validator spells it
@functools.cache
def _indicator_schema() -> Any:
    """The jsonschema-rs validator stix2-validator's (patched) indicator schema compiles to, or None."""
    path = sv.find_schema(_SCHEMA_DIR, "indicator")
    return getattr(sv.load_validator(path, sv.load_schema(path), _SCHEMA_DIR), "fast", None)


def _instant(text: Any, millis: bool) -> datetime | None:
    """The instant a strict STIX timestamp names, or None (not strict, not real, or not precise enough)."""
    if type(text) is not str:
        return None
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction = m.groups()
    if year == "0000" or (millis and (fraction is None or len(fraction) < 3)):
        return None
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                        int(fraction.ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None


def accepts(obj: Any) -> bool:
    """True only when `obj` is a plain indicator both stix2 and stix2-validator certainly accept."""
    if type(obj) is not dict or obj.get("type") != "indicator" or obj.get("spec_version") != "2.1":
        return False
    if not _PLAIN.issuperset(obj) or obj.get("pattern_type") != "stix" or obj.get("pattern_version", "2.1") != "2.1":
        return False
    schema = _indicator_schema()
    if schema is None or not schema.is_valid(obj):
        return False
    created, modified = _instant(obj["created"], True), _instant(obj["modified"], True)
    valid_from = _instant(obj["valid_from"], False)
    if created is None or modified is None or valid_from is None or modified < created:
        return False
    if "valid_until" in obj:
        valid_until = _instant(obj["valid_until"], False)
        if valid_until is None or valid_until <= valid_from:
            return False
    # The schema takes any identifier in these; stix2 insists on the referenced type.
    if not str(obj.get("created_by_ref", "identity--")).startswith("identity--"):
        return False
    for ref in obj.get("object_marking_refs", ()):
        if not ref.startswith("marking-definition--"):
            return False
    for phase in obj.get("kill_chain_phases", ()):
        if phase.keys() != _KILL_CHAIN_KEYS:
            return False
    try:
        analysis = stixcheck.analyse_pattern(obj["pattern"], "2.1")
        if analysis.errors:
            return False
        return _names_ok(obj, analysis.data) and not any(True for _ in musts21.language(obj))
    except Exception:  # the pattern libraries crash on some inputs (e.g. ""): the full check reports it
        return False


_names_verdicts: dict[tuple[tuple[str, str], ...], bool] = {}


def _names_ok(obj: dict[str, Any], data: Any) -> bool:
    """The validator's check of the object types and property names a valid pattern uses.

    Its verdict (musts.patterns once the syntax is valid) depends only on the (type, first path
    step) pairs, so it is computed once per distinct set of pairs, by the validator itself.
    """
    key = tuple(sorted({(obj_type, str(exp[0][0])) for obj_type, exps in data.comparisons.items() for exp in exps}))
    verdict = _names_verdicts.get(key)
    if verdict is None:
        verdict = not any(True for _ in musts21.patterns(obj, stixcheck.OPTIONS))
        if len(_names_verdicts) < 4096:
            _names_verdicts[key] = verdict
    return verdict
