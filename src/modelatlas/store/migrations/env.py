"""Alembic environment: always handed a live connection by modelatlas.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from modelatlas.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
if connection.dialect.name == "postgresql":
    # Several `modelatlas serve` processes may start at once: one migrates, others wait.
    connection.execute(text("SELECT pg_advisory_xact_lock(724301)"))
context.run_migrations()
