"""Small SQL helpers the store's repositories and the services share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT (DO NOTHING, DO UPDATE) on this session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
