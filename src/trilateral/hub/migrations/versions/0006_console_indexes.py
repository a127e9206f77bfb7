"""Console read indexes (issue 19).

Reserved slot in the migration chain so parallel work lands without re-chaining;
empty until its issue fills it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:15:00
"""
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
