"""Federation: peers, sync cursors, provenance, tombstones (issue 18).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 07:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('federation_peers',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('added_us', sa.BigInteger(), nullable=False),
    sa.Column('last_attempt_us', sa.BigInteger(), nullable=True),
    sa.Column('last_ok_us', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('code'))
    op.create_table('federation_cursors',
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('added_after', sa.String(length=40), nullable=True),
    sa.Column('next_token', sa.Text(), nullable=True),
    sa.Column('round_last', sa.String(length=40), nullable=True),
    sa.Column('updated_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('peer', 'collection'))
    op.create_table('federation_objects',
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('stix_id', sa.String(length=128), nullable=False),
    sa.Column('modified_us', sa.BigInteger(), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('via', sa.String(length=64), nullable=False),
    sa.Column('received_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('collection', 'stix_id', 'modified_us'))
    op.create_index('ix_federation_objects_origin', 'federation_objects', ['origin'])
    op.create_table('federation_tombstones',
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('stix_id', sa.String(length=128), nullable=False),
    sa.Column('modified_us', sa.BigInteger(), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('deleted_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('collection', 'stix_id', 'modified_us'))


def downgrade() -> None:
    op.drop_table('federation_tombstones')
    op.drop_index('ix_federation_objects_origin', table_name='federation_objects')
    op.drop_table('federation_objects')
    op.drop_table('federation_cursors')
    op.drop_table('federation_peers')
