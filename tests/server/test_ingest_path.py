"""The ingestion routes' direct path (`vigil.server.ingest_path`) answers every request exactly
as the router does: the same checks in the same order, the same errors, the same stored result,
the same metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.server.conftest import auth, make_tokens
from tests.store.helpers import SPEC, T0, labels_table, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LabelBatch, table_to_ipc
from vigil.server import Settings, create_app
from vigil.server.ingest_path import IngestionPath, direct_routes
from vigil.server.json_body import guard_json_body
from vigil.server.routers import ingest
from vigil.store.core import Store

BINARY = {"Content-Type": CONTENT_TYPE}
LOG = "/api/v1/models/churn/log"
LABELS = "/api/v1/models/churn/labels"


def _unused() -> None:
    """A dependency no route has: overriding it sends every request through the router."""


def _app(folder: Path, *, router_only: bool) -> tuple[TestClient, dict[Scope, str]]:
    store = Store.open(f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts"))
    settings = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        max_request_bytes=1 << 16,
        monitor_scheduler=False,
        events_dispatcher=False,
    )
    app = create_app(settings, store=store)
    if router_only:
        app.dependency_overrides[_unused] = _unused
    return TestClient(app), make_tokens(store)


def _requests(tokens: dict[Scope, str]) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(method, path, headers, body) of each request, in order; bodies built once, so both apps
    get the same batch ids."""
    write, read = auth(tokens[Scope.WRITE]), auth(tokens[Scope.READ])
    batch = log_batch(20, seed=1).encode()
    other = log_batch(5, seed=2, start=T0 + dt.timedelta(hours=1)).encode()
    labels = LabelBatch(
        rows=table_to_ipc(labels_table(["r0", "r1"], [1, 0], T0 + dt.timedelta(hours=2)))
    ).encode()
    deep = b"[" * 200 + b"]" * 200
    bomb = table_to_ipc(pa.table({"x": pa.array(range(10))}))
    return [
        ("POST", LOG, {**write, **BINARY}, batch),
        ("POST", LOG, {**write, **BINARY}, batch),  # the same batch again: a duplicate
        ("POST", LOG, {**write, **BINARY}, other),
        ("POST", LABELS, {**write, **BINARY}, labels),
        ("POST", LABELS, {**write, **BINARY}, labels),
        ("POST", LOG, {**read, **BINARY}, other),
        ("POST", LABELS, {**read, **BINARY}, labels),
        ("POST", LOG, BINARY, other),
        ("POST", LOG, {"Authorization": "Basic dXNlcjpwdw==", **BINARY}, other),
        ("POST", LOG, {**auth("vgl_not-a-real-token"), **BINARY}, other),
        ("POST", LOG, {"Authorization": "Bearer", **BINARY}, other),
        ("POST", "/api/v1/models/nobody/log", {**write, **BINARY}, other),
        ("POST", "/api/v1/models/no%20body/log", {**write, **BINARY}, other),
        ("POST", LOG, {**write, **BINARY}, b"not a batch"),
        ("POST", LABELS, {**write, **BINARY}, b"not a batch"),
        ("POST", LOG, {**write, **BINARY}, b""),
        ("POST", LOG, {**write, "Content-Type": "application/json"}, deep),
        ("POST", LOG, {"Content-Type": "application/json"}, deep),  # the guard runs first
        ("POST", LOG, {**write}, deep),  # no content type: read as JSON
        ("POST", LOG, {**write, **BINARY}, b"x" * (1 << 17)),
        ("POST", LOG, {**write, **BINARY, "Content-Encoding": "gzip"}, other),
        ("POST", LOG + "/", {**write, **BINARY}, other),
        ("GET", LOG, write, b""),
        ("PUT", LABELS, {**write, **BINARY}, labels),
        ("POST", "/api/v1/models/churn/log-batch", {**write, **BINARY}, other),
        ("POST", LABELS, {**write, **BINARY}, LabelBatch(rows=bomb).encode()),
    ]


