"""stixfast never accepts an indicator the full check (stix2 + stix2-validator) rejects, and it does
accept the plain indicators that feeds carry (or the hub would silently be slow again)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilateral.hub import stixcheck, stixfast
from trilateral.hub.types import parse_timestamp, to_micros

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def plain_indicator(n: int = 7) -> dict[str, Any]:
    stamp = f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:{(n // 60) % 60:02d}.000Z"
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n * 7919, version=4)}",
            "created": stamp, "modified": stamp, "name": f"wallet {n}", "pattern_type": "stix",
            "pattern": f"[cryptocurrency-wallet:address = '0x{n:040x}']", "valid_from": stamp,
            "object_marking_refs": [GREEN]}


def test_plain_indicators_take_the_fast_path_and_the_full_check_agrees() -> None:
    for n in range(200):
        obj = plain_indicator(n)
        assert stixfast.accepts(obj), obj
        assert stixcheck.full_check(obj) is None


def test_a_rejected_object_is_reported_by_the_full_check() -> None:
    obj = plain_indicator()
    obj["valid_until"] = "2025-01-01T00:00:00Z"  # before valid_from
    assert not stixfast.accepts(obj)
    reason = stixcheck.check_object(obj)
    assert reason is not None and "valid_until" in reason


digits = st.text(alphabet="0123456789", min_size=1, max_size=4)
timestamps = st.one_of(
    st.builds(lambda y, mo, d, h, mi, s, f, z: f"{y}-{mo}-{d}T{h}:{mi}:{s}{f}{z}",
              st.sampled_from(["2026", "2024", "1900", "0000", "0001", "9999", "226"]),
              st.sampled_from(["01", "02", "12", "13", "00", "2"]),
              st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
              st.sampled_from(["00", "23", "24", "7"]),
              st.sampled_from(["00", "59", "60"]),
              st.sampled_from(["00", "59", "60", "61"]),
              st.sampled_from(["", ".", ".1", ".12", ".123", ".123456", ".1234567", ".123456789", ".12a"]),
              st.sampled_from(["Z", "", "+00:00", "z"])),
    st.text(max_size=30),
    st.integers(),
    st.none(),
)
patterns = st.one_of(
    st.sampled_from([
        "[ipv4-addr:value = '198.51.100.1']", "[domain-name:value = 'x.example']",
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.'SHA-256' = 'nope']", "[file:hashes.MD5 = 'zz']", "[ipv4-addr:value = '1.2.3.4'",
        "[ipv4-addr:valu = '1.2.3.4']", "[Ipv4-addr:value = '1.2.3.4']", "[ab:value = 'x']",
        "[a:value = 'x']", "[x-thing:Bad = 'v']", "[x-thing:ok_prop = 'v']", "[email-addr:value = 'a' OR url:value = 'b']",
        "[network-traffic:dst_port = 443]", "[file:name LIKE 'a%']", "[ipv4-addr:value = 'a\\'b']",
        "[ipv4-addr:value = 'a\\b']", "[ipv4-addr:value = 'a'] AND [url:value = 'b']", "", "[]",
        "[cryptocurrency-wallet:address = '0xabc'] WITHIN 5 SECONDS", "[x509-certificate:serial_number = '1']",
    ]),
    st.text(max_size=40).map(lambda t: f"[ipv4-addr:value = '{t}']"),
    st.text(max_size=40),
)
any_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                        max_leaves=6)
mutations = st.one_of(
    st.tuples(st.sampled_from(["created", "modified", "valid_from", "valid_until"]), timestamps),
    st.tuples(st.just("pattern"), patterns),
    st.tuples(st.just("pattern_version"), st.sampled_from(["2.1", "2.0", "2.2", "", "2"])),
    st.tuples(st.just("pattern_type"), st.sampled_from(["stix", "snort", "STIX", "", 1])),
    st.tuples(st.just("lang"), st.sampled_from(["en", "ko", "ja", "en-US", "xx", "", "EN"])),
    st.tuples(st.just("confidence"), st.one_of(st.integers(-5, 105), st.floats(-1, 101), st.booleans())),
    st.tuples(st.sampled_from(["labels", "indicator_types"]),
              st.one_of(st.lists(st.text(max_size=5), max_size=3), st.lists(st.integers(), max_size=2), st.text(max_size=3))),
    st.tuples(st.just("kill_chain_phases"), st.lists(st.one_of(
        st.fixed_dictionaries({"kill_chain_name": st.text(max_size=5), "phase_name": st.text(max_size=5)}),
        st.dictionaries(st.sampled_from(["kill_chain_name", "phase_name", "x_extra"]), st.text(max_size=3) | st.integers()),
    ), max_size=2)),
    st.tuples(st.just("id"), st.sampled_from([
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f",
        "indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f", "indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F",
        "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
        "indicator--00000000-0000-0000-0000-000000000000", "indicator--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f"])),
    st.tuples(st.just("object_marking_refs"), st.one_of(
        st.just([GREEN]), st.just([]), st.just([GREEN, GREEN]), st.just(["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
        st.just(["marking-definition--bad"]), st.lists(st.text(max_size=4), max_size=2))),
    st.tuples(st.just("created_by_ref"), st.sampled_from([
        "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "x", 3])),
    st.tuples(st.sampled_from(["name", "description", "revoked", "spec_version", "type"]),
              st.one_of(st.text(max_size=5), st.booleans(), st.integers(), st.sampled_from(["2.1", "2.0", "indicator"]))),
    st.tuples(st.sampled_from(["x_custom", "granular_markings", "extensions", "external_references", "Bad-Prop", "id2"]),
              any_json),
    st.tuples(st.sampled_from(["created", "modified", "pattern", "valid_from", "pattern_type", "id", "spec_version"]),
              st.just(None)),  # None below means "drop the property"
    st.tuples(st.sampled_from(["name", "labels", "confidence", "lang"]), any_json),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 10_000), changes=st.lists(mutations, min_size=1, max_size=4))
def test_fast_acceptance_implies_full_acceptance(n: int, changes: list[tuple[str, Any]]) -> None:
    obj = plain_indicator(n)
    for key, value in changes:
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    plain = stixfast.plain_indicator(obj)
    if plain is not None:
        assert stixcheck.full_check(obj) is None, obj
        # what it hands the hub is what the slow path would work out
        assert plain.modified_us == to_micros(parse_timestamp(obj["modified"])), obj
        assert plain.pattern == stixcheck.analyse_pattern(obj["pattern"]).data, obj
