"""Initial hub schema: principals, objects (one row per version), recipients, observables,
correlations, statuses, audit log, meta (cursor secret, audit head).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 15:18:47.526725
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at_us', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('hub_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('objects',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('stix_id', sa.String(length=128), nullable=False),
    sa.Column('stix_type', sa.String(length=128), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=True),
    sa.Column('modified_us', sa.BigInteger(), nullable=False),
    sa.Column('date_added_us', sa.BigInteger(), nullable=False),
    sa.Column('tlp', sa.SmallInteger(), nullable=False),
    sa.Column('submitter_code', sa.String(length=64), nullable=False),
    sa.Column('submitter_member', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status_id', sa.String(length=36), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('ref_id', sa.String(length=128), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('collection', 'stix_id', 'modified_us', name='uq_objects_version')
    )
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.create_index('ix_objects_page', ['collection', 'date_added_us', 'seq'], unique=False)
        batch_op.create_index('ix_objects_ref', ['ref_id'], unique=False)

    op.create_table('principals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('sponsor', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('token_rotated_us', sa.BigInteger(), nullable=True),
    sa.Column('revoked_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('statuses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('submitter_member', sa.String(length=64), nullable=False),
    sa.Column('collection', sa.String(length=80), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('correlations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('seq_a', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq_b', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=1024), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['seq_a'], ['objects.seq'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seq_b'], ['objects.seq'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correlations', schema=None) as batch_op:
        batch_op.create_index('ix_correlations_a', ['seq_a'], unique=False)
        batch_op.create_index('ix_correlations_b', ['seq_b'], unique=False)

    op.create_table('object_recipients',
    sa.Column('object_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['object_seq'], ['objects.seq'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('object_seq', 'code')
    )
    with op.batch_alter_table('object_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_recipients_code', ['code', 'object_seq'], unique=False)

    op.create_table('observables',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('object_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=1024), nullable=False),
    sa.Column('submitter_member', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['object_seq'], ['objects.seq'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observables', schema=None) as batch_op:
        batch_op.create_index('ix_observables_object', ['object_seq'], unique=False)
        batch_op.create_index('ix_observables_value', ['kind', 'value'], unique=False)

    op.create_table('status_details',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('status_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stix_id', sa.String(length=128), nullable=True),
    sa.Column('version', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('tlp', sa.SmallInteger(), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_details', schema=None) as batch_op:
        batch_op.create_index('ix_status_details_status', ['status_id', 'position'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_details', schema=None) as batch_op:
        batch_op.drop_index('ix_status_details_status')

    op.drop_table('status_details')
    with op.batch_alter_table('observables', schema=None) as batch_op:
        batch_op.drop_index('ix_observables_value')
        batch_op.drop_index('ix_observables_object')

    op.drop_table('observables')
    with op.batch_alter_table('object_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_code')

    op.drop_table('object_recipients')
    with op.batch_alter_table('correlations', schema=None) as batch_op:
        batch_op.drop_index('ix_correlations_b')
        batch_op.drop_index('ix_correlations_a')

    op.drop_table('correlations')
    op.drop_table('statuses')
    op.drop_table('principals')
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_index('ix_objects_ref')
        batch_op.drop_index('ix_objects_page')

    op.drop_table('objects')
    op.drop_table('hub_meta')
    op.drop_table('audit_log')