def _answer(
    client: TestClient, method: str, path: str, headers: dict[str, str], body: bytes
) -> Any:
    response = client.request(method, path, headers=headers, content=body)
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text
    return response.status_code, response.headers.get("content-type"), payload


def _http_counts(client: TestClient, token: str) -> list[str]:
    text = client.get("/metrics", headers=auth(token)).text
    return sorted(
        line
        for line in text.splitlines()
        if line.startswith(("vigil_http_request", "vigil_rows", "vigil_labels_ingested_total"))
        and "/metrics" not in line
        and "_created" not in line
    )


Apps = tuple[TestClient, TestClient, dict[str, dict[Scope, str]]]


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[Apps]:
    """An app with the direct path and one whose requests all go through the router, on stores
    of their own; and each app's tokens."""
    direct, tokens = _app(tmp_path / "direct", router_only=False)
    routed, other_tokens = _app(tmp_path / "routed", router_only=True)
    with direct, routed:
        for client, scopes in ((direct, tokens), (routed, other_tokens)):
            headers = auth(scopes[Scope.WRITE])
            response = client.post("/api/v1/models", json=SPEC.model_dump(), headers=headers)
            assert response.is_success, response.text
        yield direct, routed, {"direct": tokens, "routed": other_tokens}


def test_the_direct_path_answers_every_request_as_the_router_does(apps: Apps) -> None:
    direct, routed, tokens = apps
    sent_direct = _requests(tokens["direct"])
    sent_routed = _requests(tokens["routed"])
    statuses = set()
    # The same bodies (batch ids) to both apps, each app with its own tokens.
    for index, (request, same) in enumerate(zip(sent_direct, sent_routed, strict=True)):
        method, path, headers, body = request
        answer = _answer(direct, method, path, headers, body)
        expected = _answer(routed, same[0], same[1], same[2], body)
        assert answer == expected, (index, method, path)
        statuses.add(answer[0])
    assert {200, 401, 403, 404, 405, 413, 415, 422} <= statuses
    windows = "/api/v1/models/churn/windows"
    stored = [
        [
            {k: v for k, v in w.items() if not k.endswith("_arrival")}
            for w in client.get(windows, headers=auth(tokens[name][Scope.READ])).json()
        ]
        for client, name in ((direct, "direct"), (routed, "routed"))
    ]
    assert stored[0] == stored[1]
    assert [w["n_rows"] for w in stored[0]] == [20, 5]
    assert _http_counts(direct, tokens["direct"][Scope.ADMIN]) == _http_counts(
        routed, tokens["routed"][Scope.ADMIN]
    )


def test_requests_through_the_direct_path_are_counted_under_their_route_template(
    apps: Apps,
) -> None:
    direct, _, tokens = apps
    write = auth(tokens["direct"][Scope.WRITE])
    assert direct.post(LOG, headers={**write, **BINARY}, content=log_batch(3).encode()).is_success
    counts = _http_counts(direct, tokens["direct"][Scope.ADMIN])
    assert any(
        'route="/api/v1/models/{name}/log"' in line and 'status="200"' in line for line in counts
    ), counts


def test_a_route_with_a_dependency_the_direct_path_does_not_run_is_refused() -> None:
    app = FastAPI(dependencies=[Depends(guard_json_body)])
    app.add_api_route(LOG, ingest.log, methods=["POST"], dependencies=[Depends(_unused)])
    with pytest.raises(RuntimeError, match="direct path"):
        direct_routes(app)


def test_an_app_dependency_the_direct_path_does_not_run_is_refused() -> None:
    app = FastAPI(dependencies=[Depends(guard_json_body), Depends(_unused)])
    app.add_api_route(LOG, ingest.log, methods=["POST"])
    with pytest.raises(RuntimeError, match="guard_json_body"):
        direct_routes(app)


def test_the_app_serves_both_ingestion_routes_directly() -> None:
    app = create_app(Settings(store_url="sqlite://", artifacts_url="unused"))
    paths = sorted(d.route.path for d in direct_routes(app))
    assert paths == ["/api/v1/models/{name}/labels", "/api/v1/models/{name}/log"]
    assert any(m.cls is IngestionPath for m in app.user_middleware)
