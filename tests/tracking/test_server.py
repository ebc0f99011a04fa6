from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.live import LiveServer
from tests.server.conftest import auth
from vigil.api.specs import Scope
from vigil.api.tracking import MetricPoint, RunStatus
from vigil.client.tracking.run import start_run
from vigil.store.core import Store
from vigil.tracking.metrics import downsample
from vigil.tracking.service import TrackingService


def test_run_lifecycle_over_the_api(api: TestClient, server_store: Store) -> None:
    alice = auth(server_store.create_token(Scope.WRITE, owner="alice"))
    created = api.post("/api/v1/runs", json={"experiment": "churn", "name": "r1"}, headers=alice)
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["owner"] == "alice"
    assert run["status"] == "running"
    run_id = run["id"]
    batch = {
        "metrics": [
            {"key": "loss", "value": 1 / (i + 1), "step": i, "timestamp_ms": i} for i in range(50)
        ]
        + [{"key": "nan", "value": math.nan, "step": 0, "timestamp_ms": 0}],
        "params": {"model": "xgb"},
        "tags": {"team": "risk"},
    }
    import json

    body = json.dumps(batch)  # NaN as the JSON extension that Python and the mlflow client send
    headers = {**alice, "Content-Type": "application/json"}
    response = api.post(f"/api/v1/runs/{run_id}/log-batch", content=body, headers=headers)
    assert response.status_code == 204, response.text
    conflict = api.post(
        f"/api/v1/runs/{run_id}/log-batch", json={"params": {"model": "rf"}}, headers=alice
    )
    assert conflict.status_code == 409
    assert "'xgb'" in conflict.json()["message"]
    ended = api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"}, headers=alice)
    assert ended.json()["status"] == "finished"
    got = api.get(f"/api/v1/runs/{run_id}", headers=alice).json()
    assert got["params"] == {"model": "xgb"}
    assert got["metrics"]["loss"] == pytest.approx(1 / 50)
    assert got["metrics"]["nan"] is None
    assert got["tags"] == {"team": "risk"}
    found = api.post(
        "/api/v1/runs/search",
        json={"experiments": ["churn"], "filter": "params.model = 'xgb' and metrics.loss < 0.1"},
        headers=alice,
    ).json()
    assert [r["info"]["id"] for r in found["runs"]] == [run_id]
    history = api.get(
        f"/api/v1/runs/{run_id}/metrics/loss/history", params={"max_points": 10}, headers=alice
    ).json()
    assert 2 <= len(history) <= 10
    assert history[0]["value"] == 1.0  # the spike at the start survives
    # Every point, serialised from the rows: the same JSON as list[MetricPoint], NaN as null.
    everything = api.get(f"/api/v1/runs/{run_id}/metrics/loss/history", headers=alice).json()
    assert [MetricPoint.model_validate(p) for p in everything] == [
        MetricPoint(key="loss", value=1 / (i + 1), step=i, timestamp_ms=i) for i in range(50)
    ]
    assert api.get(f"/api/v1/runs/{run_id}/metrics/nan/history", headers=alice).json() == [
        {"key": "nan", "value": None, "step": 0, "timestamp_ms": 0}
    ]
    put = api.put(
        f"/api/v1/runs/{run_id}/artifacts/file",
        params={"path": "model/weights.bin"},
        content=b"w",
        headers=alice,
    )
    assert put.status_code == 201
    assert (
        api.get(
            f"/api/v1/runs/{run_id}/artifacts/file",
            params={"path": "model/weights.bin"},
            headers=alice,
        ).content
        == b"w"
    )
    listed = api.get(f"/api/v1/runs/{run_id}/artifacts", headers=alice).json()
    assert [a["path"] for a in listed] == ["model/weights.bin"]
    experiments = api.get("/api/v1/experiments", headers=alice).json()
    assert [e["name"] for e in experiments] == ["churn"]


def test_downsample_keeps_spikes() -> None:
    points = [MetricPoint(key="x", value=0.0, step=i, timestamp_ms=i) for i in range(10_000)]
    points[4321] = MetricPoint(key="x", value=100.0, step=4321, timestamp_ms=4321)
    points[777] = MetricPoint(key="x", value=-5.0, step=777, timestamp_ms=777)
    kept = downsample(points, 100)
    assert len(kept) <= 100
    assert [p.step for p in kept] == sorted(p.step for p in kept)
    assert max(p.value for p in kept) == 100.0
    assert min(p.value for p in kept) == -5.0
    assert downsample(points[:50], 100) == points[:50]


