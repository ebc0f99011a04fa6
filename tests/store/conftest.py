from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.store.pg import postgres_url
from vigil.store.base import Base
from vigil.store.core import Store

__all__ = ["postgres_url"]


def _clear(store: Store) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """An opened, migrated, empty store on each backend, with a local artifact folder."""
    opened = Store.open(store_url, str(tmp_path / "artifacts"))
    if opened.engine.dialect.name == "postgresql":
        _clear(opened)
    try:
        yield opened
    finally:
        opened.close()
