"""Three real nodes converge to exactly what each may hold, at every TLP level (issue 18)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.conftest import scratch_postgres
from tests.federation.nodes import Node, converge, federation
from tests.federation.stixgen import Ledger, indicator, random_batch
from trilateral.core.tlp import Tlp


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    with ExitStack() as stack:
        pg = None
        if os.environ.get("TRILATERAL_TEST_DATABASE_URL"):
            pg = stack.enter_context(scratch_postgres("trilateral_fed"))
        yield stack.enter_context(federation(tmp_path_factory.mktemp("fed"), pg))


def _check(nodes: dict[str, Node], ledger: Ledger) -> None:
    bodies: dict[tuple[str, int], str] = {}
    for code, node in nodes.items():
        held = node.held()
        expected = ledger.expected(code)
        assert set(held) - expected == set(), f"{code} holds versions none of its principals may read"
        assert expected - set(held) == set(), f"{code} misses versions its principals may read"
        for key, digest in held.items():  # byte-identical everywhere: no marking dropped or changed
            assert bodies.setdefault(key, digest) == digest


def test_random_submissions_at_every_level_converge_exactly(nodes: dict[str, Node]) -> None:
    rng = random.Random(18)
    ledger = Ledger()
    for (node, submitter), objs in random_batch(rng, ledger, 300, 0).items():
        nodes[node].post(submitter, objs)
    converge(nodes)
    _check(nodes, ledger)
    levels = {meta.tlp for meta, _ in ledger.versions.values()}
    assert levels == set(Tlp)
    # a second round moves nothing: no churn, no echo
    for node in nodes.values():
        for r in node.sync():
            assert r.ok and r.received == 0 and not r.refused, r


def test_red_reaches_only_the_node_hosting_its_recipient(nodes: dict[str, Node]) -> None:
    red = indicator(Tlp.RED, ["HANGANG"], n=9001)  # a client on KR's node
    nodes["US"].post("US", [red])
    converge(nodes)
    assert any(k[0] == red["id"] for k in nodes["KR"].held())
    assert not any(k[0] == red["id"] for k in nodes["JP"].held())
    assert nodes["KR"].recipients_held()[red["id"]] == {"HANGANG"}


def test_a_non_owner_version_is_refused_everywhere(nodes: dict[str, Node]) -> None:
    original = indicator(Tlp.GREEN, n=9002)
    nodes["US"].post("US", [original])
    converge(nodes)
    forged = dict(original, modified="2026-02-01T00:00:00.000Z",
                  object_marking_refs=[indicator(Tlp.CLEAR)["object_marking_refs"][0]])
    nodes["KR"].post("KR", [forged])  # KR's own hub stores it (local rules); its peers must not
    results = {code: nodes[code].sync("KR") for code in ("US", "JP")}
    for code, (r,) in results.items():
        assert r.ok and any("owned by US" in reason for reason in r.refused), (code, r)
        assert not any(k[0] == original["id"] and k[1] != min(
            m for (i, m) in nodes[code].held() if i == original["id"]) for k in nodes[code].held())
