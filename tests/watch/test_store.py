"""Watch state in the hub database (SQLite and PostgreSQL): one transaction per block, read back
whole by a new process, and a block's undo restores the database too."""

from __future__ import annotations

import json
import time

from tests.watch.blocks import HOT, THIEF, Chain, addr, core
from tests.watch.live import verify_snippet
from trilateral.hub import Hub
from trilateral.watch.core import CaseSpec, WatchCore
from trilateral.watch.signing import new_secret, sign
from trilateral.watch.store import WatchStore


def test_block_effects_persist_and_revert(hub: Hub) -> None:
    store = WatchStore(hub.engine)
    case_id = store.open_case("t", "ethereum", "fifo", [THIEF], [], "incident--x")
    c, ch = core(), Chain()
    c.cases.clear()
    c.add_case(CaseSpec(case_id, "ethereum", "fifo", frozenset({THIEF})))
    a, b = addr(1), addr(2)
    first = c.apply(ch.block((THIEF, a, "ETH", 10**18)))
    store.commit_block(c, first, [], [])
    second = c.apply(ch.block((a, b, "ETH", 4 * 10**17), (b, HOT, "ETH", 10**17)))
    body = {"id": second.alerts[0].key, "case": {"id": case_id}, "kind": "exchange"}
    store.commit_block(c, second, [body], [(body["id"], "hub", json.dumps(body))])
    assert store.cursor("ethereum") == (second.block.number, second.block.hash)

    fresh = WatchCore(labels=c.labels, natives=c.natives)
    fresh.add_case(store.case(case_id).spec(), store.load_kv(f"case:{case_id}"))
    assert fresh.cases[case_id].holdings() == c.cases[case_id].holdings()

    number, undo = second.block.number, store.undo_of("ethereum", second.block.number)[1]
    retracted = store.revert_block(fresh, "ethereum", number, undo, lambda b: ({**b, "event": "alert.retracted"},
                                                                              [(b["id"] + ".retracted", "hub", "{}")]))
    assert [r["id"] for r in retracted] == [body["id"]]
    assert store.cursor("ethereum") == (first.block.number, first.block.hash)
    reread = WatchCore(labels=c.labels, natives=c.natives)
    reread.add_case(store.case(case_id).spec(), store.load_kv(f"case:{case_id}"))
    assert reread.cases[case_id].holdings() == {(a, "ETH"): 10**18}
    assert store.alerts_of(case_id)[0]["retracted"] is True
    assert store.outbox_counts() == {"pending": 2}
    store.close_case(case_id)
    assert store.cases("open") == []


def test_documented_snippet_rejects_forgeries_and_replays() -> None:
    verify = verify_snippet()
    secret, body, key = new_secret(), b'{"id": "alert-1"}', "alert-1"
    now = int(time.time())
    seen: set[str] = set()
    assert verify(secret, body, sign(secret, now, body), seen, key) == "accept"
    assert verify(secret, body, sign(secret, now, body), seen, key) == "duplicate"  # a retry: do not act twice
    assert verify(secret, body + b" ", sign(secret, now, body), set(), key) == "reject"  # body changed
    assert verify(new_secret(), body, sign(secret, now, body), set(), key) == "reject"  # another secret
    assert verify(secret, body, sign(secret, now - 3600, body), set(), key) == "reject"  # replayed an hour later
    assert verify(secret, body, "v1=abc", set(), key) == "reject"
