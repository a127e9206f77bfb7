"""Which addresses' histories the store holds completely, for which time span (pure, no I/O).

A trace must tell "nothing happened" from "we do not have the data". Two kinds of source say so:

- **block-range sources** (`etl`, `rpc`, `core-json`): every address is complete over the blocks a
  batch actually holds (consecutive block numbers merged; a sparse file with blocks 100 and 300 covers
  those two blocks, not 100..300). Only batches with transactions count (a token_transfers.csv alone
  does not hold native moves). Stored as `(first_block, last_block, first_time, last_time)`.
- **per-address sources** (`etherscan`: `txlist`, `tokentx`, `txlistinternal` responses or explorer
  CSV exports): the queried address is complete, for that *list*, over the response's time span
  (first to last row) or over `--complete-from/--complete-to` when given. An address's history is
  complete where both its `normal` (txlist) and its `token` (tokentx) lists are: those hold every
  outflow an externally owned account can make. `internal` spans are recorded but not required.

All times are unix seconds, spans closed `[from, to]`. `ChainStore.coverage(chain)` builds a
`Coverage` from the `coverage` entry of the chain's `_manifest.json`, committed with each batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Span = tuple[int, int]
LIST_KINDS = ("normal", "token", "internal")
REQUIRED_KINDS = ("normal", "token")


def merge_spans(spans: list[Span]) -> list[Span]:
    """Union of closed integer spans, sorted; touching spans ([1, 5] and [6, 9]) merge."""
    out: list[list[int]] = []
    for lo, hi in sorted((int(a), int(b)) for a, b in spans if int(a) <= int(b)):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def intersect_spans(a: list[Span], b: list[Span]) -> list[Span]:
    """Intersection of two merged span lists."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def covers(spans: list[Span], lo: int, hi: int) -> bool:
    """True when the merged `spans` contain every second of [lo, hi]."""
    return any(a <= lo and hi <= b for a, b in merge_spans(spans))


def merge_block_spans(spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Union of (first_block, last_block, first_time, last_time) in block space (adjacent blocks merge)."""
    out: list[list[int]] = []
    for lo, hi, t0, t1 in sorted(tuple(int(x) for x in s) for s in spans):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
            out[-1][2] = min(out[-1][2], t0)
            out[-1][3] = max(out[-1][3], t1)
        else:
            out.append([lo, hi, t0, t1])
    return [(a, b, c, d) for a, b, c, d in out]


def block_islands(blocks: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(block, timestamp) pairs → merged runs of consecutive block numbers with their time span."""
    return merge_block_spans([(b, b, t, t) for b, t in blocks])


# ---- the manifest document ------------------------------------------------------------------------
def empty_doc() -> dict[str, Any]:
    return {"blocks": [], "addresses": {}}


def add_blocks(doc: dict[str, Any], spans: list[tuple[int, int, int, int]]) -> None:
    """Record block-range coverage (a batch's islands) into the manifest's `coverage` entry."""
    doc["blocks"] = [list(s) for s in merge_block_spans([tuple(s) for s in doc.get("blocks", [])] + spans)]


def add_address(doc: dict[str, Any], address: str, kind: str, spans: list[Span]) -> None:
    """Record that `address`'s `kind` list (normal | token | internal) is complete over `spans`."""
    if kind not in LIST_KINDS:
        raise ValueError(f"unknown list kind {kind!r}")
    per = doc.setdefault("addresses", {}).setdefault(address.lower(), {})
    per[kind] = [list(s) for s in merge_spans([tuple(s) for s in per.get(kind, [])] + spans)]


@dataclass(frozen=True)
class Coverage:
    """What the store knows completely. Build with `Coverage.from_doc(manifest['coverage'], last_time)`."""

    blocks: list[tuple[int, int, int, int]] = field(default_factory=list)
    addresses: dict[str, dict[str, list[Span]]] = field(default_factory=dict)
    last_time: int | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None, last_time: int | None = None) -> Coverage:
        doc = doc or {}
        blocks = merge_block_spans([tuple(s) for s in doc.get("blocks", [])])
        addresses = {a.lower(): {k: merge_spans([tuple(s) for s in spans]) for k, spans in per.items()}
                     for a, per in doc.get("addresses", {}).items()}
        return cls(blocks, addresses, None if last_time is None else int(last_time))

    def block_time_spans(self) -> list[Span]:
        """Time spans over which every address is complete (block-range sources)."""
        return merge_spans([(t0, t1) for _, _, t0, t1 in self.blocks])

    def address_spans(self, address: str, kind: str) -> list[Span]:
        """Spans recorded for one list of one address (per-address sources only)."""
        return list(self.addresses.get(address.lower(), {}).get(kind, []))

    def known_span(self, address: str) -> list[tuple[int, int]]:
        """Time spans (unix seconds, closed, merged) over which `address`'s history is complete:
        block-range coverage, plus where the address's normal and token lists both are."""
        per = self.addresses.get(address.lower(), {})
        own = per.get(REQUIRED_KINDS[0], [])
        for kind in REQUIRED_KINDS[1:]:
            own = intersect_spans(own, per.get(kind, []))
        return merge_spans(self.block_time_spans() + own)

    def history_complete(self, address: str, from_ts: int, to_ts: int | None = None) -> bool:
        """True when every transfer of `address` between from_ts and to_ts (default: the store's last
        time) is in the store; False when part of that time is unknown (or the store is empty)."""
        end = self.last_time if to_ts is None else int(to_ts)
        if end is None:
            return False
        lo, hi = int(from_ts), max(int(from_ts), end)
        return covers(self.known_span(address), lo, hi)

    def as_dict(self) -> dict[str, Any]:
        return {"blocks": [list(s) for s in self.blocks],
                "addresses": {a: {k: [list(s) for s in v] for k, v in sorted(per.items())}
                              for a, per in sorted(self.addresses.items())},
                "last_time": self.last_time}
