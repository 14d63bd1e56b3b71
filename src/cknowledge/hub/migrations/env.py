"""Alembic environment of the hub: always run from code (``cknowledge.hub.db.migrate``),
which hands over an open connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from cknowledge.hub.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the hub migrations run from cknowledge.hub.db.migrate(), "
                       "which passes an open connection")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
