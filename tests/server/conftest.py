from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.store.conftest import postgres_url, store, store_url
from tests.store.migrated import sqlite_copy
from tests.store.pg import new_database
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


@contextmanager
def app_client(store: Store, **settings: object) -> Iterator[TestClient]:
    """A started test client of an app on `store`, with these settings."""
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
    with app_client(server_store, max_request_bytes=1 << 20) as client:
        yield client


@pytest.fixture
def tokens(server_store: Store) -> dict[Scope, str]:
    return make_tokens(server_store)


@dataclass(frozen=True)
class SharedApi:
    """A test client of an app and a live token per scope, shared by the tests of a module."""

    client: TestClient
    tokens: dict[Scope, str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_sqlite: Path,
) -> Iterator[SharedApi]:
    """An app on a store of its own (each backend; on PostgreSQL a database of its own, apart from
    the session's one that function-scoped stores clear), made once per module: for tests whose
    requests cannot change one another's answers. An app's first request builds its routes'
    state (about 0.15 s), which hundreds of such tests each paid."""
    folder = tmp_path_factory.mktemp("shared-api")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_copy(migrated_sqlite, folder / "vigil.db")
        else:
            session_url: str = request.getfixturevalue("postgres_url")
            url = stack.enter_context(
                new_database(session_url, f"vigil_shared_{uuid.uuid4().hex[:12]}")
            )
        opened = Store.open(url, str(folder / "artifacts"))
        stack.callback(opened.close)
        tokens = make_tokens(opened)
        client = stack.enter_context(
            TestClient(
                create_app(
                    Settings(store_url=url, artifacts_url=opened.artifacts.url), store=opened
                )
            )
        )
        yield SharedApi(client, tokens)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
