"""Federation tables in the hub database (created by migration 0007_federation; 0008 dropped
`federation_objects`: where a synced version came from is `objects.source`, "federation:<origin>").

Kept apart from `hub.schema` so the hub's own tables stay the hub's; the hub itself never reads them.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

peers = sa.Table(
    "federation_peers", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),  # the peer's TAXII discovery URL
    sa.Column("token", sa.Text, nullable=True),  # what this node presents to the peer (`peer token`)
    sa.Column("added_us", sa.BigInteger, nullable=False),
    sa.Column("last_attempt_us", sa.BigInteger, nullable=True),
    sa.Column("last_ok_us", sa.BigInteger, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("received", sa.BigInteger, nullable=False, server_default="0"),
)

cursors = sa.Table(
    "federation_cursors", metadata,
    sa.Column("peer", sa.String(64), primary_key=True),
    sa.Column("collection", sa.String(80), primary_key=True),
    # X-TAXII-Date-Added-Last of the last finished round: the next round starts after it
    sa.Column("added_after", sa.String(40), nullable=True),
    # inside a round: the peer's `next` token and the X-TAXII-Date-Added-Last seen so far
    sa.Column("next_token", sa.Text, nullable=True),
    sa.Column("round_last", sa.String(40), nullable=True),
    sa.Column("updated_us", sa.BigInteger, nullable=False),
)

tombstones = sa.Table(
    "federation_tombstones", metadata,
    sa.Column("collection", sa.String(80), primary_key=True),
    sa.Column("stix_id", sa.String(128), primary_key=True),
    sa.Column("modified_us", sa.BigInteger, primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("deleted_us", sa.BigInteger, nullable=False),
)
