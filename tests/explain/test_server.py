"""Explainability over HTTP: POST /api/v1/explain, importances of runs and model versions,
attribution windows; and the Python API against a live server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.ensemble import GradientBoostingClassifier

import vigil
from tests.e2e.live import LiveServer
from tests.server.conftest import api, app_client, auth, server_store, tokens
from vigil.api.specs import ModelSpec, Scope
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.tracking.service import TrackingService

__all__ = ["api", "server_store", "tokens"]

rng = np.random.default_rng(3)
X = pd.DataFrame(rng.normal(size=(600, 3)), columns=["tenure", "spend", "calls"])
Y = (2 * X.tenure - X.spend + rng.normal(0, 0.3, 600) > 0).astype(int)
MODEL = GradientBoostingClassifier(n_estimators=25, random_state=0).fit(X, Y)


def _register(store: Store) -> None:
    registry = Registry(store)
    info = registry.register("churn", MODEL)
    registry.set_alias("churn", "production", info.version)


@pytest.fixture
def explain_api(server_store: Store) -> Iterator[TestClient]:
    """An app with server-side explanation turned on (it is off by default)."""
    with app_client(server_store, max_request_bytes=1 << 20, server_side_explain=True) as client:
        yield client


def test_explain_endpoint_returns_contributions_that_add_up(
    explain_api: TestClient, server_store: Store, tokens: dict[Scope, str]
) -> None:
    api = explain_api
    _register(server_store)
    rows = X.head(3).to_dict(orient="records")
    response = api.post(
        "/api/v1/explain",
        json={"model": "models:/churn@production", "rows": rows},
        headers=auth(tokens[Scope.WRITE]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "models:/churn/1"
    assert body["output_space"] == "log_odds"
    assert body["algorithm"] == "tree"
    margins = MODEL.decision_function(X.head(3))
    for row, margin in zip(body["rows"], margins, strict=True):
        assert body["base_value"] + sum(row["contributions"].values()) == pytest.approx(
            margin, abs=1e-6
        )
    page = api.post(
        "/api/v1/explain?format=html",
        json={"model": "models:/churn/1", "rows": rows[:1]},
        headers=auth(tokens[Scope.WRITE]),
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Explanation of models:/churn/1" in page.text
    assert "<script" not in page.text


def test_explain_endpoint_errors_are_json_with_the_bad_value(
    explain_api: TestClient, server_store: Store, tokens: dict[Scope, str]
) -> None:
    api = explain_api
    _register(server_store)
    headers = auth(tokens[Scope.WRITE])
    missing = api.post(
        "/api/v1/explain",
        json={"model": "models:/churn@production", "rows": [{"tenure": 1.0, "spend": 2.0}]},
        headers=headers,
    )
    assert missing.status_code == 422
    assert missing.json()["details"]["missing"] == ["calls"]
    unknown = api.post(
        "/api/v1/explain", json={"model": "models:/nope/1", "rows": [{"a": 1}]}, headers=headers
    )
    assert unknown.status_code == 404
    assert "nope" in unknown.json()["message"]
    bad_uri = api.post(
        "/api/v1/explain", json={"model": "churn", "rows": [{"a": 1}]}, headers=headers
    )
    assert bad_uri.status_code == 422
    assert "model URI 'churn' is not valid" in bad_uri.json()["message"]
    assert (
        api.post("/api/v1/explain", json={"model": "models:/churn/1", "rows": []}).status_code
        == 401
    )


def test_importances_of_runs_and_versions(
    api: TestClient, server_store: Store, tokens: dict[Scope, str]
) -> None:
    _register(server_store)
    tracking = TrackingService(server_store)
    run = tracking.create_run(tracking.ensure_experiment("churn").id)
    write, read = auth(tokens[Scope.WRITE]), auth(tokens[Scope.READ])
    path = f"/api/v1/runs/{run.id}/importances"
    assert api.get(path, headers=read).json() == {"method": None, "latest": None, "history": []}
    created = api.post(path, json={"method": "shap", "values": {"tenure": 0.8}}, headers=write)
    assert created.status_code == 201
    api.post(path, json={"method": "permutation", "values": {"tenure": 0.1}}, headers=write)
    body = api.get(path, params={"method": "shap"}, headers=read).json()
    assert body["latest"] == {"tenure": 0.8}
    assert api.get(path, headers=read).json()["latest"] == {"tenure": 0.1}
    assert len(api.get(path, headers=read).json()["history"]) == 2
    assert (
        api.post(path, json={"method": "shap", "values": {"t": 1}}, headers=read).status_code == 403
    )
    empty = api.post(path, json={"method": "shap", "values": {}}, headers=write)
    assert empty.status_code == 422
    assert api.get("/api/v1/runs/abc/importances", headers=read).status_code == 404

    version_path = "/api/v1/registry/models/churn/versions/1/importances"
    assert (
        api.post(
            version_path, json={"method": "shap", "values": {"spend": 0.3}}, headers=write
        ).status_code
        == 201
    )
    assert api.get(version_path, headers=read).json()["latest"] == {"spend": 0.3}
    assert (
        api.get("/api/v1/registry/models/churn/versions/9/importances", headers=read).status_code
        == 404
    )


def test_attribution_windows_over_http(
    api: TestClient, server_store: Store, tokens: dict[Scope, str]
) -> None:
    with server_store.session() as session:
        from vigil.ingestion import service

        service.create_model(session, ModelSpec(name="churn", features=["tenure"]))
        session.commit()
    start = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    batch = {
        "batch_id": "b-1",
        "version": "3",
        "windows": [
            {
                "start": start.isoformat(),
                "end": (start + dt.timedelta(hours=1)).isoformat(),
                "n_rows": 4,
                "sums": {"tenure": 2.0},
            }
        ],
    }
    write, read = auth(tokens[Scope.WRITE]), auth(tokens[Scope.READ])
    first = api.post("/api/v1/models/churn/attributions", json=batch, headers=write)
    assert first.status_code == 200, first.text
    assert not first.json()["duplicate"]
    assert api.post("/api/v1/models/churn/attributions", json=batch, headers=write).json()[
        "duplicate"
    ]
    [window] = api.get(
        "/api/v1/models/churn/attributions",
        params={"version": "3", "start": "2026-11-20T00:00:00"},
        headers=read,
    ).json()
    assert window["n_rows"] == 4
    assert window["mean_abs"] == {"tenure": 0.5}
    missing = api.get("/api/v1/models/nope/attributions", headers=read)
    assert missing.status_code == 404


@pytest.mark.slow
def test_runs_clients_and_explain_against_a_live_server(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    opened = Store.open(store_url, str(tmp_path / "artifacts"))
    token = opened.create_token(Scope.WRITE, owner="erin")
    _register(opened)
    opened.close()
    server = LiveServer(
        store_url,
        str(tmp_path / "artifacts"),
        tmp_path / "server.log",
        env={"VIGIL_SERVER_SIDE_EXPLAIN": "true"},
    ).start()
    try:
        with vigil.start_run("churn", url=server.url, token=token, capture=False) as run:
            importance = vigil.explain.permutation_importance(MODEL, X, Y, n_repeats=2)
            vigil.explain.log_importance(importance, run=run)
        vigil.explain.log_importance(
            {"tenure": 1.0},
            method="gain",
            model_version="models:/churn/1",
            url=server.url,
            token=token,
        )
        client = vigil.Client(server.url, token=token, spool_dir=None, flush_interval=None)
        client.create_model("churn-live", features=list(X.columns), registry_model="churn")
        logged = vigil.explain.log_attributions(
            "churn-live",
            MODEL,
            X.head(50),
            sample=1.0,
            timestamp=dt.datetime(2026, 11, 20, 5, tzinfo=dt.UTC),
            client=client,
        )
        assert logged.result is not None
        assert logged.result.n_rows == 50
        client.close()
        headers = {"Authorization": f"Bearer {token}"}
        # the first explanation imports shap (numba) in the server: allow it time on a busy machine
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as http:
            runs = http.get(f"/api/v1/runs/{run.id}/importances").json()
            assert runs["latest"] == importance.values
            version = http.get("/api/v1/registry/models/churn/versions/1/importances").json()
            assert version["latest"] == {"tenure": 1.0}
            windows = http.get("/api/v1/models/churn-live/attributions").json()
            assert windows[0]["n_rows"] == 50
            explained = http.post(
                "/api/v1/explain",
                json={"model": "models:/churn@production", "rows": X.head(2).to_dict("records")},
            ).json()
        local = vigil.explain(MODEL, X.head(2))
        np.testing.assert_allclose(
            [list(r["contributions"].values()) for r in explained["rows"]], local.contributions
        )
    finally:
        server.stop()
