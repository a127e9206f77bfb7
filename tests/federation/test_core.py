"""Pure federation rules, and the node read rule against its SQL twin (no servers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilateral.core.principal import Principal, PrincipalKind
from trilateral.core.settings import Settings
from trilateral.core.tlp import TLP2_MARKING_IDS, Tlp
from trilateral.federation.core import Cursor, Provenance, Verdict, judge, tombstone
from trilateral.federation.node import add_peer, init_node
from trilateral.hub import Hub
from trilateral.hub.policy import ObjectMeta, may_read_for_node
from trilateral.hub.recipients import recipients_of, with_recipients


def test_judge() -> None:
    own = Provenance("KR", "HANGANG", "KR")
    assert judge("x--1", own, peer="KR", node="US", owner=None, tombstoned=False).verdict is Verdict.KEEP
    assert judge("x--1", Provenance("US", "US", "US"), peer="KR", node="US", owner=None,
                 tombstoned=False).verdict is Verdict.ECHO
    assert judge("x--1", own, peer="KR", node="US", owner=None, tombstoned=True).verdict is Verdict.DELETED
    forged = judge("x--1", Provenance("KR", "SAKURA", "JP"), peer="KR", node="US", owner=None, tombstoned=False)
    assert forged.verdict is Verdict.REFUSED and "origin node KR" in forged.reason
    stolen = judge("x--1", own, peer="KR", node="US", owner="COINBASE", tombstoned=False)
    assert stolen.verdict is Verdict.REFUSED and "owned by COINBASE" in stolen.reason
    # forwarded: JP's object relayed by KR keeps JP as origin
    assert judge("x--1", Provenance("JP", "JP", "JP"), peer="KR", node="US", owner="JP",
                 tombstoned=False).verdict is Verdict.KEEP


def test_provenance_of_a_plain_feed_is_the_feed() -> None:
    assert Provenance.from_peer("FEED", None) == Provenance("FEED", "FEED", "FEED")
    assert Provenance.from_peer("KR", {"origin": "jp", "submitter": "sakura", "submitter_member": "jp"}) == \
        Provenance("JP", "SAKURA", "JP")
    assert Provenance.from_peer("KR", {"origin": "JP"}) == Provenance("KR", "KR", "KR")


def test_cursor_moves_added_after_only_when_a_round_ends() -> None:
    c = Cursor(added_after="2026-01-01T00:00:00.000001Z")
    mid = c.after_page(more=True, next_token="n1", last="2026-01-02T00:00:00.000000Z")
    assert mid.added_after == c.added_after and mid.next_token == "n1"
    assert mid.params(100) == {"limit": "100", "match[version]": "all", "added_after": c.added_after, "next": "n1"}
    end = mid.after_page(more=False, next_token=None, last=None)  # last page empty: keep the round's last
    assert end == Cursor(added_after="2026-01-02T00:00:00.000000Z")
    assert mid.restart_round() == Cursor(added_after=c.added_after)
    assert Cursor().after_page(more=False, next_token=None, last=None) == Cursor()


def test_tombstone_carries_the_versions_marking_and_recipients() -> None:
    a = tombstone("indicator--1", "2026-01-01T00:00:00.000Z", Tlp.RED, frozenset({"HANGANG"}), "2026-02-01T00:00:00.000Z")
    b = tombstone("indicator--1", "2026-01-01T00:00:00.000Z", Tlp.RED, frozenset({"HANGANG"}), "2026-03-01T00:00:00.000Z")
    assert a["id"] == b["id"] and a["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.RED]]
    assert recipients_of(a) == {"HANGANG"}


CODES = ["US", "KR", "JP", "COINBASE", "HANGANG", "SAKURA", "OTHER"]
SPONSOR = {"COINBASE": "US", "HANGANG": "KR", "SAKURA": "JP", "OTHER": "JP"}


def _p(code: str) -> Principal:
    return Principal(code, PrincipalKind.CLIENT, SPONSOR[code]) if code in SPONSOR else \
        Principal(code, PrincipalKind.MEMBER)


@pytest.fixture(scope="module")
def node_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    home = tmp_path_factory.mktemp("node")
    hub = Hub.open(Settings.from_env({"TRILATERAL_HOME": str(home), "TRILATERAL_DATABASE_URL":
                                      f"sqlite:///{Path(home) / 'hub.sqlite3'}"}))
    init_node(hub, "US")
    hub.add_principal("COINBASE", "c", client_of="US")
    add_peer(hub, "KR", "http://127.0.0.1:1/taxii2/")
    add_peer(hub, "JP", "http://127.0.0.1:2/taxii2/")
    from trilateral.hub.schema import principals
    with hub.engine.begin() as conn:  # clients learnt from the peers' directories
        for code in ("HANGANG", "SAKURA", "OTHER"):
            conn.execute(principals.insert().values(code=code, name=code, kind="client", sponsor=SPONSOR[code],
                                                    created_us=0))
    yield hub
    hub.close()


_obj = st.tuples(st.sampled_from([c for c in CODES if SPONSOR.get(c, c) == "US"]), st.sampled_from(list(Tlp)),
                 st.lists(st.sampled_from(CODES), max_size=3, unique=True))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(_obj, min_size=1, max_size=12))
def test_a_peer_reads_exactly_what_the_node_rule_allows(node_hub: Hub, batch: list) -> None:
    """The SQL a peer's page runs equals may_read_for_node over the member and its clients."""
    import uuid

    made = []
    for submitter, level, recips in batch:
        obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
               "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
               "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
               "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": [TLP2_MARKING_IDS[level]]}
        obj = with_recipients(obj, recips) if recips else obj
        node_hub.submit(_p(submitter), [obj])
        made.append((obj["id"], ObjectMeta(level, submitter, SPONSOR.get(submitter, submitter), frozenset(recips))))
    ids = [i for i, _ in made]
    for peer in ("KR", "JP"):
        member = _p(peer)
        clients = [_p(c) for c, s in SPONSOR.items() if s == peer]
        got = {r.id for r in node_hub.query(member, ids=ids, versions="all").records}
        want = {i for i, meta in made if may_read_for_node(member, clients, meta)}
        assert got == want, peer
