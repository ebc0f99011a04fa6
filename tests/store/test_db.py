from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from vigil.errors import InvalidInputError
from vigil.store.db import (
    create_store_engine,
    current_revision,
    head_revision,
    parse_store_url,
    upgrade,
)
from vigil.store.models import Base


def test_migrations_create_exactly_the_models(store_url: str) -> None:
    engine = create_store_engine(store_url)
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'sub' / 'v.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "sub" / "v.db").exists()
    engine.dispose()


def _migrate(url: str) -> str | None:
    engine = create_store_engine(url)
    upgrade(engine)
    revision = current_revision(engine)
    engine.dispose()
    return revision


def test_several_processes_migrating_at_once_agree(store_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        revisions = pool.map(_migrate, [store_url] * 4)
    assert revisions == [head_revision()] * 4
    engine = create_store_engine(store_url)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    engine.dispose()


def test_postgresql_urls_use_psycopg_and_other_backends_are_refused() -> None:
    assert parse_store_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(InvalidInputError, match="mysql"):
        parse_store_url("mysql://u@h/db")
    with pytest.raises(InvalidInputError, match="not a database URL"):
        parse_store_url("::nonsense::")
