"""Hub hardening: object ownership and marking normalisation (issue 14).

`object_owners` records who stored the first version of each (lower-cased) id; `objects.shadow`
marks a copy stored by anyone else, read by its submitter only; a version is unique per submitter
(deterministic-id SCOs: each submitter's copy is its own). Existing rows: ids are lower-cased, the
first storer of each id becomes its owner and later copies by others become shadows.

SQLite cannot drop a table constraint in place: the objects table is rebuilt. Its children
(recipients, observables, correlations) would be emptied by the cascade of the DROP TABLE that
rebuild issues (foreign keys are on and cannot be switched off inside the migration's
transaction), so they are copied aside and put back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 07:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SCO_TYPES = ("artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
             "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software",
             "url", "user-account", "windows-registry-key", "x509-certificate")
_CHILDREN = ("object_recipients", "observables", "correlations")


def upgrade() -> None:
    op.create_table('object_owners',
    sa.Column('stix_id', sa.String(length=128), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('created_by_ref', sa.String(length=128), nullable=True),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('stix_id'))
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in _CHILDREN:
            op.execute(f"CREATE TEMP TABLE keep_{name} AS SELECT * FROM {name}")
    with op.batch_alter_table('objects', recreate='always' if sqlite else 'auto') as batch_op:
        batch_op.add_column(sa.Column('shadow', sa.Boolean(create_constraint=False), nullable=False,
                                      server_default=sa.false()))
        batch_op.drop_constraint('uq_objects_version', type_='unique')
        batch_op.create_unique_constraint('uq_objects_version',
                                          ['collection', 'stix_id', 'modified_us', 'submitter_code'])
    if sqlite:
        for name in _CHILDREN:
            op.execute(f"INSERT INTO {name} SELECT * FROM keep_{name}")
            op.execute(f"DROP TABLE keep_{name}")
    op.execute("UPDATE objects SET stix_id = lower(stix_id) WHERE stix_id <> lower(stix_id) AND NOT EXISTS ("
               "SELECT 1 FROM objects o2 WHERE o2.collection = objects.collection AND o2.stix_id = lower(objects.stix_id)"
               " AND o2.modified_us = objects.modified_us AND o2.submitter_code = objects.submitter_code)")
    scos = ", ".join(f"'{t}'" for t in SCO_TYPES)
    op.execute("INSERT INTO object_owners (stix_id, owner, created_by_ref, created_us) "
               "SELECT o.stix_id, o.submitter_code, NULL, o.date_added_us FROM objects o "
               "WHERE o.seq IN (SELECT min(seq) FROM objects GROUP BY stix_id) "
               f"AND o.stix_type NOT IN ({scos})")
    op.execute("UPDATE objects SET shadow = true WHERE EXISTS (SELECT 1 FROM object_owners w WHERE "
               "w.stix_id = objects.stix_id AND w.owner <> objects.submitter_code)")


def downgrade() -> None:
    with op.batch_alter_table('objects') as batch_op:
        batch_op.drop_constraint('uq_objects_version', type_='unique')
        batch_op.create_unique_constraint('uq_objects_version', ['collection', 'stix_id', 'modified_us'])
        batch_op.drop_column('shadow')
    op.drop_table('object_owners')
