from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from vigil.errors import InvalidInputError
from vigil.store.base import Base
from vigil.store.db import (
    create_store_engine,
    current_revision,
    head_revision,
    parse_store_url,
    upgrade,
)


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


def test_upgrading_a_store_with_data_keeps_it(store_url: str, tmp_path: Path) -> None:
    import datetime as dt

    from sqlalchemy import insert

    from vigil.store.db import session_factory
    from vigil.store.models import IngestedBatch
    from vigil.store.profile_windows import BatchRepository

    engine = create_store_engine(store_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # start from an empty schema
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as connection:
        connection.execute(
            insert(IngestedBatch.__table__).values(
                batch_id="old-batch-1",
                model_id=None,
                kind="kpi",
                n_rows=1,
                received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with session_factory(engine)() as session:
        assert BatchRepository(session).claimed(["old-batch-1", "unknown"]) == {"old-batch-1"}
    engine.dispose()
