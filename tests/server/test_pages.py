"""Answers are bounded or streamed: a model's windows come a page at a time, the predictions
export a batch at a time (issue 14, point 3)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth
from tests.store.helpers import SPEC, T0, log_batch
from vigil.api.client import VigilApi
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, ipc_chunks, ipc_to_table, table_to_ipc
from vigil.caps import MAX_PAGE
from vigil.client.transport import HttpTransport
from vigil.store.predictions import PredictionStore

HOUR = dt.timedelta(hours=1)


def test_windows_come_in_bounded_pages_that_never_split_a_window(
    api: TestClient, tokens: dict[Scope, str]
) -> None:
    headers = auth(tokens[Scope.WRITE])
    assert api.post("/api/v1/models", json=SPEC.model_dump(), headers=headers).is_success
    # Five hours; the third has two versions (two windows with the same start).
    batches = [log_batch(5, seed=h, start=T0 + h * HOUR) for h in range(5)]
    batches.append(log_batch(5, seed=9, start=T0 + 2 * HOUR, version="v2"))
    for batch in batches:
        sent = api.post(
            "/api/v1/models/churn/log",
            content=batch.encode(),
            headers={**headers, "Content-Type": CONTENT_TYPE},
        )
        assert sent.is_success, sent.text
    everything = api.get("/api/v1/models/churn/windows", headers=headers)
    assert len(everything.json()) == 6
    assert "X-Vigil-Next-Start" not in everything.headers

    pages, params = [], {"limit": "3"}
    while True:
        page = api.get("/api/v1/models/churn/windows", params=params, headers=headers)
        assert page.status_code == 200
        assert len(page.json()) <= 3
        pages.append(page.json())
        following = page.headers.get("X-Vigil-Next-Start")
        if following is None:
            break
        params = {"limit": "3", "start": following}
    # The first page stops before the two-version hour rather than split it.
    assert [len(p) for p in pages] == [2, 3, 1]
    assert [w for p in pages for w in p] == everything.json()


def test_a_page_larger_than_the_cap_is_refused(api: TestClient, tokens: dict[Scope, str]) -> None:
    headers = auth(tokens[Scope.READ])
    response = api.get(
        "/api/v1/models/churn/windows", params={"limit": str(MAX_PAGE + 1)}, headers=headers
    )
    assert response.status_code == 422
    assert "limit" in response.json()["message"]


def test_ipc_chunks_stream_a_reader_a_batch_at_a_time() -> None:
    table = pa.table({"x": list(range(10_000)), "s": [str(i % 7) for i in range(10_000)]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1000))
    chunks = list(ipc_chunks(reader))
    assert len(chunks) >= 10  # schema, ten batches, end of stream
    assert max(len(c) for c in chunks) < len(table_to_ipc(table)) / 5
    assert ipc_to_table(b"".join(chunks)).equals(table)


def test_the_predictions_export_streams_without_building_the_whole_table(
    api: TestClient, tokens: dict[Scope, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = auth(tokens[Scope.WRITE])
    assert api.post("/api/v1/models", json=SPEC.model_dump(), headers=headers).is_success
    for h in range(3):
        batch = log_batch(50, seed=h, start=T0 + h * HOUR)
        sent = api.post(
            "/api/v1/models/churn/log",
            content=batch.encode(),
            headers={**headers, "Content-Type": CONTENT_TYPE},
        )
        assert sent.is_success, sent.text

    def whole_table(*args: object, **kwargs: object) -> pa.Table:
        raise AssertionError("the export built the whole table")

    monkeypatch.setattr(PredictionStore, "joined", whole_table)
    response = api.get("/api/v1/models/churn/predictions", headers=headers)
    assert response.status_code == 200
    table = ipc_to_table(response.content)
    assert table.num_rows == 150
    assert table.column("vigil_timestamp").to_pylist() == sorted(
        table.column("vigil_timestamp").to_pylist()
    )


def test_kpis_come_in_bounded_pages_and_the_remote_client_reads_them_all(
    api: TestClient, tokens: dict[Scope, str]
) -> None:
    headers = auth(tokens[Scope.WRITE])
    # Seven values over five times: two times hold two values each.
    hours = [0, 1, 1, 2, 3, 3, 4]
    for i, h in enumerate(hours):
        body = {"name": "revenue", "value": float(i), "timestamp": (T0 + h * HOUR).isoformat()}
        assert api.post("/api/v1/kpis", json=body, headers=headers).status_code == 201
    everything = api.get("/api/v1/kpis", headers=headers).json()
    assert len(everything) == 7
    first = api.get("/api/v1/kpis", params={"limit": "2"}, headers=headers)
    assert len(first.json()) == 1  # the second value's time has a third value: not split
    assert first.headers["X-Vigil-Next-Start"].startswith((T0 + HOUR).isoformat()[:19])

    # The remote client follows the pages (here pages of 2 through this test client).
    transport = HttpTransport("http://testserver", None, timeout=10, retries=0, backoff=0)
    transport.api = VigilApi("http://testserver", None, http=api)
    api.headers.update(headers)
    pages = transport.api.pages("/api/v1/kpis", {"limit": "2"})
    assert [k["value"] for k in pages] == [k["value"] for k in everything]
    assert [k.value for k in transport.kpis({})] == [k["value"] for k in everything]
