"""Screening look-ups: observable index (issue 14).

Reserved slot in the migration chain so parallel work lands without re-chaining;
empty until its issue fills it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 07:15:00
"""
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
