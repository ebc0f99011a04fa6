from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.store.migrated import sqlite_copy
from tests.store.pg import postgres_url
from vigil.store.base import Base
from vigil.store.core import Store

__all__ = ["postgres_url"]


LOCK_WAIT = "20s"
"""How long the TRUNCATE waits for its locks before the sessions holding them are ended."""


def _clear(store: Store) -> None:
    """Empty every table of the session's database. The database is this test process's own, so
    a session still open on it when a test starts was left by an earlier test (a connection
    checked out and never returned, idle in a transaction, holding locks the TRUNCATE needs):
    rather than wait for it forever, the TRUNCATE waits LOCK_WAIT, then ends those sessions with a
    warning naming what they last ran, and runs again."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    statement = text(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    try:
        with store.engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
            connection.execute(statement)
        return
    except OperationalError as exc:
        if "lock timeout" not in str(exc):
            raise
    with store.engine.begin() as connection:
        left = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid), state, left(query, 300) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        ).all()
    warnings.warn(
        f"{len(left)} session(s) left open on the test database by an earlier test, ended: "
        + "; ".join(f"{state}: {query}" for _, state, query in left),
        stacklevel=1,
    )
    with store.engine.begin() as connection:
        connection.execute(statement)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str, tmp_path: Path, migrated_sqlite: Path) -> Iterator[Store]:
    """An opened, migrated, empty store on each backend, with a local artifact folder (on SQLite
    a copy of the migrated file, `migrated_sqlite`)."""
    if store_url.startswith("sqlite:///"):
        store_url = sqlite_copy(migrated_sqlite, Path(store_url.removeprefix("sqlite:///")))
    opened = Store.open(store_url, str(tmp_path / "artifacts"))
    if opened.engine.dialect.name == "postgresql":
        _clear(opened)
    try:
        yield opened
    finally:
        opened.close()
