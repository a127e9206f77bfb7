"""Per-object STIX 2.1 validation with `stix2` and `stix2-validator`, without their per-call setup.

Measured on an indicator (see bench/RESULTS-hub.md): `stix2validator.validate_instance` spent most
of its ~2.6 ms in setup that is the same for every object of a type, and the STIX pattern was parsed
three times by ANTLR (once by `stix2`, twice by the validator). What we change, once per process:

1. `load_schema` re-read and re-parsed the JSON schema file on every call: now cached per path.
2. `load_validator` built a new `referencing.Registry` per call, so every `$ref` re-crawled the
   schema set: now one validator per schema, over a registry preloaded with every schema file of
   the directory and crawled once. Even then the interpreted `jsonschema` walk cost ~1 ms per
   indicator, so the same (patched) schema is also compiled once with `jsonschema-rs`; an object it
   accepts is accepted, and an object it rejects goes through the original validator, whose verdict
   and messages are reported (tests/hub/test_stixcheck.py checks both agree on a corpus).
3. Pattern checks: `stix2` and the validator each call `stix2patterns.validator.run_validator` and
   the validator then re-parses with `Pattern(...).inspect()`. All three now go through one memo
   keyed by the pattern text; for the common shape of one or more `type:path = 'literal'` comparisons
   joined by AND/OR inside one `[...]`, a strict regular expression produces the same inspection
   result the ANTLR grammar would (tests/hub/test_stixcheck.py compares both on many patterns),
   and the ANTLR parse is skipped. Anything else goes to ANTLR as before.

4. Timestamps: the validator parses each timestamp with `dateutil.parser.parse` and `stix2` with
   `strptime`; both are pure functions of the text and bundles repeat the same timestamps, so both
   are memoised (LRU, 65,536 entries).

Every check of both libraries still runs on every object; only repeated setup is removed.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import stix2
import stix2.properties as stix2_properties
import stix2.utils as stix2_utils
import stix2.v21.sdo as stix2_sdo
import stix2validator.v21.musts as musts21
import stix2validator.validator as sv
from dateutil import parser as dateutil_parser
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from stix2patterns.v21 import object_validator
from stix2patterns.v21.pattern import Pattern as _AntlrPattern
from stix2patterns.validator import run_validator as _antlr_run_validator

OPTIONS = sv.ValidationOptions(version="2.1", strict=False)

# --- 1 and 2: schema and validator caches -------------------------------------------------------
_original_load_schema = sv.load_schema
_original_retrieve = sv.retrieve_from_filesystem
_validators: dict[tuple[str, str], Any] = {}
_base_registries: dict[str, Registry] = {}


@functools.cache
def _cached_load_schema(schema_path: str) -> dict[str, Any]:
    return _original_load_schema(schema_path)


def _base_registry(schema_dir: str) -> Registry:
    registry = _base_registries.get(schema_dir)
    if registry is None:
        retrieve = functools.partial(_original_retrieve, schema_dir=schema_dir)
        registry = Registry(retrieve=retrieve)  # type: ignore[call-arg]
        for path in sorted(Path(schema_dir).rglob("*.json")):
            if "examples" in path.parts:
                continue
            uri = path.as_uri()
            registry = registry.with_resource(uri, retrieve(uri))
        registry = registry.crawl()
        _base_registries[schema_dir] = registry
    return registry


def _cached_load_validator(schema_path: str, schema: dict[str, Any], schema_dir: str) -> Any:
    key = (schema_path, schema_dir)
    validator = _validators.get(key)
    if validator is None:
        if schema_path in sv._PATCHED_SCHEMAS:
            patched = sv._PATCHED_SCHEMAS[schema_path]
        else:
            patched = sv.patch_schema(schema, schema_path)
            sv._PATCHED_SCHEMAS[schema_path] = patched
        registry = _base_registry(schema_dir).with_resource(
            schema_path, DRAFT202012.create_resource(patched)).crawl()
        exact = sv.STIXValidator(patched, registry=registry,
                                 format_checker=sv.Draft202012Validator.FORMAT_CHECKER)
        validator = _FastThenExact(_compile_fast(patched, schema_dir), exact)
        _validators[key] = validator
    return validator


def _compile_fast(schema: dict[str, Any], schema_dir: str) -> Any:
    """The same schema compiled by jsonschema-rs (Rust), or None if it cannot compile it."""
    try:
        import jsonschema_rs
    except ImportError:
        return None

    def retrieve(uri: str) -> Any:
        return _original_retrieve(uri, schema_dir).contents

    try:
        return jsonschema_rs.validator_for(schema, retriever=retrieve, validate_formats=True)
    except Exception:  # an unsupported construct: keep the exact validator alone
        return None


class _FastThenExact:
    """Accepts through the compiled schema; anything it rejects is re-checked by the original
    (Python) validator, whose verdict and messages are the ones reported. So a valid object costs
    one compiled check and a rejected one is judged exactly as stix2-validator judges it."""

    def __init__(self, fast: Any, exact: Any) -> None:
        self.fast, self.exact = fast, exact

    def iter_errors(self, instance: Any) -> Any:
        if self.fast is not None and self.fast.is_valid(instance):
            return iter(())
        return self.exact.iter_errors(instance)


# --- 3: one pattern analysis shared by stix2 and stix2-validator ---------------------------------
class PatternData(NamedTuple):
    comparisons: dict[str, list[tuple[list[Any], str, str]]]
    observation_ops: set[str]
    qualifiers: set[str]


_TYPE = r"[a-z][a-z0-9-]*[a-z0-9]"
_STEP = r"(?:[a-z_][a-z0-9_]*|'[A-Za-z0-9_-]+')"
_PATH = rf"[a-z_][a-z0-9_]*(?:\.{_STEP})*"
_LITERAL = r"'(?:[^'\\]++|\\['\\])*+'"  # possessive: same matches, 3x faster on long literals
_COMPARISON = rf"\s*({_TYPE}):({_PATH})\s*=\s*({_LITERAL})\s*"  # groups: type, path, literal
_SINGLE = re.compile(rf"\[{_COMPARISON}\]")
_SIMPLE = re.compile(rf"^\[{_COMPARISON}(?:(?:AND|OR){_COMPARISON})*\]$")
_ONE = re.compile(rf"(?:^\[|AND|OR){_COMPARISON}")
_STEP_SPLIT = re.compile(rf"\.({_STEP})")


def fast_inspect(pattern: str) -> PatternData | None:
    """Inspection of a plain `[t:p = 'v' (AND|OR t:p = 'v')*]` pattern, or None for anything else.

    One comparison, the shape of nearly every feed's indicator, is read with a single match."""
    single = _SINGLE.fullmatch(pattern)
    if single is not None:
        return PatternData({single.group(1): [(_path_steps(single.group(2)), "=", single.group(3))]}, set(), set())
    if not _SIMPLE.match(pattern):
        return None
    comparisons: dict[str, list[tuple[list[Any], str, str]]] = {}
    for m in _ONE.finditer(pattern):
        comparisons.setdefault(m.group(1), []).append((_path_steps(m.group(2)), "=", m.group(3)))
    return PatternData(comparisons, set(), set())


