"""Migration 0004 on a hub that already holds objects: children kept, owners and shadows derived."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from trilateral.hub.database import MIGRATIONS_DIR, make_engine, migrate, writing

_ROWS = [  # seq, stix_id, submitter, tlp
    (1, "indicator--E2865A94-4C7B-4EDC-8EBD-7A5B9DE654A2", "US", 4),
    (2, "indicator--e2865a94-4c7b-4edc-8ebd-7a5b9de654a2", "JP", 1),  # a forged later version
    (3, "ipv4-addr--3c1a4c5e-6d1e-5c8e-9d8f-0a1b2c3d4e5f", "US", 4),
]


def test_0004_keeps_children_and_derives_owners(database_url: str) -> None:
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with writing(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        for seq, stix_id, code, tlp in _ROWS:
            kind = stix_id.split("--")[0]
            conn.execute(sa.text(
                "INSERT INTO objects (seq, collection, stix_id, stix_type, spec_version, modified_us, date_added_us,"
                " tlp, submitter_code, submitter_member, content_hash, body) VALUES (:s, 'shared', :i, :t, '2.1',"
                " :m, :s, :tlp, :c, :c, 'h', '{}')"), {"s": seq, "i": stix_id, "t": kind, "m": seq if kind ==
                                                       "indicator" else 0, "tlp": tlp, "c": code})
        conn.execute(sa.text("INSERT INTO object_recipients (object_seq, code) VALUES (1, 'KR')"))
        conn.execute(sa.text("INSERT INTO observables (object_seq, kind, value, submitter_member) "
                             "VALUES (1, 'ipv4', '10.0.0.1', 'US'), (2, 'ipv4', '10.0.0.1', 'JP')"))
        conn.execute(sa.text("INSERT INTO correlations (seq_a, seq_b, kind, value, created_us) "
                             "VALUES (1, 2, 'ipv4', '10.0.0.1', 1)"))
    migrate(engine)
    with engine.connect() as conn:
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("object_recipients", "observables", "correlations")]
        rows = conn.execute(sa.text("SELECT seq, stix_id, shadow FROM objects ORDER BY seq")).all()
        owners = dict(conn.execute(sa.text("SELECT stix_id, owner FROM object_owners")).all())
    engine.dispose()
    assert counts == [1, 2, 1]
    assert [(r.seq, r.stix_id == r.stix_id.lower(), bool(r.shadow)) for r in rows] == [
        (1, True, False), (2, True, True), (3, True, False)]
    assert owners == {_ROWS[1][1]: "US"}  # SCOs have no owner
