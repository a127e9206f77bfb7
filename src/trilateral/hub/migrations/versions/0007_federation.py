"""Federation: peers, sync cursors, provenance (issue 18).

Reserved slot in the migration chain so parallel work lands without re-chaining;
empty until its issue fills it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 07:15:00
"""
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