def _path_steps(path: str) -> list[Any]:
    """The steps of a matched object path (`hashes.'SHA-256'` -> ["hashes", "SHA-256"]), as ANTLR lists them."""
    if "." not in path:
        return [path]
    head = path.split(".", 1)[0]
    return [head] + [s.strip("'") for s in _STEP_SPLIT.findall(path[len(head):])]


class _Analysis(NamedTuple):
    errors: list[str]
    data: Any


_analyses: OrderedDict[tuple[str, str], _Analysis] = OrderedDict()
_ANALYSES_MAX = 4096


def analyse_pattern(pattern: str, version: str = "2.1") -> _Analysis:
    """Errors and inspection of a STIX pattern, memoised (each pattern is parsed at most once)."""
    key = (pattern, version)
    hit = _analyses.get(key)
    if hit is not None:
        return hit
    data = fast_inspect(pattern) if version == "2.1" else None
    if data is not None:
        result = _Analysis(object_validator.verify_object(data), data)
    else:
        errors = _antlr_run_validator(pattern, version)
        inspected = None
        if not errors:
            inspected = _AntlrPattern(pattern).inspect()
        result = _Analysis(list(errors), inspected)
    _analyses[key] = result
    if len(_analyses) > _ANALYSES_MAX:
        _analyses.popitem(last=False)
    return result


