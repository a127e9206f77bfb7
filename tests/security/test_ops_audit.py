"""Issue 14 point 14: the audit chain survives its database.

A real `trilateral serve` (SQLite and PostgreSQL) writes entries (imports, restricted reads); each
scenario then attacks its own copy of that hub as someone who can write the database but does not
hold the audit key, and runs `trilateral audit verify`: a wiped log, a truncated one, and an edited
entry with every hash recomputed (all of which verified before) must fail; a signed checkpoint a
member keeps catches even a rebuild by someone who holds the key (over a server on its copy).
The server writing the entries starts once per database, not once per scenario: starting one costs
seconds.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from tests.security.ops_support import DATABASES, HubFiles, OpsHub, copied_hub, hub_env, serving
from tests.taxii.conftest import _setup_principals, hub_database
from tests.taxii.stix_factory import envelope, indicator
from trilateral.core.tlp import Tlp


@dataclass
class Written:
    """A stopped hub whose audit log a real server wrote: the original every scenario copies."""

    home: Path
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module", params=[p if p == "sqlite" else pytest.param(p, marks=pytest.mark.postgres)
                                        for p in DATABASES])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    workdir = tmp_path_factory.mktemp(f"audit-{request.param}")
    home = workdir / "home"
    with hub_database(request.param, home) as url:
        tokens = _setup_principals(hub_env(home, url))
        with serving(home, url, tokens, workdir) as h:
            us = h.server.collection("US")
            us.add_objects(json.dumps(envelope(indicator(1), indicator(2, Tlp.RED, recipients=["KR"]),
                                               indicator(3, Tlp.AMBER_STRICT))))
            h.server.collection("KR").get_objects()  # a restricted read: audited
        yield Written(home, url, tokens)


@pytest.fixture
def hub(written: Written, tmp_path: Path) -> Iterator[HubFiles]:
    """This scenario's own copy of the written hub (home and database), not served."""
    home = tmp_path / "home"
    with copied_hub(written.home, written.url, home) as url:
        yield HubFiles(hub_env(home, url), home, url, written.tokens)


@pytest.fixture
def served(hub: HubFiles, tmp_path: Path) -> Iterator[OpsHub]:
    """The scenario's copy, served by a real `trilateral serve` (for activity after a checkpoint)."""
    with serving(hub.home, hub.url, hub.tokens, tmp_path) as h:
        yield h


def verify(h: HubFiles, *args: str) -> tuple[int, str]:
    done = h.cli("audit", "verify", *args)
    return done.returncode, (done.stdout + done.stderr).strip()


