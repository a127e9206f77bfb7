"""Hub hardening: object ownership and marking normalisation (issue 14).

Reserved slot in the migration chain so parallel work lands without re-chaining;
empty until its issue fills it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 07:15:00
"""
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
