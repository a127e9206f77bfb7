"""The watch's tables in the hub database (created by migration 0003_watch_cases_outbox)."""

from __future__ import annotations

import sqlalchemy as sa

from trilateral.hub.schema import SeqType

metadata = sa.MetaData()

cases = sa.Table(
    "watch_cases", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("chain", sa.String(32), nullable=False),
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("seeds", sa.Text, nullable=False),  # JSON list of addresses
    sa.Column("seed_txs", sa.Text, nullable=False),  # JSON list of transaction hashes
    sa.Column("incident", sa.String(128), nullable=True),
    sa.Column("status", sa.String(8), nullable=False),  # open | closed
    sa.Column("opened_us", sa.BigInteger, nullable=False),
    sa.Column("closed_us", sa.BigInteger, nullable=True),
)

state = sa.Table(
    "watch_state", metadata,
    sa.Column("owner", sa.String(80), primary_key=True),  # case:ID | chain:NAME
    sa.Column("map", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(400), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

blocks = sa.Table(
    "watch_blocks", metadata,
    sa.Column("chain", sa.String(32), primary_key=True),
    sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(80), nullable=False),
    sa.Column("parent_hash", sa.String(80), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("undo", sa.Text, nullable=False),  # JSON [[owner, map, key, old value or null]]
    sa.Column("processed_us", sa.BigInteger, nullable=False),
)

alerts = sa.Table(
    "watch_alerts", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.BigInteger, nullable=False),
    sa.Column("chain", sa.String(32), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("block_hash", sa.String(80), nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the webhook JSON of the alert
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("retracted_us", sa.BigInteger, nullable=True),
    sa.Index("ix_watch_alerts_block", "chain", "block_hash"),
    sa.Index("ix_watch_alerts_case", "case_id"),
)

outbox = sa.Table(
    "watch_outbox", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("idem_key", sa.String(100), nullable=False),
    sa.Column("destination", sa.String(120), nullable=False),  # hub | webhook:ID
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_us", sa.BigInteger, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("delivered_us", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("idem_key", "destination", name="uq_watch_outbox_key"),
    sa.Index("ix_watch_outbox_due", "status", "next_attempt_us"),
)

webhooks = sa.Table(
    "watch_webhooks", metadata,
    sa.Column("id", SeqType, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("revoked_us", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("code", "url", name="uq_watch_webhooks_url"),
)
