"""Alembic migrations of the hub schema, shipped inside the package and run by Hub.open."""
