"""Bounded work per request (issue 14, point 3): the time limit of every request, the query guard
that makes it real for work in the thread pool, and compressed bodies refused."""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.server.conftest import auth, make_tokens
from tests.waits import patience, wait_until
from vigil.api.specs import Scope
from vigil.api.tracking import DatasetVersionIn
from vigil.deadline import DEADLINE
from vigil.errors import InvalidInputError, TimeLimitError
from vigil.server import Settings, create_app
from vigil.server.deps import StoreDep
from vigil.store.core import Store
from vigil.tracking.datasets import CHUNK_PREFIX, DatasetService

# A statement that never ends on its own, per backend.
ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(3600)",
}

LIMIT = round(patience(1.0), 1)  # the route must get to its query within the limit
started: list[bool] = []


def call_endless(client: TestClient) -> Any:
    """GET the endless route until it ran (on a loaded machine a request may time out before)."""
    for _ in range(5):
        response = client.get("/test/endless-query")
        if started:
            return response
    pytest.fail("the test route never started within the time limit")


@pytest.fixture
def slow_api(server_store: Store) -> Iterator[tuple[TestClient, list[BaseException]]]:
    """An app with a short time limit and a test-only route whose query never ends by itself;
    the list receives what that query raised once it stopped."""
    started.clear()
    settings = Settings(
        store_url=str(server_store.engine.url),
        artifacts_url=server_store.artifacts.url,
        request_timeout_seconds=LIMIT,
    )
    app = create_app(settings, store=server_store)
    stopped: list[BaseException] = []

    @app.get("/test/endless-query")
    def endless(store: StoreDep) -> dict[str, Any]:
        started.append(True)
        try:
            with store.session() as session:
                session.execute(text(ENDLESS[store.engine.dialect.name]))
        except BaseException as exc:
            stopped.append(exc)
            raise
        return {}

    with TestClient(app) as client:
        yield client, stopped


def test_a_request_past_its_time_limit_gets_a_timeout_error_and_its_query_stops(
    slow_api: tuple[TestClient, list[BaseException]], server_store: Store
) -> None:
    client, stopped = slow_api
    response = call_endless(client)
    assert response.status_code == 504
    body = response.json()
    assert body["error"] == "time_limit"
    assert f"{LIMIT:g} s" in body["message"]
    assert "Retry-After" not in response.headers
    # The query was interrupted (it would otherwise run for ever, holding SQLite's write lock).
    assert wait_until(lambda: stopped, 30)
    assert "interrupt" in str(stopped[0]).lower() or "cancel" in str(stopped[0]).lower()


def test_the_server_keeps_serving_writes_after_a_timed_out_request(
    slow_api: tuple[TestClient, list[BaseException]], server_store: Store
) -> None:
    client, stopped = slow_api
    assert call_endless(client).status_code == 504
    assert wait_until(lambda: stopped, 30)
    token = make_tokens(server_store)[Scope.WRITE]
    spec = {"name": "after-timeout", "features": ["x"]}
    # Each within the short limit; on a loaded machine one may time out first (504), as
    # `call_endless` allows: a server that stopped serving would never answer.
    created = _answered(lambda: client.post("/api/v1/models", json=spec, headers=auth(token)))
    assert created.status_code in (200, 201), created.text
    read = _answered(lambda: client.get("/api/v1/models/after-timeout", headers=auth(token)))
    assert read.status_code == 200, read.text


def _answered(call: Callable[[], Any]) -> Any:
    """`call()`'s response, tried again (at most 5 times) while it timed out (504)."""
    for _ in range(4):
        response = call()
        if response.status_code != 504:
            return response
    return call()


def test_a_request_within_its_time_limit_is_answered_as_usual(
    slow_api: tuple[TestClient, list[BaseException]],
) -> None:
    client, _ = slow_api
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "GZIP"])
def test_a_compressed_request_body_is_refused_before_it_is_read(
    api: TestClient, tokens: dict[Scope, str], encoding: str
) -> None:
    # A gzip bomb: 10 MiB of zeros in ~10 KiB. The server never inflates it.
    bomb = gzip.compress(b"\0" * (10 << 20))
    response = api.post(
        "/api/v1/models/m/log",
        content=bomb,
        headers={
            **auth(tokens[Scope.WRITE]),
            "Content-Encoding": encoding,
            "Content-Type": "application/vnd.vigil.batch+msgpack",
        },
    )
    assert response.status_code == 415
    body = response.json()
    assert body["error"] == "unsupported_encoding"
    assert encoding in body["message"]


def test_identity_content_encoding_is_accepted(api: TestClient) -> None:
    assert api.get("/health", headers={"Content-Encoding": "identity"}).status_code == 200


# Long loops that are not SQL stop at the deadline too ------------------------------------------


def _repeated_chunk_version(store: Store, repeats: int, size: int) -> tuple[Any, list[int]]:
    """A dataset version whose manifest names one stored 4 KiB chunk `repeats` times (what a
    hostile client sends to make the server read far more than it uploaded), and a list counting
    the chunk reads."""
    chunk = b"x" * 4096
    digest = hashlib.sha256(chunk).hexdigest()
    service = DatasetService(store)
    service.put_chunk(digest, chunk)
    reads: list[int] = []
    original = store.artifacts.get

    def counting_get(key: str) -> bytes:
        if key.startswith(CHUNK_PREFIX):
            reads.append(1)
        return original(key)

    store.artifacts.get = counting_get  # type: ignore[method-assign]
    spec = DatasetVersionIn(
        name="bomb",
        digest="0" * 64,
        size=size,
        chunk_size=4096,
        manifest=[digest] * repeats,
        content_format="file",
    )
    return lambda: service.register(spec), reads


def test_a_request_past_its_deadline_stops_reading_a_dataset_manifest(
    server_store: Store,
) -> None:
    register, reads = _repeated_chunk_version(server_store, 1000, 1000 * 4096)
    token = DEADLINE.set(time.monotonic() - 1)  # as in a request that already timed out
    try:
        with pytest.raises(TimeLimitError, match="time limit"):
            register()
    finally:
        DEADLINE.reset(token)
    assert reads == []


def test_a_manifest_longer_than_its_declared_size_stops_being_read(server_store: Store) -> None:
    register, reads = _repeated_chunk_version(server_store, 1000, 4096)
    with pytest.raises(InvalidInputError, match="the chunks hold"):
        register()
    assert len(reads) == 2  # the declared size was passed at the second chunk