def _memo_run_validator(pattern: str, stix_version: str = "2.1") -> list[str]:
    return list(analyse_pattern(pattern, stix_version).errors)


class _MemoPattern:
    """Stands in for stix2patterns' Pattern inside the validator's pattern check."""

    def __init__(self, pattern: str) -> None:
        self._analysis = analyse_pattern(pattern, "2.1")
        if self._analysis.data is None:
            _AntlrPattern(pattern)  # raises the parse error exactly as before

    def inspect(self) -> Any:
        return self._analysis.data


# --- 4: timestamp parsing, a pure function of the text, memoised ---------------------------------
class _MemoDateutil:
    """Stands in for `dateutil.parser` in the validator's timestamp checks (same result, cached)."""

    @staticmethod
    @functools.lru_cache(maxsize=65536)
    def _parse(text: str) -> datetime:
        return dateutil_parser.parse(text)

    def parse(self, text: Any, *args: Any, **kwargs: Any) -> datetime:
        if args or kwargs or not isinstance(text, str):
            return dateutil_parser.parse(text, *args, **kwargs)
        return self._parse(text)


_original_parse_into_datetime = stix2_utils.parse_into_datetime


@functools.lru_cache(maxsize=65536)
def _memo_parse_into_datetime_key(value: str, precision: Any, constraint: Any) -> Any:
    return _original_parse_into_datetime(value, precision, constraint)


def _memo_parse_into_datetime(value: Any, precision: Any = stix2_utils.Precision.ANY,
                              precision_constraint: Any = stix2_utils.PrecisionConstraint.EXACT) -> Any:
    # STIXdatetime is an immutable datetime subclass, so sharing one instance is safe.
    if isinstance(value, str):
        return _memo_parse_into_datetime_key(value, precision, precision_constraint)
    return _original_parse_into_datetime(value, precision, precision_constraint)


musts21.parser = _MemoDateutil()
musts21.datetime_from_str = functools.lru_cache(maxsize=65536)(musts21.datetime_from_str)
stix2_properties.parse_into_datetime = _memo_parse_into_datetime
sv.load_schema = _cached_load_schema
sv.load_validator = _cached_load_validator
musts21.pattern_validator = _memo_run_validator
musts21.Pattern = _MemoPattern
stix2_sdo.run_validator = _memo_run_validator


def check_object(obj: dict[str, Any]) -> str | None:
    """None when `obj` is valid STIX 2.1 for both libraries, else one line saying why.

    Plain indicators that stixfast certainly accepts skip the libraries; everything else, and every
    rejection, is judged by `full_check`."""
    from trilateral.hub import stixfast  # imports this module

    if stixfast.accepts(obj):
        return None
    return full_check(obj)


def full_check(obj: dict[str, Any]) -> str | None:
    """The verdict of `stix2.parse` and `stix2validator.validate_instance` themselves."""
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except Exception as exc:  # stix2 raises many exception types; all mean "invalid"
        return f"stix2: {_one_line(exc)}"
    try:
        result = sv.validate_instance(obj, OPTIONS)
    except Exception as exc:
        return f"stix2-validator: {_one_line(exc)}"
    if not result.is_valid:
        messages = "; ".join(e.message for e in result.errors[:3])
        return f"stix2-validator: {_one_line(messages)}"
    return None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:500]


def warm() -> None:
    """Load both libraries and compile the schemas now (seconds), not on a server's first POST."""
    from trilateral.hub import stixfast

    sample = {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
              "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
              "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
              "valid_from": "2026-01-01T00:00:00Z"}
    if full_check(sample) is not None or not stixfast.accepts(sample):
        raise RuntimeError("STIX validation libraries reject the built-in sample indicator")
