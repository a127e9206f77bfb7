"""Coverage spans (pure): merging, the normal-and-token rule, block islands, the store's last time."""

from __future__ import annotations

from trilateral.chain.coverage import (
    Coverage,
    add_address,
    add_blocks,
    block_islands,
    empty_doc,
    intersect_spans,
    merge_spans,
)

A = "0x" + "ab" * 20


def test_merge_and_intersect() -> None:
    assert merge_spans([(5, 9), (1, 4), (20, 30), (25, 26)]) == [(1, 9), (20, 30)]
    assert intersect_spans([(1, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]


def test_sparse_blocks_cover_only_their_islands() -> None:
    islands = block_islands([(100, 1000), (101, 1012), (300, 3000)])
    assert islands == [(100, 101, 1000, 1012), (300, 300, 3000, 3000)]
    doc = empty_doc()
    add_blocks(doc, islands)
    cov = Coverage.from_doc(doc, last_time=3000)
    assert cov.history_complete(A, 1000, 1012)
    assert not cov.history_complete(A, 1000, 3000)  # blocks 102..299 were never ingested
    add_blocks(doc, block_islands([(b, 1000 + 12 * (b - 100)) for b in range(102, 300)]))
    assert Coverage.from_doc(doc, 3000).history_complete(A, 1000)


def test_address_complete_needs_normal_and_token_lists() -> None:
    doc = empty_doc()
    add_address(doc, A.upper().replace("0X", "0x"), "normal", [(100, 500)])
    cov = Coverage.from_doc(doc, last_time=500)
    assert not cov.history_complete(A, 100, 500) and cov.known_span(A) == []
    add_address(doc, A, "token", [(200, 600)])
    cov = Coverage.from_doc(doc, last_time=700)
    assert cov.known_span(A) == [(200, 500)]
    assert cov.history_complete(A, 200, 500) and not cov.history_complete(A, 200)  # to = last time 700
    assert not cov.history_complete("0x" + "cd" * 20, 200, 300)
    assert not Coverage().history_complete(A, 0)  # an empty store knows nothing
