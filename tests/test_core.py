"""Core domain types: TLP ordering and ids, principals, exact amounts."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import shared_data
from trilateral.core.amount import format_units, join_amount, parse_units, split_amount
from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp, effective_tlp, tlp2_marking_definitions


def test_no_marking_means_amber_strict_and_several_mean_most_restrictive() -> None:
    assert effective_tlp([]) is Tlp.AMBER_STRICT
    assert effective_tlp([TLP2_MARKING_IDS[Tlp.GREEN], TLP2_MARKING_IDS[Tlp.RED]]) is Tlp.RED
    assert effective_tlp([TLP2_MARKING_IDS[Tlp.CLEAR]]) is Tlp.CLEAR


def test_tlp2_marking_definitions_equal_the_oasis_objects() -> None:
    oasis = json.loads(shared_data("stix_tlp_markings", "tlp2_marking_definitions_stix21.json").read_text())
    assert {o["id"]: o for o in tlp2_marking_definitions()} == {o["id"]: o for o in oasis["objects"]}


def test_client_needs_a_sponsor_and_member_code_is_the_sponsor() -> None:
    with pytest.raises(ValueError):
        Principal("KRX", PrincipalKind.CLIENT)
    assert Principal("UPBIT", PrincipalKind.CLIENT, sponsor="KR").member_code == "KR"


def test_tlp_parse_accepts_common_spellings() -> None:
    assert Tlp.parse("amber+strict") is Tlp.AMBER_STRICT
    assert Tlp.parse("TLP:WHITE") is Tlp.CLEAR
    with pytest.raises(ValueError):
        Tlp.parse("purple")


@given(st.integers(min_value=0, max_value=(1 << 128) - 1))
def test_amount_words_round_trip(value: int) -> None:
    assert join_amount(*split_amount(value)) == value


@given(st.integers(min_value=0, max_value=10**40), st.integers(min_value=0, max_value=30))
def test_units_text_round_trip(value: int, decimals: int) -> None:
    assert parse_units(format_units(value, decimals), decimals) == value


def test_format_units_example() -> None:
    assert format_units(12_500_000_000_000_000_000, 18) == "12.5"


def test_parse_units_is_exact_beyond_28_digits_and_refuses_bad_text() -> None:
    assert parse_units("10000000000000000000000000000.000000000000000001", 18) == 10**46 + 1
    assert parse_units("-1.5", 1) == -15
    for bad in ("", "1.2.3", "abc", "1e5"):
        with pytest.raises(ValueError):
            parse_units(bad, 18)
    with pytest.raises(ValueError):
        parse_units("0.001", 2)
