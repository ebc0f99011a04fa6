"""`Store.read_session`: reads that never wait for a writer, and cannot write, on both backends.

The tests hold a writer's transaction open (uncommitted) for the whole read. A read that waited for
it would wait until the end of SQLite's busy timeout and fail with "database is locked" (or hang on
PostgreSQL), so the reads' answers prove they did not wait: no test here times anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.store.helpers import SPEC
from vigil.ingestion import service
from vigil.store.core import Store
from vigil.store.db import reader_beside
from vigil.store.models import MonitoredModel
from vigil.store.repositories import ModelRepository


def _names(store: Store) -> list[str]:
    with store.read_session() as reader:
        return list(reader.scalars(select(MonitoredModel.name).order_by(MonitoredModel.name)))


def test_a_read_session_reads_the_last_commit_while_a_writer_holds_its_transaction(
    store: Store,
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC.model_copy(update={"name": "committed"}))
        session.commit()
    with store.session() as writer:
        ModelRepository(writer).create(SPEC.model_copy(update={"name": "uncommitted"}))
        writer.flush()  # SQLite: the write lock is held from BEGIN IMMEDIATE until the rollback
        assert _names(store) == ["committed"]
        writer.rollback()
    assert _names(store) == ["committed"]


def test_a_write_in_a_read_session_fails_and_writes_nothing(store: Store) -> None:
    with store.read_session() as reader:
        models = ModelRepository(reader)
        with pytest.raises(DBAPIError) as raised:
            models.create(SPEC)  # it flushes, to tell a new model from an existing one
    message = str(raised.value).lower()
    assert "readonly" in message or "read-only" in message, message
    assert _names(store) == []


def test_read_sessions_end_read_only_and_writes_go_on(store: Store) -> None:
    """A read session's connection goes back to the pool (PostgreSQL shares one pool for both):
    the sessions that write afterwards still write."""
    made: list[str] = []
    for name in ("a", "b"):
        assert _names(store) == made
        with store.session() as session:
            service.create_model(session, SPEC.model_copy(update={"name": name}))
            session.commit()
        made.append(name)
    assert _names(store) == ["a", "b"]


def test_reader_beside_is_a_read_session_of_the_same_store(store: Store) -> None:
    with store.session() as session, reader_beside(session) as reader:
        assert reader is not session
        assert reader.get_bind() is store.read_engine
        with pytest.raises(DBAPIError):
            reader.execute(text("DELETE FROM monitored_models"))


def test_an_in_memory_store_reads_and_writes_in_its_one_connection(tmp_path: Path) -> None:
    """An in-memory SQLite database is one connection shared by every session: its read sessions
    are plain ones (a second engine would open another, empty database)."""
    store = Store.open("sqlite://", str(tmp_path / "artifacts"))
    try:
        assert store.read_engine is store.engine
        with store.session() as session:
            service.create_model(session, SPEC)
            session.commit()
        assert _names(store) == [SPEC.name]
    finally:
        store.close()
