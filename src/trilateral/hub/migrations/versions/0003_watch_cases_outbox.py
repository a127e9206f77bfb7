"""Live watch: cases, taint state, processed blocks (undo for reorgs), alerts, outbox, webhooks.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-04 17:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('watch_cases',
    sa.Column('id', Seq, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('seeds', sa.Text(), nullable=False),
    sa.Column('seed_txs', sa.Text(), nullable=False),
    sa.Column('incident', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('opened_us', sa.BigInteger(), nullable=False),
    sa.Column('closed_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'))
    op.create_table('watch_state',
    sa.Column('owner', sa.String(length=80), nullable=False),
    sa.Column('map', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'map', 'key'))
    op.create_table('watch_blocks',
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('number', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=80), nullable=False),
    sa.Column('parent_hash', sa.String(length=80), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('undo', sa.Text(), nullable=False),
    sa.Column('processed_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('chain', 'number'))
    op.create_table('watch_alerts',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('block_number', sa.BigInteger(), nullable=False),
    sa.Column('block_hash', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('retracted_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_watch_alerts_block', 'watch_alerts', ['chain', 'block_hash'])
    op.create_index('ix_watch_alerts_case', 'watch_alerts', ['case_id'])
    op.create_table('watch_outbox',
    sa.Column('id', Seq, autoincrement=True, nullable=False),
    sa.Column('idem_key', sa.String(length=100), nullable=False),
    sa.Column('destination', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_us', sa.BigInteger(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('delivered_us', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key', 'destination', name='uq_watch_outbox_key'))
    op.create_index('ix_watch_outbox_due', 'watch_outbox', ['status', 'next_attempt_us'])
    op.create_table('watch_webhooks',
    sa.Column('id', Seq, autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('revoked_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code', 'url', name='uq_watch_webhooks_url'))


def downgrade() -> None:
    for name in ('watch_webhooks', 'watch_outbox', 'watch_alerts', 'watch_blocks', 'watch_state', 'watch_cases'):
        op.drop_table(name)
