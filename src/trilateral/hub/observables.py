"""Observable values in normal form, from indicator patterns and from SCOs, for correlation.

Patterns are read with the same inspection `stixcheck.analyse_pattern` already computed during
validation (regular-expression fast path or the ANTLR grammar), never with an ad-hoc regex over the
raw text: a regex would also match values inside string literals of unrelated comparisons, or miss
escaped quotes. Only equality comparisons (`=`) name a value; `LIKE`, `MATCHES`, `IN` and negations
do not identify one thing and are skipped.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from trilateral.hub.stixcheck import PatternData, analyse_pattern

MAX_VALUE_LENGTH = 1024
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
# a dotted quad already in normal form (no leading zeros, no prefix): `ipaddress` would return it
# unchanged, at ~10 µs a value, most of what reading an address indicator costs
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_HASH_KINDS = {"MD5": "md5", "SHA-1": "sha1", "SHA1": "sha1", "SHA-256": "sha256", "SHA256": "sha256",
               "SHA-512": "sha512", "SHA512": "sha512", "SHA3-256": "sha3-256", "SSDEEP": "ssdeep",
               "TLSH": "tlsh"}

# Cryptocurrency wallets: STIX 2.1 has no wallet SCO in its core, so feeds name the type and its
# property differently, and a wallet indicator matches screening only if its spelling is here:
# - OpenCTI 5 and later: `cryptocurrency-wallet:value` (pycti's custom observable has only `value`;
#   the platform's pattern generator, opencti-graphql/src/python/runtime/stix2_create_pattern.py,
#   writes `[cryptocurrency-wallet:value = '…']`; feed scripts written for OpenCTI do the same);
# - OpenCTI 4: `x-opencti-cryptocurrency-wallet:value` (still in older exports and mirrors);
# - dogesec's stix2extensions (an extension-definition SCO used by txt2stix/CTI Butler):
#   `cryptocurrency-wallet:address`;
# - smaller tools and feeds: `x-cryptocurrency-wallet` / `x-crypto-wallet`, with either property.
# MISP (misp-stix) has no wallet pattern: `btc`/`xmr` attributes leave as `x-misp-attribute` custom
# objects, which are not indicators. Every spelling accepts both properties: they disagree only on
# the name, never on what the value is.
_WALLET_TYPES = ("cryptocurrency-wallet", "x-opencti-cryptocurrency-wallet", "x-cryptocurrency-wallet",
                 "x-crypto-wallet")
_WALLET_PROPERTIES = ("address", "value")

# (object type, first path step) -> kind of value
_PATTERN_PATHS = {
    ("ipv4-addr", "value"): "ipv4",
    ("ipv6-addr", "value"): "ipv6",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    **{(wallet_type, prop): "wallet" for wallet_type in _WALLET_TYPES for prop in _WALLET_PROPERTIES},
}


def normalise(kind: str, raw: str) -> str | None:
    """The normal form of a value of `kind`, or None when it is not a valid value of that kind."""
    value = raw.strip()
    if not value:
        return None
    try:
        if kind == "ipv4":
            if _CANONICAL_IPV4.fullmatch(value):
                return value
            return str(ipaddress.ip_network(value, strict=False)).removesuffix("/32")
        if kind == "ipv6":
            return str(ipaddress.ip_network(value, strict=False)).removesuffix("/128")
    except ValueError:
        return None
    if kind == "domain":
        value = value.rstrip(".").lower()
        try:
            return value.encode("idna").decode("ascii")
        except UnicodeError:
            return value
    if kind == "url":
        try:
            parts = urlsplit(value)
        except ValueError:
            return None
        host = (parts.hostname or "").rstrip(".").lower()
        netloc = host + (f":{parts.port}" if parts.port else "") if host else parts.netloc
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    if kind == "email":
        return value.lower()
    if kind == "wallet":
        # EVM addresses are case-insensitive hex (EIP-55 case is only a checksum): lower-case.
        # base58 (Bitcoin legacy, Tron, Solana) is case-sensitive: exact. bech32 is defined
        # case-insensitively but written lower-case: lower-case a value that is all one case.
        if _EVM.match(value):
            return value.lower()
        if value[:4].lower() in ("bc1q", "bc1p", "tb1q", "tb1p") and (value.isupper() or value.islower()):
            return value.lower()
        return value
    if kind.startswith(("md5", "sha", "tlsh")):
        return value.lower()
    return value


def _hash_kind(name: str) -> str | None:
    return _HASH_KINDS.get(name.strip("'").upper())


def _unquote(literal: str) -> str | None:
    if len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return None


def from_pattern(pattern: str) -> Iterator[tuple[str, str]]:
    analysis = analyse_pattern(pattern)
    if analysis.errors or analysis.data is None:
        return
    yield from from_pattern_data(analysis.data)


def from_pattern_data(data: PatternData) -> Iterator[tuple[str, str]]:
    """The (kind, raw value) pairs of a valid pattern's inspection."""
    for obj_type, comparisons in data.comparisons.items():
        for path, op, literal in comparisons:
            if op != "=" or not path:
                continue
            raw = _unquote(literal)
            if raw is None:
                continue
            kind = _PATTERN_PATHS.get((obj_type, path[0]))
            if kind is None and obj_type in ("file", "artifact") and path[0] == "hashes" and len(path) == 2:
                kind = _hash_kind(str(path[1]))
            if kind is not None:
                yield kind, raw


def from_sco(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    kind = {"ipv4-addr": "ipv4", "ipv6-addr": "ipv6", "domain-name": "domain", "url": "url",
            "email-addr": "email"}.get(obj.get("type", ""))
    if kind and isinstance(obj.get("value"), str):
        yield kind, obj["value"]
    if obj.get("type") in _WALLET_TYPES:  # the SCOs of the same spellings as patterns
        for prop in _WALLET_PROPERTIES:
            if isinstance(obj.get(prop), str):
                yield "wallet", obj[prop]
    if obj.get("type") in ("file", "artifact") and isinstance(obj.get("hashes"), dict):
        for name, value in obj["hashes"].items():
            kind = _hash_kind(name)
            if kind and isinstance(value, str):
                yield kind, value


def observables_of(obj: dict[str, Any], pattern: PatternData | None = None) -> set[tuple[str, str]]:
    """Normalised (kind, value) pairs named by an indicator's STIX pattern, an SCO, or observed-data.

    `pattern`: the indicator's pattern inspection, when validation already has it."""
    found: list[tuple[str, str]] = []
    stix_type = obj.get("type")
    if pattern is not None:
        found.extend(from_pattern_data(pattern))
    elif stix_type == "indicator" and obj.get("pattern_type") == "stix" and isinstance(obj.get("pattern"), str):
        found.extend(from_pattern(obj["pattern"]))
    elif stix_type == "observed-data" and isinstance(obj.get("objects"), dict):
        for sco in obj["objects"].values():
            if isinstance(sco, dict):
                found.extend(from_sco(sco))
    else:
        found.extend(from_sco(obj))
    out = set()
    for kind, raw in found:
        value = normalise(kind, raw)
        if value is not None and len(value) <= MAX_VALUE_LENGTH:
            out.add((kind, value))
    return out