@pytest.fixture(scope="module")
def live_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One running server for the module's three server tests (a start costs ~5 s of CPU); each
    uses experiments and tokens of its own."""
    tmp_path = tmp_path_factory.mktemp("live_sqlite")
    url = f"sqlite:///{tmp_path / 'v.db'}"
    Store.open(url, str(tmp_path / "artifacts")).close()
    server = LiveServer(url, str(tmp_path / "artifacts"), tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def test_start_run_against_a_server(live_sqlite: LiveServer, tmp_path: Path) -> None:
    store = Store.open(live_sqlite.store_url, live_sqlite.artifacts_url)
    token = store.create_token(Scope.WRITE, owner="bob")
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    with start_run("remote", "r", url=live_sqlite.url, token=token, capture=False) as run:
        run.log_params({"lr": 0.1})
        for i in range(20_000):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_artifact(model)
        with start_run("remote", nested=True, url=live_sqlite.url, token=token) as child:
            child.log_metric("auc", 0.8)
    with (
        pytest.raises(RuntimeError),
        start_run("remote", url=live_sqlite.url, token=token, capture=False) as failing,
    ):
        raise RuntimeError("boom")
    service = TrackingService(store)
    data = service.get_run(run.id)
    assert data.info.owner == "bob"
    assert data.info.status is RunStatus.FINISHED
    assert data.params == {"lr": "0.1"}
    assert len(service.metric_history(run.id, "loss")) == 20_000
    assert service.get_artifact(run.id, "model.bin") == b"weights"
    assert service.get_run(child.id).info.parent_id == run.id
    assert service.get_run(failing.id).info.status is RunStatus.FAILED
    store.close()


def test_search_runs_through_the_server(live_sqlite: LiveServer) -> None:
    import vigil

    store = Store.open(live_sqlite.store_url, live_sqlite.artifacts_url)
    token = store.create_token(Scope.READ)
    for auc in (0.7, 0.9):
        with start_run("s", store=store, capture=False) as run:
            run.log_metric("auc", auc)
    try:
        page = vigil.search_runs(
            "s",
            "metrics.auc > 0.8",
            order_by=["metrics.auc DESC"],
            url=live_sqlite.url,
            token=token,
        )
    finally:
        store.close()
    assert [r.metrics["auc"] for r in page.runs] == [0.9]


def test_log_dataset_through_the_server(live_sqlite: LiveServer, tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from vigil.tracking.datasets import CHUNK_PREFIX, DatasetService

    store = Store.open(live_sqlite.store_url, live_sqlite.artifacts_url)
    token = store.create_token(Scope.WRITE, owner="carol")
    path = tmp_path / "train.parquet"
    pd.DataFrame({"x": np.arange(1000.0)}).to_parquet(path)
    with start_run("ds", url=live_sqlite.url, token=token, capture=False) as run:
        version = run.log_dataset(path, "train")
        again = run.log_dataset(path, "train", context="validation")
    datasets = DatasetService(store)
    assert again == version
    assert version.owner == "carol"
    assert version.n_rows == 1000
    assert datasets.read_bytes(version) == path.read_bytes()
    assert len(store.artifacts.list(CHUNK_PREFIX)) == version.n_chunks
    assert sorted(datasets.runs_using(version)) == [(run.id, "training"), (run.id, "validation")]
    store.close()


def test_chunk_with_a_wrong_hash_is_refused(api: TestClient, server_store: Store) -> None:
    headers = auth(server_store.create_token(Scope.WRITE))
    response = api.put(f"/api/v1/datasets/chunks/{'0' * 64}", content=b"abc", headers=headers)
    assert response.status_code == 422
    assert "has sha256" in response.json()["message"]
    missing = api.post(
        "/api/v1/datasets/chunks/missing", json={"hashes": ["a" * 64]}, headers=headers
    )
    assert missing.json() == {"hashes": ["a" * 64]}
    bogus = {
        "name": "d",
        "digest": "b" * 64,
        "size": 3,
        "chunk_size": 4096,
        "manifest": ["a" * 64],
        "content_format": "file",
    }
    refused = api.post("/api/v1/datasets/versions", json=bogus, headers=headers)
    assert refused.status_code == 422
    assert "upload them first" in refused.json()["message"]
