"""API reads (GET) go in read sessions: they answer while a writer holds its transaction open.

On SQLite every write transaction holds the one write lock from its start; a GET that waited for it
would wait for SQLite's busy timeout and fail. Each test holds a writer's transaction open for its
whole set of requests, so their answers prove that they did not wait (nothing is timed).
"""

from __future__ import annotations

from tests.server.conftest import app_client, auth, make_tokens
from tests.store.helpers import SPEC
from vigil.api.specs import Scope
from vigil.store.core import Store
from vigil.store.repositories import ModelRepository


def test_gets_answer_while_a_writer_holds_its_transaction(server_store: Store) -> None:
    token = make_tokens(server_store)[Scope.ADMIN]
    # token_cache_seconds=0: every request looks its token up in the store
    with app_client(server_store, token_cache_seconds=0, monitor_scheduler=False) as api:
        created = api.post("/api/v1/models", json=SPEC.model_dump(mode="json"), headers=auth(token))
        assert created.status_code == 201, created.text
        assert api.get("/api/v1/models", headers=auth(token)).status_code == 200  # stamps its use
        with server_store.session() as writer:
            ModelRepository(writer).create(SPEC.model_copy(update={"name": "uncommitted"}))
            writer.flush()  # SQLite: the write lock is held until the rollback below
            listed = api.get("/api/v1/models", headers=auth(token))
            assert listed.status_code == 200, listed.text
            assert [m["name"] for m in listed.json()] == [SPEC.name]
            one = api.get(f"/api/v1/models/{SPEC.name}", headers=auth(token))
            assert one.status_code == 200, one.text
            assert api.get("/api/v1/tokens", headers=auth(token)).status_code == 200
            writer.rollback()
        # And a write still writes afterwards.
        other = SPEC.model_copy(update={"name": "after"}).model_dump(mode="json")
        assert api.post("/api/v1/models", json=other, headers=auth(token)).status_code == 201


def test_mlflow_reads_answer_while_a_writer_holds_its_transaction(server_store: Store) -> None:
    """MLflow's reads (some of them POSTs, as runs/search) read in read sessions too."""
    token = make_tokens(server_store)[Scope.ADMIN]
    with app_client(server_store, monitor_scheduler=False) as api:
        created = api.post(
            "/api/2.0/mlflow/experiments/create", headers=auth(token), json={"name": "exp"}
        )
        experiment = created.json()["experiment_id"]
        run = api.post(
            "/api/2.0/mlflow/runs/create", headers=auth(token), json={"experiment_id": experiment}
        ).json()["run"]["info"]["run_id"]
        with server_store.session() as writer:
            ModelRepository(writer).create(SPEC)
            writer.flush()  # SQLite: the write lock is held until the rollback below
            answers = [
                api.get("/api/2.0/mlflow/runs/get", params={"run_id": run}, headers=auth(token)),
                api.post(
                    "/api/2.0/mlflow/runs/search",
                    json={"experiment_ids": [experiment]},
                    headers=auth(token),
                ),
                api.get(
                    "/api/2.0/mlflow/experiments/get-by-name",
                    params={"experiment_name": "exp"},
                    headers=auth(token),
                ),
            ]
            writer.rollback()
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert answers[0].json()["run"]["info"]["run_id"] == run
    assert [r["info"]["run_id"] for r in answers[1].json()["runs"]] == [run]
