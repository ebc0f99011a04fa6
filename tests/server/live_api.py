"""A real Vigil server on loopback for the hostile-client tests: tokens of every scope and a
little data (a model, an experiment with a run and a metric, a registered version) for routes to
find."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import LiveServer, make_token
from vigil.api.specs import Scope

SCOPES = (Scope.READ, Scope.WRITE, Scope.ADMIN)


class LiveApi:
    """A live server, one token per scope (`headers(scope)`), and its seeded names."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.root = Path(live.artifacts_url).parent
        self.tokens = {scope: make_token(live.store_url, scope) for scope in SCOPES}
        self.http = httpx.Client(base_url=live.url, timeout=60)
        listed = self.http.get("/api/v1/tokens", headers=self.headers(Scope.ADMIN))
        self.token_ids = {token["id"] for token in listed.json()}

    def headers(self, scope: Scope) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def seed(self) -> None:
        admin = self.headers(Scope.ADMIN)
        post = self.http.post
        post(
            "/api/v1/models",
            headers=admin,
            json={"name": "churn", "features": ["age", "city"], "scores": ["proba"]},
        ).raise_for_status()
        experiment = post(
            "/api/2.0/mlflow/experiments/create", headers=admin, json={"name": "exp"}
        ).json()["experiment_id"]
        run = post(
            "/api/2.0/mlflow/runs/create",
            headers=admin,
            json={"experiment_id": experiment, "start_time": 1_700_000_000_000},
        ).json()["run"]["info"]["run_id"]
        post(
            "/api/2.0/mlflow/runs/log-metric",
            headers=admin,
            json={"run_id": run, "key": "auc", "value": 0.9, "timestamp": 1_700_000_000_000},
        ).raise_for_status()
        self.http.put(
            f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/model/MLmodel",
            headers=admin,
            content=b"flavors: {}\n",
        ).raise_for_status()
        post(
            "/api/2.0/mlflow/registered-models/create", headers=admin, json={"name": "churn"}
        ).raise_for_status()
        post(
            "/api/2.0/mlflow/model-versions/create",
            headers=admin,
            json={"name": "churn", "source": f"runs:/{run}/model", "run_id": run},
        ).raise_for_status()


def start_live_api(root: Path) -> LiveApi:
    """A seeded server on a fresh SQLite store and artifact folder under `root`."""
    live = LiveServer(
        f"sqlite:///{root / 'store.db'}", str(root / "artifacts"), root / "server.log"
    ).start()
    try:
        api = LiveApi(live)
        api.seed()
    except BaseException:
        live.stop()
        raise
    return api


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    api = start_live_api(tmp_path_factory.mktemp("live-api"))
    yield api
    api.http.close()
    api.live.stop()
