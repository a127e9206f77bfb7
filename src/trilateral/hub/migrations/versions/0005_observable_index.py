"""Screening look-ups: observable index (issue 14).

Screening finds indicators through the `observables` (kind, value) index and DPRK links through
relationships' targets: relationships now keep their `target_ref` in `ref_id` (indexed, as sightings
keep `sighting_of_ref`), filled here for the relationships already stored, and `objects` gets a
(stix_type, date_added_us, seq) index so reading one small type (intrusion-set) pages without a scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 07:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MAX_REF = 128


def upgrade() -> None:
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.create_index('ix_objects_type', ['stix_type', 'date_added_us', 'seq'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        target = "(body::jsonb ->> 'target_ref')"
    else:
        target = "json_extract(body, '$.target_ref')"
    op.execute(sa.text(
        f"UPDATE objects SET ref_id = lower({target}) WHERE stix_type = 'relationship' AND ref_id IS NULL "
        f"AND length({target}) <= {MAX_REF}"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE objects SET ref_id = NULL WHERE stix_type = 'relationship'"))
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_index('ix_objects_type')
