"""Alembic environment: runs on the connection ``Store.migrate()`` passes in."""

from __future__ import annotations

from alembic import context

from netfleet.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("netfleet migrations run through Store.migrate(), not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
context.run_migrations()
