"""Alembic environment: runs on the connection Hub.open passes in (config.attributes['connection'])."""

from __future__ import annotations

from alembic import context

from trilateral.hub.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # e.g. `alembic revision --autogenerate` during development
    import sqlalchemy as sa

    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
