"""Migration 0008 on a hub that already synced from a peer: `federation_objects` folds into
`objects.source`, the version key leads with stix_id, children are kept; and back again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from trilateral.hub.database import MIGRATIONS_DIR, make_engine, migrate, writing

_SYNCED = "indicator--0b6a6f1e-3f7c-4d0b-9a55-6f7a1c2d3e4f"
_LOCAL = "indicator--7c1e2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b"
_ROWS = [  # seq, stix_id, submitter, source
    (1, _SYNCED, "KR", "federation:KR"),
    (2, _LOCAL, "US", '{"file": "intel.json", "bundle": null}'),
]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _shape(conn: sa.Connection) -> tuple[set[str], set[tuple[str, ...]], set[str]]:
    inspector = sa.inspect(conn)
    return (set(inspector.get_table_names()),
            {tuple(u["column_names"]) for u in inspector.get_unique_constraints("objects")},
            {i["name"] for i in inspector.get_indexes("objects")})


def test_0008_folds_provenance_into_source_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _config()
    with writing(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        for seq, stix_id, code, source in _ROWS:
            conn.execute(sa.text(
                "INSERT INTO objects (seq, collection, stix_id, stix_type, spec_version, modified_us, date_added_us,"
                " tlp, submitter_code, submitter_member, content_hash, source, body) VALUES (:s, 'shared', :i,"
                " 'indicator', '2.1', 7, :s, 2, :c, :c, 'h', :src, '{}')"),
                {"s": seq, "i": stix_id, "c": code, "src": source})
        conn.execute(sa.text("INSERT INTO federation_objects (collection, stix_id, modified_us, origin, via, "
                             "received_us) VALUES ('shared', :i, 7, 'KR', 'KR', 1)"), {"i": _SYNCED})
        conn.execute(sa.text("INSERT INTO object_recipients (object_seq, code) VALUES (1, 'US'), (2, 'JP')"))
        conn.execute(sa.text("INSERT INTO observables (object_seq, kind, value, submitter_member) "
                             "VALUES (1, 'ipv4', '10.0.0.1', 'KR'), (2, 'ipv4', '10.0.0.1', 'US')"))
        conn.execute(sa.text("INSERT INTO correlations (seq_a, seq_b, kind, value, created_us) "
                             "VALUES (1, 2, 'ipv4', '10.0.0.1', 1)"))
    migrate(engine)
    with engine.connect() as conn:
        tables, unique, indexes = _shape(conn)
        counts = [conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("objects", "object_recipients", "observables", "correlations")]
    assert "federation_objects" not in tables and "federation_tombstones" in tables
    assert ("stix_id", "collection", "modified_us", "submitter_code") in unique, unique
    assert "ix_objects_stix_id" not in indexes
    assert counts == [2, 2, 2, 1]

    with writing(engine) as conn:  # the old key again, and the provenance table rebuilt from source
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    with engine.connect() as conn:
        tables, unique, indexes = _shape(conn)
        provenance = conn.execute(sa.text("SELECT stix_id, modified_us, origin FROM federation_objects")).all()
        children = conn.execute(sa.text("SELECT count(*) FROM object_recipients")).scalar()
    engine.dispose()
    assert ("collection", "stix_id", "modified_us", "submitter_code") in unique, unique
    assert "ix_objects_stix_id" in indexes and children == 2
    assert [tuple(r) for r in provenance] == [(_SYNCED, 7, "KR")]
