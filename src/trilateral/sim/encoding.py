"""Byte-level encodings the real tools write: 0x hex (vectorised), ABI words, event topics, bech32."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from Crypto.Hash import keccak

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# HEX_PAIRS[b] = the two ASCII hex digits of byte b
HEX_PAIRS = np.stack([_HEX_DIGITS[np.arange(256) >> 4], _HEX_DIGITS[np.arange(256) & 15]], axis=1)
HEX_PAIRS16 = np.ascontiguousarray(HEX_PAIRS).view(np.uint16).ravel()  # one lookup per byte

TOPIC_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
TOPIC_TORNADO_DEPOSIT = "0xa945e51eec50ab98c161376f0db4cf2aeba3ec92755fe2fcd388bdbbb80ff196"
TOPIC_TORNADO_WITHDRAWAL = "0xe9e508bad6d4c3227e881ca19068f099da81b5164dd6d62b2eaf1e8bc6c34931"
SELECTOR_ERC20_TRANSFER = "0xa9059cbb"
SELECTOR_THOR_DEPOSIT = "0x44bc937b"  # depositWithExpiry(address,address,uint256,string,uint256)
ZERO_ADDRESS = "0x" + "0" * 40


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def hex_matrix(rows: np.ndarray, prefix: str = "0x") -> pa.Array:
    """Lower-case hex strings (with `prefix`) of each row of a (n, k) uint8 matrix, as an Arrow array."""
    n, k = rows.shape
    p = len(prefix)
    width = p + 2 * k
    digits = np.empty((n, width), dtype=np.uint8)
    if p:
        digits[:, :p] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    hex_text = np.ascontiguousarray(rows).tobytes().hex().encode("ascii")  # C speed, no index arrays
    digits[:, p:] = np.frombuffer(hex_text, dtype=np.uint8).reshape(n, 2 * k)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))


def random_hex(rng: np.random.Generator, n: int, nbytes: int, prefix: str = "0x") -> pa.Array:
    """n random 0x-hex strings of `nbytes` bytes (addresses: 20, hashes: 32)."""
    raw = np.frombuffer(rng.bytes(n * nbytes), dtype=np.uint8).reshape(n, nbytes)
    return hex_matrix(raw, prefix)


def random_hex_one(rng: np.random.Generator, nbytes: int) -> str:
    return "0x" + rng.bytes(nbytes).hex()


def uint64_words(values: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 matrix: each uint64 as a 32-byte big-endian ABI word."""
    n = len(values)
    out = np.zeros((n, 32), dtype=np.uint8)
    out[:, 24:] = values.astype(">u8").view(np.uint8).reshape(n, 8)
    return out


def address_words(addresses: pa.Array) -> pa.Array:
    """0x + 24 zeros + address digits: the 32-byte topic form of addresses."""
    body = pc.utf8_slice_codeunits(addresses, 2)
    return pc.binary_join_element_wise("0x000000000000000000000000", body, "")


def word(value: int) -> str:
    """One ABI word (64 hex digits, no 0x) of a non-negative integer."""
    return format(value, "064x")


def address_word(address: str) -> str:
    return address[2:].rjust(64, "0")


def abi_string_tail(text: str) -> str:
    """ABI encoding of a dynamic string's length and padded bytes (no 0x)."""
    raw = text.encode()
    padded = raw.hex().ljust(((len(raw) + 31) // 32) * 64, "0")
    return word(len(raw)) + padded


# --- bech32 (BIP 173) for P2WPKH addresses -------------------------------------------------------
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_POLY_TABLE = [0] * 32
for _top in range(32):
    for _i in range(5):
        if (_top >> _i) & 1:
            _POLY_TABLE[_top] ^= _GEN[_i]


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5 ^ v) ^ _POLY_TABLE[chk >> 25]
    return chk


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for b in data:
        acc = (acc << frombits) | b
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def p2wpkh_address(program: bytes, hrp: str = "bc") -> str:
    """bech32 address of a version-0 20-byte witness program."""
    data = [0] + _convertbits(program, 8, 5)
    hrp_exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    poly = _polymod(hrp_exp + data + [0] * 6) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in data + checksum)


@lru_cache(maxsize=1 << 18)
def p2wpkh_program(address: str) -> bytes:
    """The 20-byte witness program of a bech32 P2WPKH address (checksum not verified: our own output)."""
    data = [_CHARSET.index(c) for c in address[address.rindex("1") + 1:-6]]
    acc = bits = 0
    out = bytearray()
    for v in data[1:]:
        acc = (acc << 5) | v
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)
