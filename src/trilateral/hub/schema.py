"""Hub tables (SQLAlchemy Core). The Alembic migrations in `migrations/` create exactly these."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity columns.
SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

meta = sa.Table(
    "hub_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

principals = sa.Table(
    "principals", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("sponsor", sa.String(64), nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("token_rotated_us", sa.BigInteger, nullable=True),
    sa.Column("revoked_us", sa.BigInteger, nullable=True),
)

objects = sa.Table(
    "objects", metadata,
    sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
    sa.Column("collection", sa.String(80), nullable=False),
    sa.Column("stix_id", sa.String(128), nullable=False),
    sa.Column("stix_type", sa.String(128), nullable=False),
    sa.Column("spec_version", sa.String(8), nullable=False),
    sa.Column("version", sa.String(40), nullable=True),
    sa.Column("modified_us", sa.BigInteger, nullable=False),
    sa.Column("date_added_us", sa.BigInteger, nullable=False),
    sa.Column("tlp", sa.SmallInteger, nullable=False),
    sa.Column("submitter_code", sa.String(64), nullable=False),
    sa.Column("submitter_member", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("status_id", sa.String(36), nullable=True),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("ref_id", sa.String(128), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    # a copy whose submitter does not own the id (hub/ownership.py): read by its submitter only
    sa.Column("shadow", sa.Boolean(create_constraint=False), nullable=False, server_default=sa.false()),
    # stix_id first (migration 0008): the same index serves id look-ups without a collection, so a
    # stored version costs one insert keyed by a random id, not two
    sa.UniqueConstraint("stix_id", "collection", "modified_us", "submitter_code", name="uq_objects_version"),
    sa.Index("ix_objects_page", "collection", "date_added_us", "seq"),
    # migration 0006 (console reads): only sightings and relationships carry a ref, so that index is partial
    sa.Index("ix_objects_ref", "ref_id", sqlite_where=sa.text("ref_id IS NOT NULL"),
             postgresql_where=sa.text("ref_id IS NOT NULL")),
    sa.Index("ix_objects_type", "stix_type", "date_added_us", "seq"),
)

object_owners = sa.Table(
    "object_owners", metadata,
    sa.Column("stix_id", sa.String(128), primary_key=True),  # lower-case
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("created_by_ref", sa.String(128), nullable=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
)

object_recipients = sa.Table(
    "object_recipients", metadata,
    sa.Column("object_seq", SeqType, sa.ForeignKey("objects.seq", ondelete="CASCADE"), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Index("ix_recipients_code", "code", "object_seq"),
)

observables = sa.Table(
    "observables", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("object_seq", SeqType, sa.ForeignKey("objects.seq", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("value", sa.String(1024), nullable=False),
    sa.Column("submitter_member", sa.String(64), nullable=False),
    sa.Index("ix_observables_value", "kind", "value"),
    sa.Index("ix_observables_object", "object_seq"),
)

correlations = sa.Table(
    "correlations", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("seq_a", SeqType, sa.ForeignKey("objects.seq", ondelete="CASCADE"), nullable=False),
    sa.Column("seq_b", SeqType, sa.ForeignKey("objects.seq", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("value", sa.String(1024), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Index("ix_correlations_a", "seq_a"),
    sa.Index("ix_correlations_b", "seq_b"),
)

statuses = sa.Table(
    "statuses", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("submitted_by", sa.String(64), nullable=False),
    sa.Column("submitter_member", sa.String(64), nullable=False),
    sa.Column("collection", sa.String(80), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("total_count", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=True),
)

status_details = sa.Table(
    "status_details", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("status_id", sa.String(36), sa.ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("stix_id", sa.String(128), nullable=True),
    sa.Column("version", sa.String(40), nullable=True),
    sa.Column("outcome", sa.String(10), nullable=False),  # success | duplicate | failure
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("tlp", sa.SmallInteger, nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # JSON list of codes
    sa.Index("ix_status_details_status", "status_id", "position"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
