"""The real `mlflow` client against a real Vigil server: what a run records as its user is the
token's owner; the name the client sends (`user_id`, the `mlflow.user` tag) is only a claim."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.live import LiveServer
from vigil.api.specs import Scope
from vigil.store.db import create_store_engine, session_factory
from vigil.store.tokens import TokenRepository

pytestmark = pytest.mark.slow


def _token_of(live: LiveServer, owner: str) -> str:
    engine = create_store_engine(live.store_url)
    with session_factory(engine)() as session:
        _, secret = TokenRepository(session).create(Scope.WRITE, name="laptop", owner=owner)
        session.commit()
    engine.dispose()
    return secret


def test_runs_record_the_token_owner_not_the_user_the_client_names(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.entities import RunTag
    from mlflow.tracking import MlflowClient

    alice = _token_of(live, "alice")
    headers = {"Authorization": f"Bearer {alice}"}
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", alice)
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    client = MlflowClient(tracking_uri=live.url)
    experiment = client.create_experiment("identity")

    # The MLflow client sends its user as `user_id` and as the `mlflow.user` tag.
    run = client.create_run(experiment, tags={"mlflow.user": "mallory", "team": "risk"})
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.user_id == "alice"
    assert fetched.data.tags["mlflow.user"] == "alice"
    assert fetched.data.tags["vigil.claimed_user"] == "mallory"
    assert fetched.data.tags["team"] == "risk"

    # Setting the tag later is a claim too; the recorded user does not change.
    client.set_tag(run.info.run_id, "mlflow.user", "eve")
    assert client.get_run(run.info.run_id).data.tags["vigil.claimed_user"] == "eve"
    client.log_batch(run.info.run_id, tags=[RunTag("mlflow.user", "trudy")])
    again = client.get_run(run.info.run_id)
    assert again.info.user_id == "alice"
    assert again.data.tags["mlflow.user"] == "alice"
    assert again.data.tags["vigil.claimed_user"] == "trudy"

    # A raw request naming another user, without the tag.
    raw = httpx.post(
        f"{live.url}/api/2.0/mlflow/runs/create",
        json={"experiment_id": experiment, "user_id": "mallory", "start_time": 1},
        headers=headers,
    )
    assert raw.status_code == 200, raw.text
    info = raw.json()["run"]["info"]
    assert info["user_id"] == "alice"

    # Vigil's own API agrees: both runs are alice's, none is mallory's.
    for run_id in (run.info.run_id, info["run_id"]):
        own = httpx.get(f"{live.url}/api/v1/runs/{run_id}", headers=headers).json()
        assert own["info"]["owner"] == "alice"
    by = {
        who: httpx.post(
            f"{live.url}/api/v1/runs/search",
            json={"experiments": ["identity"], "actor": who},
            headers=headers,
        ).json()["runs"]
        for who in ("alice", "mallory")
    }
    assert len(by["alice"]) == 2
    assert by["mallory"] == []
    searched = client.search_runs([experiment], filter_string="attributes.user_id = 'mallory'")
    assert searched == []

    # The registry through MLflow: the model and its events are alice's too.
    created = httpx.post(
        f"{live.url}/api/2.0/mlflow/registered-models/create",
        json={"name": "identity-model", "user_id": "mallory"},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    client.set_registered_model_tag("identity-model", "stage", "dev")
    model = httpx.get(f"{live.url}/api/v1/registry/models/identity-model", headers=headers)
    assert model.json()["owner"] == "alice"
    events = httpx.get(
        f"{live.url}/api/v1/registry/models/identity-model/events", headers=headers
    ).json()
    assert events
    assert {e["actor"] for e in events} == {"alice"}
