from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import vigil
from tests.server.conftest import auth
from tests.store.helpers import SPEC, T0, labels_table, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch, table_to_ipc
from vigil.store.core import Store
from vigil.store.db import create_store_engine

BINARY = {"Content-Type": CONTENT_TYPE}


@pytest.fixture
def writer(api: TestClient, tokens: dict[Scope, str]) -> dict[str, str]:
    headers = auth(tokens[Scope.WRITE])
    assert api.post("/api/v1/models", json=SPEC.model_dump(), headers=headers).status_code == 201
    return headers


def _state(api: TestClient, headers: dict[str, str]) -> tuple[object, ...]:
    windows = api.get("/api/v1/models/churn/windows", headers=headers).json()
    volume = api.get("/api/v1/models/churn/volume", headers=headers).json()
    kpis = api.get("/api/v1/kpis", headers=headers).json()
    models = api.get("/api/v1/models", headers=headers).json()
    return windows, volume, kpis, models


def test_log_then_read_windows_profile_and_volume(api: TestClient, writer: dict[str, str]) -> None:
    for seed in range(2):
        response = api.post(
            "/api/v1/models/churn/log",
            content=log_batch(100, seed).encode(),
            headers=writer | BINARY,
        )
        assert response.status_code == 200, response.text
        assert response.json()["n_rows"] == 100
    windows = api.get("/api/v1/models/churn/windows", headers=writer).json()
    assert [(w["n_rows"], w["n_uploads"], w["version"]) for w in windows] == [(200, 2, "v1")]
    blob = api.get("/api/v1/models/churn/profile", headers=writer)
    assert blob.headers["content-type"] == "application/octet-stream"
    profile = vigil.DatasetProfile.from_bytes(blob.content)
    assert profile.n_rows == 200
    assert set(profile.columns) == {"age", "city", "label", "proba"}
    as_json = api.get("/api/v1/models/churn/profile?format=json", headers=writer).json()
    assert as_json["n_rows"] == 200
    after = (T0 + dt.timedelta(hours=1)).isoformat()
    empty = api.get("/api/v1/models/churn/windows", params={"start": after}, headers=writer)
    assert empty.json() == []
    volume = api.get("/api/v1/models/churn/volume", headers=writer).json()
    assert volume == [{"day": T0.date().isoformat(), "n_predictions": 200, "n_labelled": 0}]
    labels = LabelBatch(table_to_ipc(labels_table(["r0-1", "r1-2"], [1, 0], T0)))
    response = api.post(
        "/api/v1/models/churn/labels", content=labels.encode(), headers=writer | BINARY
    )
    assert response.status_code == 200, response.text
    volume = api.get("/api/v1/models/churn/volume", headers=writer).json()
    assert volume[0]["n_labelled"] == 2


def test_kpis_roundtrip(api: TestClient, writer: dict[str, str]) -> None:
    body = {
        "name": "revenue",
        "value": 12.5,
        "timestamp": T0.isoformat(),
        "model": "churn",
        "version": "v1",
    }
    assert api.post("/api/v1/kpis", json=body, headers=writer).status_code == 201
    listed = api.get("/api/v1/kpis", params={"model": "churn"}, headers=writer).json()
    assert [(k["name"], k["value"], k["version"]) for k in listed] == [("revenue", 12.5, "v1")]


def _bad_requests() -> Iterator[tuple[str, str, dict[str, object], int, str]]:
    yield (
        "POST",
        "/api/v1/models/churn/log",
        {"content": b"\x00\x01garbage"},
        422,
        "serialization_error",
    )
    yield "POST", "/api/v1/models/churn/log", {"content": b""}, 422, "serialization_error"
    yield (
        "POST",
        "/api/v1/models/churn/log",
        {"content": LogBatch("v1", [b"VGPbroken"], None).encode()},
        422,
        "serialization_error",
    )
    wrong = vigil.profile({"salary": [1.0]}, window=(T0, T0 + dt.timedelta(hours=1)))
    yield (
        "POST",
        "/api/v1/models/churn/log",
        {"content": LogBatch("v1", [wrong.to_bytes()]).encode()},
        422,
        "invalid_input",
    )
    yield "POST", "/api/v1/models/ghost/log", {"content": log_batch(5).encode()}, 404, "not_found"
    yield "POST", "/api/v1/models/churn/labels", {"content": b"{}"}, 422, "serialization_error"
    yield (
        "POST",
        "/api/v1/models",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        422,
        "invalid_input",
    )
    yield "POST", "/api/v1/models", {"json": {"name": "../etc"}}, 422, "invalid_input"
    yield (
        "POST",
        "/api/v1/models",
        {"json": {"name": "x", "features": ["a"], "scores": ["a"]}},
        422,
        "invalid_input",
    )
    yield (
        "POST",
        "/api/v1/models",
        {"json": {**SPEC.model_dump(), "features": ["other"]}},
        409,
        "conflict",
    )
    yield "POST", "/api/v1/kpis", {"json": {"name": "k", "value": "NaN"}}, 422, "invalid_input"
    yield (
        "POST",
        "/api/v1/kpis",
        {"json": {"name": "k", "value": 1, "model": "ghost"}},
        404,
        "not_found",
    )
    yield (
        "GET",
        "/api/v1/models/churn/windows",
        {"params": {"start": "yesterday"}},
        422,
        "invalid_input",
    )
    yield "GET", "/api/v1/nothing-here", {}, 404, "not_found"


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "code"), list(_bad_requests()))
def test_bad_requests_get_a_json_4xx_and_change_nothing(
    api: TestClient,
    writer: dict[str, str],
    method: str,
    url: str,
    kwargs: dict[str, object],
    status: int,
    code: str,
) -> None:
    api.post("/api/v1/models/churn/log", content=log_batch(10).encode(), headers=writer | BINARY)
    before = _state(api, writer)
    extra = dict(kwargs)
    headers = writer | dict(extra.pop("headers", {}))  # type: ignore[arg-type]
    response = api.request(method, url, headers=headers, **extra)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert len(body["message"]) > 10
    assert _state(api, writer) == before


