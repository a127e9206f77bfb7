"""The validation fast paths give the same answers as the libraries' own slow paths."""

from __future__ import annotations

import copy
import uuid

import pytest
import stix2validator.validator as sv
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from trilateral.hub import stixcheck

PATTERNS = [
    "[ipv4-addr:value = '198.51.100.1']",
    "[domain-name:value = 'evil.example']",
    "[url:value = 'http://x.example/a?b=c']",
    "[email-addr:value = 'a@b.example' OR email-addr:value = 'c@d.example']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[file:hashes.'SHA-256' = 'not-a-hash']",
    "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef' AND file:name = 'it\\'s.exe']",
    "[cryptocurrency-wallet:address = '0x52908400098527886E0F7030069857D2E4169EE7']",
    "[network-traffic:dst_port = 443]",
    "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.example']",
    "[file:name LIKE 'a%']",
    "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
    "[ipv4-addr:value = '1.2.3.4'",
    "[x-custom-thing:some_prop = 'v']",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_fast_path_matches_the_antlr_grammar(pattern: str) -> None:
    fast = stixcheck.fast_inspect(pattern)
    errors = run_validator(pattern, "2.1")
    analysis = stixcheck.analyse_pattern(pattern)
    assert list(analysis.errors) == list(errors)
    if fast is not None:
        assert dict(fast.comparisons) == dict(Pattern(pattern).inspect().comparisons)


def _indicator() -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '1.2.3.4']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}


MUTATIONS = [
    {}, {"id": "indicator--nope"}, {"created": "2026-13-01T00:00:00Z"}, {"labels": "x"}, {"confidence": 101},
    {"external_references": [{"source_name": "x", "url": "not a url"}]}, {"lang": 5}, {"revoked": "yes"},
    {"object_marking_refs": ["identity--0f7c4c7e-8a5e-4b8e-9d59-1c1f6f1a9a01"]}, {"pattern_type": 3},
    {"kill_chain_phases": [{"kill_chain_name": "x"}]}, {"valid_until": "2025-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[",".join(m) or "valid" for m in MUTATIONS])
def test_compiled_schema_agrees_with_the_python_schema_validator(mutation: dict) -> None:
    obj = dict(_indicator(), **mutation)
    stixcheck.check_object(_indicator())  # builds the validators
    [validator] = [v for (path, _), v in stixcheck._validators.items() if path.endswith("sdos/indicator.json")]
    assert validator.fast is not None
    assert validator.fast.is_valid(obj) == (not list(validator.exact.iter_errors(obj)))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[",".join(m) or "valid" for m in MUTATIONS])
def test_check_object_accepts_exactly_what_both_libraries_accept(mutation: dict) -> None:
    import stix2

    obj = dict(_indicator(), **mutation)
    try:
        stix2.parse(copy.deepcopy(obj), allow_custom=True, version="2.1")
        accepted = sv.validate_instance(copy.deepcopy(obj), stixcheck.OPTIONS).is_valid
    except Exception:
        accepted = False
    assert (stixcheck.check_object(obj) is None) == accepted
