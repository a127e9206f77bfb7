"""Federation storage made cheaper per synced version (issue 18, the 1,000,000-object backlog).

Past a few hundred thousand rows every index keyed by a random STIX id costs a commit about one
dirtied B-tree page per stored version. Two such indexes go:
* `federation_objects` is dropped: every row repeated what `objects.source` ("federation:<origin>")
  already says;
* `uq_objects_version` now leads with `stix_id` (stix_id, collection, modified_us, submitter_code),
  so it also serves id look-ups without a collection and `ix_objects_stix_id` is dropped.

Measured on a 1,000,000-object backlog sync (bench/RESULTS-federation.md): the writer's CPU per
synced version fell from ~88 to ~69 us.

SQLite cannot change a table constraint in place: the objects table is rebuilt, its children copied
aside and put back first, as in 0004 (the DROP TABLE of the rebuild would cascade into them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


_CHILDREN = ("object_recipients", "observables", "correlations")


def _rebuild_objects(then: list[str]) -> None:
    """uq_objects_version on columns `then` (SQLite: the table rebuilt, children kept)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in _CHILDREN:
            op.execute(f"CREATE TEMP TABLE keep_{name} AS SELECT * FROM {name}")
    with op.batch_alter_table('objects', recreate='always' if sqlite else 'auto') as batch_op:
        batch_op.drop_constraint('uq_objects_version', type_='unique')
        batch_op.create_unique_constraint('uq_objects_version', then)
    if sqlite:
        for name in _CHILDREN:
            op.execute(f"INSERT INTO {name} SELECT * FROM keep_{name}")
            op.execute(f"DROP TABLE keep_{name}")


def upgrade() -> None:
    op.drop_index('ix_federation_objects_origin', table_name='federation_objects')
    op.drop_table('federation_objects')
    op.drop_index('ix_objects_stix_id', table_name='objects')
    _rebuild_objects(['stix_id', 'collection', 'modified_us', 'submitter_code'])


def downgrade() -> None:
    _rebuild_objects(['collection', 'stix_id', 'modified_us', 'submitter_code'])
    op.create_index('ix_objects_stix_id', 'objects', ['stix_id'])
    op.create_table('federation_objects',
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('stix_id', sa.String(length=128), nullable=False),
    sa.Column('modified_us', sa.BigInteger(), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('via', sa.String(length=64), nullable=False),
    sa.Column('received_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('collection', 'stix_id', 'modified_us'))
    op.create_index('ix_federation_objects_origin', 'federation_objects', ['origin'])
    # the peer each version came through was not kept: its origin stands in for it
    op.execute("INSERT INTO federation_objects (collection, stix_id, modified_us, origin, via, received_us) "
               "SELECT collection, stix_id, modified_us, min(substr(source, 12)), min(substr(source, 12)), "
               "min(date_added_us) "
               "FROM objects WHERE source LIKE 'federation:%' GROUP BY collection, stix_id, modified_us")
