"""Observable normal forms used for correlation."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trilateral.hub.observables import normalise, observables_of


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("ipv4", " 198.51.100.7 ", "198.51.100.7"),
    ("ipv4", "198.51.100.0/24", "198.51.100.0/24"),
    ("ipv4", "999.1.1.1", None),
    ("ipv6", "2001:DB8:0:0::1", "2001:db8::1"),
    ("domain", "Evil.Example.", "evil.example"),
    ("url", "HTTP://Evil.Example:8080/a?b=1#frag", "http://evil.example:8080/a?b=1"),
    ("email", "Bad.Guy@Example.COM", "bad.guy@example.com"),
    ("wallet", "0x52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886e0f7030069857d2e4169ee7"),
    ("wallet", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    ("wallet", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ("sha256", "AEC070645FE53EE3", "aec070645fe53ee3"),
])
def test_normal_forms(kind: str, raw: str, expected: str | None) -> None:
    assert normalise(kind, raw) == expected


def test_values_come_from_equality_comparisons_in_patterns_only() -> None:
    ind = {"type": "indicator", "pattern_type": "stix",
           "pattern": "[domain-name:value = 'A.example' OR url:value LIKE 'http://b.example/%'] AND "
                      "[file:hashes.'SHA-256' = '" + "AB" * 32 + "' AND cryptocurrency-wallet:address = '0xAbC']"}
    assert observables_of(ind) == {("domain", "a.example"), ("sha256", "ab" * 32), ("wallet", "0xAbC")}


def test_values_come_from_scos_and_observed_data() -> None:
    assert observables_of({"type": "ipv4-addr", "value": "10.0.0.1"}) == {("ipv4", "10.0.0.1")}
    od = {"type": "observed-data", "objects": {"0": {"type": "email-addr", "value": "X@Y.example"},
                                              "1": {"type": "file", "hashes": {"MD5": "ABCD"}}}}
    assert observables_of(od) == {("email", "x@y.example"), ("md5", "abcd")}


_OCTETS = st.one_of(st.integers(0, 300).map(str), st.integers(0, 99).map(lambda n: f"0{n}"),
                    st.sampled_from(["", "-1", "1e2", "0x1f", "٣", " 7"]))


@settings(max_examples=2000, deadline=None)
@given(st.lists(_OCTETS, min_size=3, max_size=5).map(".".join))
def test_ipv4_fast_path_agrees_with_ipaddress(raw: str) -> None:
    """The dotted-quad fast path answers exactly what `ipaddress` answers, for valid and invalid text."""
    try:
        expected: str | None = str(ipaddress.ip_network(raw.strip(), strict=False)).removesuffix("/32")
    except ValueError:
        expected = None
    assert normalise("ipv4", raw) == expected


# Wallet spellings of real feeds (STIX 2.1 has no core wallet SCO): OpenCTI 5+, OpenCTI 4, dogesec's
# extension SCO, and the x- types of smaller tools; each with `value` or `address`.
WALLET_SPELLINGS = [(t, p) for t in ("cryptocurrency-wallet", "x-opencti-cryptocurrency-wallet",
                                     "x-cryptocurrency-wallet", "x-crypto-wallet") for p in ("value", "address")]


@pytest.mark.parametrize(("sco_type", "prop"), WALLET_SPELLINGS)
def test_wallet_patterns_and_scos_of_every_feed_spelling_name_the_wallet(sco_type: str, prop: str) -> None:
    address = "0x52908400098527886E0F7030069857D2E4169EE7"
    ind = {"type": "indicator", "pattern_type": "stix", "pattern": f"[{sco_type}:{prop} = '{address}']"}
    assert observables_of(ind) == {("wallet", address.lower())}  # the usual normal form
    assert observables_of({"type": sco_type, prop: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}) == {
        ("wallet", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")}


def test_wallet_type_properties_other_than_the_address_name_no_wallet() -> None:
    ind = {"type": "indicator", "pattern_type": "stix",
           "pattern": "[cryptocurrency-wallet:x_chain = 'ethereum' AND cryptocurrency-wallet:value != '0xab']"}
    assert observables_of(ind) == set()
