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
from datetime import UTC, datetime
from typing import Any, NamedTuple

import stix2validator.v21.musts as musts21
import stix2validator.validator as sv
from stix2patterns.v21 import object_validator

from trilateral.hub import stixcheck
from trilateral.hub.types import to_micros

_PLAIN = frozenset({
    "type", "spec_version", "id", "created", "modified", "created_by_ref", "name", "description",
    "indicator_types", "pattern", "pattern_type", "pattern_version", "valid_from", "valid_until",
    "kill_chain_phases", "revoked", "labels", "confidence", "lang", "object_marking_refs",
})
_KILL_CHAIN_KEYS = frozenset({"kill_chain_name", "phase_name"})
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")  # ASCII digits only
_SCHEMA_DIR = os.path.abspath(os.path.dirname(sv.__file__) + "/schemas-2.1/schemas/")  # as the validator spells it


@functools.cache
def _indicator_schema() -> Any:
    """The jsonschema-rs validator stix2-validator's (patched) indicator schema compiles to, or None."""
    path = sv.find_schema(_SCHEMA_DIR, "indicator")
    return getattr(sv.load_validator(path, sv.load_schema(path), _SCHEMA_DIR), "fast", None)


class PlainIndicator(NamedTuple):
    """What the fast path learnt while accepting an indicator, so the hub need not work it out again."""

    modified_us: int  # the version, in microseconds since the epoch (as types.to_micros gives it)
    pattern: stixcheck.PatternData  # the pattern's inspection (as stixcheck.analyse_pattern gives it)


@functools.lru_cache(maxsize=8192)
def _instant(text: str) -> datetime | None:
    """The instant a strict STIX timestamp names, or None (not strict, or not a real instant).

    Memoised: an indicator's created, modified and valid_from are often one text, and a feed's
    bundle repeats a handful of them."""
    if _TIMESTAMP.fullmatch(text) is None or text.startswith("0000"):
        return None
    try:
        return datetime.fromisoformat(text[:-1])  # the strict form above is a subset of what it reads
    except ValueError:  # not a real instant (February 30, 24:00, second 60)
        return None


def _timestamp(obj: dict[str, Any], key: str, millis: bool) -> datetime | None:
    """`obj[key]` as a strict timestamp; with `millis`, one of at least millisecond precision."""
    text = obj.get(key)
    if type(text) is not str or (millis and len(text) < 24):  # "YYYY-MM-DDTHH:MM:SS.fffZ"
        return None
    return _instant(text)


def accepts(obj: Any) -> bool:
    """True only when `obj` is a plain indicator both stix2 and stix2-validator certainly accept."""
    return plain_indicator(obj) is not None


def plain_indicator(obj: Any) -> PlainIndicator | None:
    """What `accepts` decides, with the version and pattern inspection of an accepted indicator."""
    if type(obj) is not dict or obj.get("type") != "indicator" or obj.get("spec_version") != "2.1":
        return None
    if not _PLAIN.issuperset(obj) or obj.get("pattern_type") != "stix" or obj.get("pattern_version", "2.1") != "2.1":
        return None
    schema = _indicator_schema()
    if schema is None or not schema.is_valid(obj):
        return None
    created, modified = _timestamp(obj, "created", True), _timestamp(obj, "modified", True)
    valid_from = _timestamp(obj, "valid_from", False)
    if created is None or modified is None or valid_from is None or modified < created:
        return None
    if "valid_until" in obj:
        valid_until = _timestamp(obj, "valid_until", False)
        if valid_until is None or valid_until <= valid_from:
            return None
    # The schema takes any identifier in these; stix2 insists on the referenced type.
    if not str(obj.get("created_by_ref", "identity--")).startswith("identity--"):
        return None
    for ref in obj.get("object_marking_refs", ()):
        if not ref.startswith("marking-definition--"):
            return None
    for phase in obj.get("kill_chain_phases", ()):
        if phase.keys() != _KILL_CHAIN_KEYS:
            return None
    if "lang" in obj and any(True for _ in musts21.language(obj)):
        return None
    pattern = obj["pattern"]
    try:
        # The plain shapes are read directly, without the memo: the patterns of a feed rarely
        # repeat, and a miss in analyse_pattern's memo costs more than reading one.
        data = stixcheck.fast_inspect(pattern)
        if data is None:
            analysis = stixcheck.analyse_pattern(pattern, "2.1")
            if analysis.errors:
                return None
            data = analysis.data
        elif object_validator.verify_object(data):  # the check analyse_pattern makes of a plain shape
            return None
        if not _names_ok(obj, data):
            return None
    except Exception:  # the pattern libraries crash on some inputs (e.g. ""): the full check reports it
        return None
    return PlainIndicator(to_micros(modified.replace(tzinfo=UTC)), data)


_names_verdicts: dict[tuple[tuple[str, str], ...], bool] = {}


def _names_ok(obj: dict[str, Any], data: Any) -> bool:
    """The validator's check of the object types and property names a valid pattern uses.

    Its verdict (musts.patterns once the syntax is valid) depends only on the (type, first path
    step) pairs, so it is computed once per distinct set of pairs, by the validator itself.
    """
    pairs = [(obj_type, str(exp[0][0])) for obj_type, exps in data.comparisons.items() for exp in exps]
    key = tuple(pairs) if len(pairs) == 1 else tuple(sorted(set(pairs)))
    verdict = _names_verdicts.get(key)
    if verdict is None:
        verdict = not any(True for _ in musts21.patterns(obj, stixcheck.OPTIONS))
        if len(_names_verdicts) < 4096:
            _names_verdicts[key] = verdict
    return verdict
