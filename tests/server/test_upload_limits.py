"""Uploads are bounded before they are decoded, lists in request bodies have caps the OpenAPI
document shows, and duplicates in one batch are refused or counted once (issue 14, point 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth
from tests.store.helpers import SPEC, T0, labels_table, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LabelBatch, LogBatch
from vigil.caps import MAX_METRIC_POINTS, MAX_TAGS
from vigil.errors import PayloadTooLargeError
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.server import Settings, create_app
from vigil.store.arrow_limits import RowLimits, check_stream
from vigil.store.core import Store

BINARY = {"Content-Type": CONTENT_TYPE}
LIMITS = {"max_batch_rows": 1000, "max_batch_columns": 8, "max_batch_profiles": 2}


def ipc_bytes(table: pa.Table, compression: str | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def rows(n: int, **columns: pa.Array) -> pa.Table:
    return pa.table(
        {
            ID_COLUMN: [f"r{i}" for i in range(n)],
            TIMESTAMP_COLUMN: pa.array([T0] * n, pa.timestamp("us", tz="UTC")),
            **columns,
        }
    )


@pytest.fixture
def small(server_store: Store, tokens: dict[Scope, str]) -> Iterator[TestClient]:
    """An app with small upload limits and the model churn."""
    settings = Settings(
        store_url=str(server_store.engine.url),
        artifacts_url=server_store.artifacts.url,
        max_request_bytes=1 << 20,
        **LIMITS,
    )
    with TestClient(create_app(settings, store=server_store)) as client:
        headers = auth(tokens[Scope.WRITE])
        assert client.post("/api/v1/models", json=SPEC.model_dump(), headers=headers).is_success
        client.headers.update(headers)
        yield client


def _log(client: TestClient, batch: LogBatch) -> dict[str, object]:
    response = client.post("/api/v1/models/churn/log", content=batch.encode(), headers=BINARY)
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


def _windows(client: TestClient) -> list[object]:
    windows: list[object] = client.get("/api/v1/models/churn/windows").json()
    return windows


# Arrow IPC bombs: small bodies that would decode to far more than the limits ------------------


def test_a_compressed_rows_bomb_is_refused_from_its_headers() -> None:
    # 8 million zeros: 64 MB once decoded, a few KB compressed.
    bomb = ipc_bytes(pa.table({"z": pa.array([0] * 8_000_000, pa.int64())}), "zstd")
    assert len(bomb) < 100_000
    limits = RowLimits(max_rows=10_000_000, max_columns=10, max_bytes=16 << 20)
    with pytest.raises(PayloadTooLargeError, match="decode to more than"):
        check_stream(bomb, limits)


def test_compressed_rows_within_the_limits_pass() -> None:
    table = pa.table({"x": list(range(1000)), "s": [str(i) for i in range(1000)]})
    for compression in (None, "lz4", "zstd"):
        check_stream(ipc_bytes(table, compression), RowLimits(1000, 2, 1 << 20))


def test_a_body_with_more_rows_than_the_limit_is_a_413_and_stores_nothing(
    small: TestClient,
) -> None:
    # A null column of 5,000 rows is a few hundred bytes: the row count is what is refused.
    batch = LogBatch("v1", [], ipc_bytes(rows(5000, label=pa.nulls(5000, pa.int64()))))
    body = _log(small, batch)
    assert body["status"] == 413
    assert "1000 rows" in str(body["message"])
    assert _windows(small) == []


def test_a_body_with_more_columns_than_the_limit_is_a_413(small: TestClient) -> None:
    extra = {f"c{i}": pa.array([1.0]) for i in range(10)}
    body = _log(small, LogBatch("v1", [], ipc_bytes(rows(1, **extra))))
    assert body["status"] == 413
    assert "columns" in str(body["message"])


def test_nested_values_past_rows_times_columns_are_a_413(small: TestClient) -> None:
    # One row whose list holds 100,000 nulls: within the row limit, not within the values.
    nested = pa.array([[None] * 100_000], pa.list_(pa.null()))
    body = _log(small, LogBatch("v1", [], ipc_bytes(rows(1, label=nested))))
    assert body["status"] == 413
    assert "values" in str(body["message"])


def test_more_profiles_than_the_limit_is_a_413(small: TestClient) -> None:
    profile = log_batch(5).profiles[0]
    body = _log(small, LogBatch("v1", [profile] * 3))
    assert body["status"] == 413
    assert "3 profiles" in str(body["message"])


def test_garbage_rows_are_a_422_naming_arrow(small: TestClient) -> None:
    blob = b"\xff\xff\xff\xff\x10\x00\x00\x00" + b"A" * 100
    body = _log(small, LogBatch("v1", [], blob))
    assert body["status"] == 422
    assert "Arrow IPC" in str(body["message"])


def test_labels_are_bounded_too(small: TestClient) -> None:
    ids = [f"r{i}" for i in range(1001)]
    table = labels_table(ids, [1] * len(ids), T0)
    response = small.post(
        "/api/v1/models/churn/labels",
        content=LabelBatch(ipc_bytes(table)).encode(),
        headers=BINARY,
    )
    assert response.status_code == 413
    assert "1000 rows" in response.json()["message"]


def test_a_batch_within_the_limits_is_stored(small: TestClient) -> None:
    body = _log(small, log_batch(20))
    assert body["status"] == 200, body
    assert len(_windows(small)) == 1


# Duplicates in one batch ---------------------------------------------------------------------


def test_the_same_prediction_id_twice_in_one_batch_is_refused_naming_it(
    small: TestClient,
) -> None:
    table = rows(3, label=pa.array([1, 0, 1], pa.int64()))
    ids = pa.array(["a", "b", "a"])
    table = table.set_column(0, ID_COLUMN, ids)
    body = _log(small, LogBatch("v1", [], ipc_bytes(table)))
    assert body["status"] == 422
    assert "'a'" in str(body["message"])
    assert "more than once" in str(body["message"])


def test_the_same_label_id_twice_in_one_batch_is_refused(small: TestClient) -> None:
    table = labels_table(["x", "x"], [1, 0], T0)
    response = small.post(
        "/api/v1/models/churn/labels",
        content=LabelBatch(ipc_bytes(table)).encode(),
        headers=BINARY,
    )
    assert response.status_code == 422
    assert "'x'" in response.json()["message"]


# Caps on lists and maps in JSON bodies, shown in the OpenAPI document ------------------------


def test_the_openapi_document_shows_the_caps(api: TestClient, tokens: dict[Scope, str]) -> None:
    document = api.get("/openapi.json", headers=auth(tokens[Scope.READ])).json()
    schemas = document["components"]["schemas"]
    assert schemas["LogBatchIn"]["properties"]["metrics"]["maxItems"] == MAX_METRIC_POINTS
    assert schemas["LogBatchIn"]["properties"]["tags"]["maxProperties"] == MAX_TAGS
    assert schemas["DatasetVersionIn"]["properties"]["manifest"]["maxItems"] > 0
    assert schemas["ModelSpec"]["properties"]["features"]["maxItems"] > 0


def test_too_many_tags_is_a_422_naming_the_field(api: TestClient, tokens: dict[Scope, str]) -> None:
    headers = auth(tokens[Scope.WRITE])
    run = api.post("/api/v1/runs", json={"experiment": "e"}, headers=headers).json()
    run_id = run["info"]["id"] if "info" in run else run["id"]
    tags = {f"t{i}": "v" for i in range(MAX_TAGS + 1)}
    response = api.post(f"/api/v1/runs/{run_id}/log-batch", json={"tags": tags}, headers=headers)
    assert response.status_code == 422
    assert "tags" in response.json()["message"]


def test_a_metric_point_sent_twice_in_one_batch_is_recorded_once(
    api: TestClient, tokens: dict[Scope, str]
) -> None:
    headers = auth(tokens[Scope.WRITE])
    run = api.post("/api/v1/runs", json={"experiment": "e"}, headers=headers).json()
    run_id = run["info"]["id"] if "info" in run else run["id"]
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    point = {"key": "loss", "value": 0.5, "step": 1, "timestamp_ms": now}
    other = {**point, "value": 0.4}
    body = {"metrics": [point, point, point, other]}
    assert api.post(f"/api/v1/runs/{run_id}/log-batch", json=body, headers=headers).is_success
    history = api.get(f"/api/v1/runs/{run_id}/metrics/loss/history", headers=headers).json()
    assert sorted(p["value"] for p in history) == [0.4, 0.5]