def rehash_unkeyed(h: HubFiles) -> None:
    """What an attacker without the key does after editing: recompute every link with SHA-256."""
    rows = h.sql("SELECT seq, at_us, actor, action, detail FROM audit_log ORDER BY seq")
    prev = "0" * 64
    for r in rows:
        canonical = orjson.dumps({"seq": r.seq, "at_us": r.at_us, "actor": r.actor, "action": r.action,
                                  "detail": orjson.loads(r.detail)}, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(canonical + prev.encode()).hexdigest()
        h.sql("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s", p=prev, h=digest, s=r.seq)
        prev = digest
    h.sql("UPDATE hub_meta SET value = :v WHERE key = 'audit_head'",
          v=json.dumps({"seq": rows[-1].seq, "hash": prev}))


def test_an_intact_log_verifies_and_the_key_file_is_private(hub: HubFiles) -> None:
    code, out = verify(hub)
    assert code == 0 and "intact" in out
    key = hub.home / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in str(hub.sql("SELECT key, value FROM hub_meta"))  # only a fingerprint


def test_wiping_every_entry_and_the_head_is_detected(hub: HubFiles) -> None:
    hub.sql("DELETE FROM audit_log")
    hub.sql("DELETE FROM hub_meta WHERE key = 'audit_head'")
    code, out = verify(hub)
    assert code == 1 and "wiped" in out, out


def test_truncating_the_newest_entries_and_rewriting_the_head_is_detected(hub: HubFiles) -> None:
    last = hub.sql("SELECT max(seq) FROM audit_log")[0][0]
    kept = hub.sql("SELECT seq, hash FROM audit_log WHERE seq = :s", s=last - 2)[0]
    hub.sql("DELETE FROM audit_log WHERE seq > :s", s=kept.seq)
    hub.sql("UPDATE hub_meta SET value = :v WHERE key = 'audit_head'", v=json.dumps({"seq": kept.seq,
                                                                                      "hash": kept.hash}))
    code, out = verify(hub)
    assert code == 1 and "head record was forged" in out, out


def test_editing_an_entry_and_recomputing_every_hash_is_detected(hub: HubFiles) -> None:
    read = hub.sql("SELECT seq FROM audit_log WHERE action = 'read.query' ORDER BY seq LIMIT 1")[0][0]
    hub.sql("UPDATE audit_log SET detail = :d WHERE seq = :s", d='{"collection": "shared", "ids": []}', s=read)
    rehash_unkeyed(hub)
    code, out = verify(hub)
    assert code == 1 and "entry 1 was edited" in out, out


def test_a_signed_checkpoint_is_checked_later_and_catches_a_rebuild_with_the_key(served: OpsHub,
                                                                                 tmp_path: Path) -> None:
    hub = served
    checkpoint = tmp_path / "kr-checkpoint.json"
    done = hub.cli("audit", "checkpoint", "--out", str(checkpoint))
    assert done.returncode == 0, done.stderr
    saved = json.loads(checkpoint.read_text())
    hub.server.collection("KR").get_objects()  # more activity after the checkpoint
    code, out = verify(hub, "--against", str(checkpoint))
    assert code == 0 and f"entry {saved['seq']} matches" in out, out

    # someone holding the database AND the key cuts the log back below the checkpoint and re-keys
    # a consistent shorter chain: the MAC chain verifies, the member's checkpoint does not
    from trilateral.core.settings import Settings
    from trilateral.hub import Hub
    from trilateral.hub.audit import record_mac

    hub.sql("DELETE FROM audit_log WHERE seq >= :s", s=saved["seq"])
    last = hub.sql("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    with Hub.open(Settings.from_env(hub.env)) as h:
        from trilateral.hub.audit_key import bound_key

        key = bound_key(h.engine)
    hub.sql("UPDATE hub_meta SET value = :v WHERE key = 'audit_head'",
            v=json.dumps({"seq": last.seq, "hash": last.hash, "mac": record_mac(key, "head", last.seq, last.hash)}))
    assert verify(hub)[0] == 0  # the rebuilt chain is self-consistent
    code, out = verify(hub, "--against", str(checkpoint))
    assert code == 1 and "entries were removed" in out, out


def test_a_forged_checkpoint_is_refused(hub: HubFiles, tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.json"
    assert hub.cli("audit", "checkpoint", "--out", str(checkpoint)).returncode == 0
    data = json.loads(checkpoint.read_text())
    data["seq"] -= 1  # claim an earlier head
    checkpoint.write_text(json.dumps(data))
    code, out = verify(hub, "--against", str(checkpoint))
    assert code == 1 and "signature does not verify" in out, out
    checkpoint.write_text("{}")
    code, out = verify(hub, "--against", str(checkpoint))
    assert code == 1 and "not a Trilateral audit checkpoint" in out


def test_a_lost_or_different_key_is_a_clear_error(hub: HubFiles) -> None:
    other = dict(hub.env, TRILATERAL_AUDIT_KEY="ab" * 32)
    code, out = hub.cli("audit", "verify", env=other).returncode, hub.cli("audit", "verify", env=other).stderr
    assert code == 1 and "is not this hub's" in out, out
    (hub.home / "audit.key").rename(hub.home / "audit.key.bak")
    try:
        done = hub.cli("audit", "verify")
        assert done.returncode == 1 and "key is missing" in done.stderr, done.stderr
    finally:
        (hub.home / "audit.key.bak").rename(hub.home / "audit.key")


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    from trilateral.core.errors import ConfigurationError
    from trilateral.core.settings import Settings
    from trilateral.hub.audit_key import load

    settings = Settings.from_env({"TRILATERAL_HOME": str(tmp_path)})
    key = load(settings, create=True)
    assert key is not None and len(key) == 32 and stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600
    assert load(settings, create=False) == key  # made once, then read
    (tmp_path / "audit.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load(settings, create=False)
    (tmp_path / "audit.key").chmod(0o600)
    (tmp_path / "audit.key").write_text("not hex\n")
    with pytest.raises(ConfigurationError, match="64 hexadecimal digits"):
        load(settings, create=False)
