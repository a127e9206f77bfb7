"""Console read indexes (issue 19).

* `ix_objects_stix_id` (stix_id): an id look-up without its collection (an indicator's sightings,
  the console's object page) probes instead of scanning every object.
* type-filtered reads in date order (Today's overdue actions, freeze requests, alerts) use
  0005's `ix_objects_type` (stix_type, date_added_us, seq).
* `ix_objects_ref` becomes partial (`WHERE ref_id IS NOT NULL`): only sightings and relationships carry a ref, so the
  index shrinks to them; `ref_id = ?` implies the condition, so both SQLite and PostgreSQL still use it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

REF_PRESENT = sa.text('ref_id IS NOT NULL')


def upgrade() -> None:
    op.create_index('ix_objects_stix_id', 'objects', ['stix_id'])
    op.drop_index('ix_objects_ref', table_name='objects')
    op.create_index('ix_objects_ref', 'objects', ['ref_id'], sqlite_where=REF_PRESENT, postgresql_where=REF_PRESENT)


def downgrade() -> None:
    op.drop_index('ix_objects_ref', table_name='objects')
    op.create_index('ix_objects_ref', 'objects', ['ref_id'])
    op.drop_index('ix_objects_stix_id', table_name='objects')