def test_oversized_bodies_get_413_json(api: TestClient, writer: dict[str, str]) -> None:
    big = b"x" * ((1 << 20) + 1)
    response = api.post("/api/v1/models/churn/log", content=big, headers=writer | BINARY)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert str(1 << 20) in response.json()["message"]

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 65536

    response = api.post(
        "/api/v1/models", content=chunks(), headers=writer | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert api.get("/api/v1/models/churn/windows", headers=writer).json() == []


def test_metrics_are_prometheus_text(api: TestClient, writer: dict[str, str]) -> None:
    api.post("/api/v1/models/churn/log", content=log_batch(25).encode(), headers=writer | BINARY)
    api.post("/api/v1/models/ghost/log", content=log_batch(5).encode(), headers=writer | BINARY)
    response = api.get("/metrics", headers=writer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("vigil_rows_ingested_total", (("model", "churn"),))] == 25
    assert samples[("vigil_profiles_ingested_total", (("model", "churn"),))] == 1
    assert samples[("vigil_last_arrival_timestamp_seconds", (("model", "churn"),))] > 1.7e9
    assert samples[("vigil_ingestion_latency_seconds_count", (("kind", "log"),))] == 1
    errors = (("route", "/api/v1/models/{name}/log"), ("status", "404"))
    assert samples[("vigil_http_request_errors_total", errors)] == 1
    assert not any("ghost" in str(key) for key in samples)


def test_each_app_has_its_own_metrics(
    api: TestClient, writer: dict[str, str], server_store: object
) -> None:
    from vigil.server import Settings, create_app

    other = create_app(Settings(store_url="sqlite://", artifacts_url="unused"))
    assert other.state.metrics.registry is not api.app.state.metrics.registry  # type: ignore[attr-defined]


def test_openapi_document_lists_the_api(api: TestClient, tokens: dict[Scope, str]) -> None:
    document = api.get("/openapi.json", headers=auth(tokens[Scope.READ])).json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/models/{name}/log" in document["paths"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_health_is_open_and_checks_the_store(api: TestClient, server_store: Store) -> None:
    backend = server_store.engine.dialect.name
    assert api.get("/health").json() == {"status": "ok", "store": backend}
    working = server_store.engine
    server_store.engine = create_store_engine("postgresql://postgres@127.0.0.1:1/unreachable")
    try:
        response = api.get("/health")
    finally:
        server_store.engine = working
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "store_unavailable"


def test_first_start_says_how_to_create_an_admin_token(
    server_store: object, caplog: pytest.LogCaptureFixture
) -> None:
    from vigil.server import Settings, create_app
    from vigil.store.core import Store

    assert isinstance(server_store, Store)
    settings = Settings(store_url="sqlite:///x.db", artifacts_url="unused")
    with (
        caplog.at_level("WARNING", logger="vigil.server"),
        TestClient(create_app(settings, store=server_store)),
    ):
        pass
    assert "vigil token create --scope admin --store sqlite:///x.db" in caplog.text
    caplog.clear()
    from tests.server.conftest import make_tokens

    make_tokens(server_store)
    with (
        caplog.at_level("WARNING", logger="vigil.server"),
        TestClient(create_app(settings, store=server_store)),
    ):
        pass
    assert "vigil token create" not in caplog.text


def test_a_failure_while_storing_is_a_json_500_and_stores_nothing(
    server_store: Store, tokens: dict[Scope, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.server import Settings, create_app

    writer = auth(tokens[Scope.WRITE])
    settings = Settings(store_url="x", artifacts_url="y")
    app = create_app(settings, store=server_store)
    with TestClient(app, raise_server_exceptions=False) as api:
        assert api.post("/api/v1/models", json=SPEC.model_dump(), headers=writer).status_code == 201
        before = _state(api, writer)

        def broken(*args: object, **kwargs: object) -> list[str]:
            raise OSError("disk full")

        monkeypatch.setattr(server_store.predictions, "append", broken)
        response = api.post(
            "/api/v1/models/churn/log", content=log_batch(10).encode(), headers=writer | BINARY
        )
        assert response.status_code == 500
        assert response.json()["error"] == "internal_error"
        assert "OSError" in response.json()["message"]
        assert _state(api, writer) == before
