from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.store.conftest import postgres_url, store, store_url
from vigil.api.specs import Scope
from vigil.server import Settings, create_app
from vigil.store.core import Store
from vigil.store.repositories import TokenRepository

__all__ = ["postgres_url", "store", "store_url"]


def make_tokens(store: Store) -> dict[Scope, str]:
    """One live token per scope."""
    tokens = {}
    with store.session() as session:
        for scope in Scope:
            _, secret = TokenRepository(session).create(scope, name=f"test-{scope.value}")
            tokens[scope] = secret
        session.commit()
    return tokens


@pytest.fixture
def server_store(store: Store) -> Store:
    """The app's store, on each backend (SQLite, PostgreSQL)."""
    return store


def _client(store: Store, **settings: object) -> Iterator[TestClient]:
    config = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        **settings,
    )
    with TestClient(create_app(config, store=store)) as client:
        yield client


@pytest.fixture
def api(server_store: Store) -> Iterator[TestClient]:
    """A test client of an app on a fresh store (each backend), with a 1 MiB body limit."""
    yield from _client(server_store, max_request_bytes=1 << 20)


@pytest.fixture
def tokens(server_store: Store) -> dict[Scope, str]:
    return make_tokens(server_store)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
