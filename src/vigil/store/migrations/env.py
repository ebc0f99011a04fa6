"""Alembic environment: runs on the connection that `vigil.store.db.upgrade` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from vigil.store.base import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "Vigil migrations run through vigil.store.db.upgrade (or `vigil db upgrade`), "
        "which passes a connection; they have no alembic.ini of their own"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
