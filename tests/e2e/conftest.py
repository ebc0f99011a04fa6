from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live import LiveServer, make_token
from tests.store.conftest import _clear, postgres_url, store_url
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
