from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.live import LiveServer, make_token
from tests.store.conftest import _clear, postgres_url, store_url
from tests.store.pg import new_database
from vigil.store.core import Store

__all__ = ["postgres_url", "store_url"]


@pytest.fixture
def clean_store_url(store_url: str, tmp_path: Path) -> str:
    """`store_url` (SQLite or PostgreSQL), migrated and emptied."""
    store = Store.open(store_url, str(tmp_path / "artifacts"))
    if store.engine.dialect.name == "postgresql":
        _clear(store)
    store.close()
    return store_url


@pytest.fixture
def live(clean_store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(clean_store_url, str(tmp_path / "artifacts"), tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def admin_token(live: LiveServer) -> str:
    return make_token(live.store_url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend for a module's tests that leave it running (a server start costs
    seconds of CPU): on a store of its own (a new SQLite file, or a new PostgreSQL database), so
    no other test empties it under them. Each test uses model and KPI names of its own and a
    fresh token (`shared_token`); a test that stops or kills a server uses `live` instead."""
    folder = tmp_path_factory.mktemp("shared_live")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{folder / 'vigil.db'}"
        else:
            session_url = make_url(request.getfixturevalue("postgres_url"))
            name = f"{session_url.database}_shared_{uuid.uuid4().hex[:8]}"
            url = stack.enter_context(new_database(session_url, name))
        server = LiveServer(url, str(folder / "artifacts"), folder / "server.log")
        stack.callback(server.stop)
        yield server.start()


@pytest.fixture
def shared_token(shared_live: LiveServer) -> str:
    """A new admin token on `shared_live`'s store."""
    return make_token(shared_live.store_url)
