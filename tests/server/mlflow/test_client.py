"""The real `mlflow` client against a real Vigil server: what it writes is in Vigil's own API,
and what Vigil registers is readable through MLflow's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

import vigil
from tests.e2e.live import LiveServer, make_token
from vigil.api.specs import Scope

pytestmark = pytest.mark.slow

FLOW = Path(__file__).with_name("client_flow.py")


def _mlflow_env(live: LiveServer, token: str) -> dict[str, str]:
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": live.url,
        "MLFLOW_TRACKING_TOKEN": token,
        "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        "GIT_PYTHON_REFRESH": "quiet",
    }


def test_the_mlflow_client_works_unchanged_against_vigil(
    shared_live: LiveServer, shared_token: str, tmp_path: Path
) -> None:
    live, admin_token = shared_live, shared_token
    headers = {"Authorization": f"Bearer {admin_token}"}
    # A run and a version made through Vigil's own API, for MLflow to read.
    own_run = httpx.post(
        f"{live.url}/api/v1/runs", json={"experiment": "vigil-side"}, headers=headers
    ).json()
    x = np.arange(20, dtype=float).reshape(10, 2)
    tree = DecisionTreeClassifier().fit(x, [0, 1] * 5)
    registered = vigil.models.register(
        "vigil-model", tree, run_id=own_run["id"], url=live.url, token=admin_token
    )
    vigil.models.set_alias(
        "vigil-model", "staging", registered.version, url=live.url, token=admin_token
    )

    done = subprocess.run(
        [sys.executable, str(FLOW), str(tmp_path)],
        env=_mlflow_env(live, admin_token),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    # What the MLflow client saw.
    assert out["predicted"] == out["expected"]
    assert out["found"] == [out["run_id"]]
    assert out["ordered"] == ["other", "lr"]
    assert out["history"] == [[s, 1.0 / (s + 1)] for s in range(5)]
    assert out["status"] == "FINISHED"
    assert out["nan_is_nan"] is True
    assert out["artifacts"] == ["docs/notes.txt"]
    assert out["downloaded"] == "hello from mlflow"
    assert out["alias_version"] == "1"
    assert out["version_run_id"] == out["run_id"]
    assert out["version_tags"] == {"validated": "yes"}
    assert out["searched_versions"] == ["1"]
    assert out["models"] == ["churn-model"]
    assert out["missing_run_error"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["duplicate_experiment_error"] == "RESOURCE_ALREADY_EXISTS"
    assert out["changed_param_error"] == "INVALID_PARAMETER_VALUE"
    assert out["vigil_version_run"] == own_run["id"]
    assert out["vigil_files"] == ["model.skops"]
    assert out["deleted_stage"] == "deleted"

    # The same things in Vigil's own API.
    run = httpx.get(f"{live.url}/api/v1/runs/{out['run_id']}", headers=headers).json()
    assert run["info"]["status"] == "finished"
    assert run["info"]["name"] == "lr"
    assert run["params"] == {"C": "0.5", "model": "lr"}
    assert run["metrics"]["auc"] == 0.93
    assert run["metrics"]["loss"] == 0.2
    assert run["tags"]["team"] == "risk"
    history = httpx.get(
        f"{live.url}/api/v1/runs/{out['run_id']}/metrics/loss/history", headers=headers
    ).json()
    assert [p["step"] for p in history] == [0, 1, 2, 3, 4]
    artifacts = httpx.get(f"{live.url}/api/v1/runs/{out['run_id']}/artifacts", headers=headers)
    assert [a["path"] for a in artifacts.json()] == ["docs/notes.txt"]
    experiments = httpx.get(f"{live.url}/api/v1/experiments/churn", headers=headers).json()
    assert str(experiments["id"]) == out["experiment_id"]
    assert experiments["lifecycle_stage"] == "active"  # restored at the end of the flow
    found = httpx.post(
        f"{live.url}/api/v1/runs/search",
        json={"experiments": ["churn"], "filter": "params.model = 'tree'"},
        headers=headers,
    ).json()
    assert [r["info"]["name"] for r in found["runs"]] == ["other"]

    model = httpx.get(f"{live.url}/api/v1/registry/models/churn-model", headers=headers).json()
    assert model["latest_version"] == 1
    assert model["tags"] == {"owner": "risk-team"}
    assert model["aliases"] == {}  # deleted through MLflow at the end of the flow
    version = httpx.get(
        f"{live.url}/api/v1/registry/models/churn-model/versions/1", headers=headers
    ).json()
    assert version["run_id"] == out["run_id"]
    assert version["source_format"] == "mlflow"
    assert version["tags"] == {"validated": "yes"}
    events = httpx.get(
        f"{live.url}/api/v1/registry/models/churn-model/events", headers=headers
    ).json()
    kinds = [(e["kind"], e.get("alias"), e.get("to_version")) for e in events]
    assert ("alias_set", "production", 1) in kinds
    assert ("alias_deleted", "production", None) in kinds
    # Vigil loads the version MLflow registered (an MLflow model folder) itself.
    loaded = vigil.models.load("models:/churn-model/1", url=live.url, token=admin_token)
    assert loaded.predict(np.zeros((1, 3))).shape == (1,)


def test_errors_take_mlflow_s_shape_and_tokens_are_required(shared_live: LiveServer) -> None:
    live = shared_live  # this test writes nothing: it can share the other test's server
    read = make_token(live.store_url, Scope.READ)
    url = f"{live.url}/api/2.0/mlflow/experiments/create"
    anonymous = httpx.post(url, json={"name": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == "UNAUTHENTICATED"
    refused = httpx.post(url, json={"name": "x"}, headers={"Authorization": f"Bearer {read}"})
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "PERMISSION_DENIED"
    missing = httpx.get(
        f"{live.url}/api/2.0/mlflow/runs/get",
        params={"run_id": "f" * 32},
        headers={"Authorization": f"Bearer {read}"},
    )
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "f" * 32 in missing.json()["message"]
    bad_filter = httpx.post(
        f"{live.url}/api/2.0/mlflow/runs/search",
        json={"experiment_ids": ["0"], "filter": "metrics.auc >"},
        headers={"Authorization": f"Bearer {read}"},
    )
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "expected a value" in bad_filter.json()["message"]
    escape = httpx.get(
        f"{live.url}/api/2.0/mlflow-artifacts/artifacts",
        params={"path": "1/../../etc"},
        headers={"Authorization": f"Bearer {read}"},
    )
    assert escape.status_code == 400
    assert escape.json()["error_code"] == "INVALID_PARAMETER_VALUE"
