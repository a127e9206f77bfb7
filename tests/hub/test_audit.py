"""The audit chain: what is recorded, and that edits, removals and reorderings are caught."""

from __future__ import annotations

import threading

import orjson
import sqlalchemy as sa

from trilateral.core.settings import Settings
from trilateral.core.tlp import Tlp
from trilateral.hub import Hub
from trilateral.hub.schema import audit_log

from .conftest import bundle, indicator


def entries(hub: Hub) -> list[sa.Row]:
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()


def test_writes_token_changes_and_sensitive_reads_are_recorded(hub: Hub, people) -> None:
    hub.rotate_token("JP")
    hub.revoke("JP-BITFLYER")
    strict, red, green = indicator(tlp=Tlp.AMBER_STRICT), indicator(tlp=Tlp.RED, recipients=["KR"]), indicator()
    hub.submit(people["US"], bundle(strict, red, green))
    before = len(entries(hub))
    hub.query(people["KR"], versions="all")
    hub.query(people["US-BANK"])  # GREEN only: not recorded
    log = entries(hub)
    actions = [e.action for e in log]
    assert actions.count("principal.add") == 6 and "principal.rotate_token" in actions
    assert "principal.revoke" in actions and "object.submit" in actions
    assert len(log) == before + 1 and log[-1].action == "read.query" and log[-1].actor == "KR"
    read_ids = {i.split("|")[0] for i in orjson.loads(log[-1].detail)["ids"]}
    assert read_ids == {strict["id"], red["id"]}
    assert hub.audit_verify().ok


def _tamper(hub: Hub, sql: str, **params) -> None:
    with hub.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_an_edited_entry_is_named(hub: Hub, people) -> None:
    _tamper(hub, "UPDATE audit_log SET detail = :d WHERE seq = 2", d='{"code": "XX"}')
    verdict = hub.audit_verify()
    assert not verdict.ok and verdict.first_bad == 2 and "edited" in verdict.reason


def test_a_removed_entry_is_named(hub: Hub, people) -> None:
    _tamper(hub, "DELETE FROM audit_log WHERE seq = 3")
    verdict = hub.audit_verify()
    assert not verdict.ok and verdict.first_bad == 3


def test_removing_the_newest_entries_is_caught(hub: Hub, people) -> None:
    _tamper(hub, "DELETE FROM audit_log WHERE seq >= 5")
    verdict = hub.audit_verify()
    assert not verdict.ok and verdict.first_bad == 5


def test_reordered_entries_are_named(hub: Hub, people) -> None:
    log = entries(hub)
    a, b = log[1], log[2]
    _tamper(hub, "UPDATE audit_log SET seq = -1 WHERE seq = :s", s=a.seq)
    _tamper(hub, "UPDATE audit_log SET seq = :t WHERE seq = :s", t=a.seq, s=b.seq)
    _tamper(hub, "UPDATE audit_log SET seq = :t WHERE seq = -1", t=b.seq)
    verdict = hub.audit_verify()
    assert not verdict.ok and verdict.first_bad == a.seq


def test_concurrent_writers_keep_one_chain(hub: Hub, people, database_url) -> None:
    errors: list[BaseException] = []

    def work(code: str) -> None:
        try:
            with Hub.open(Settings.from_env()) as other:
                for _ in range(4):
                    other.submit(people[code], bundle(indicator()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in ("US", "KR", "JP")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = [e.seq for e in entries(hub)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert hub.audit_verify().ok
    records = hub.query(people["US"]).records
    assert len(records) == 12 and len({r.date_added for r in records}) == 12  # unique under concurrency


def test_listing_correlations_of_red_objects_is_recorded(hub: Hub, people) -> None:
    red = indicator("192.0.2.77", Tlp.RED, recipients=["JP"])
    hub.submit(people["US"], bundle(red))
    hub.submit(people["JP"], bundle(indicator("192.0.2.77")))
    assert len(hub.correlations(people["JP"])) == 1
    last = entries(hub)[-1]
    assert last.action == "read.correlations" and last.actor == "JP" and red["id"] in last.detail
