"""MLflow 3 habits through the real `mlflow` client against one Vigil server (issue 17, point 6):
metrics logged for a model land on the run too, the registry searches order as MLflow orders,
`log_input` keeps datasets, stages still move, and unknown MLflow routes answer MLflow's errors."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.tree import DecisionTreeClassifier

import vigil
from tests.e2e.live import LiveServer, make_token
from vigil.store.core import Store

pytestmark = pytest.mark.slow

REQUIREMENTS = ["scikit-learn"]  # given, so MLflow infers none (seconds per model)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("mlflow-parity")
    store_url = f"sqlite:///{root / 'vigil.db'}"
    Store.open(store_url, str(root / "artifacts")).close()
    live = LiveServer(store_url, str(root / "artifacts"), root / "server.log")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def token(server: LiveServer) -> str:
    return make_token(server.store_url)


@pytest.fixture(scope="module")
def client(server: LiveServer, token: str) -> Iterator[MlflowClient]:
    """The fluent API and MlflowClient both pointed at the server (through the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", server.url)
        patch.setenv("MLFLOW_TRACKING_TOKEN", token)
        patch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setenv("GIT_PYTHON_REFRESH", "quiet")
        # No pip-requirements inference (a subprocess importing the model: seconds per model).
        patch.setenv("MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT", "1")
        yield MlflowClient()
        mlflow.end_run()


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)
    return x, y


def _register(server: LiveServer, token: str, name: str, count: int) -> None:
    """`count` versions of `name`, registered through Vigil's own API."""
    x = np.arange(20, dtype=float).reshape(10, 2)
    tree = DecisionTreeClassifier().fit(x, [0, 1] * 5)
    for _ in range(count):
        vigil.models.register(name, tree, url=server.url, token=token)
        time.sleep(0.005)  # distinct creation times


# metrics logged for a model --------------------------------------------------------------------


# MLflow's autolog calls scikit-learn's log_loss with the keyword scikit-learn 1.9 renamed.
@pytest.mark.filterwarnings("ignore:`y_pred` was renamed to `y_proba`:FutureWarning:sklearn")
def test_autolog_metrics_land_on_the_run_and_on_the_logged_model(client: MlflowClient) -> None:
    x, y = _data()
    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False, silent=True)
    try:
        with mlflow.start_run() as run:
            model = LogisticRegression(C=0.3).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    predicted = model.predict(x)

    got = client.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.3"
    metrics = got.data.metrics
    assert metrics["training_accuracy_score"] == pytest.approx(accuracy_score(y, predicted))
    assert metrics["training_f1_score"] == pytest.approx(f1_score(y, predicted, average="weighted"))
    assert metrics["training_score"] == pytest.approx(model.score(x, y))
    # MLflow re-sends the run's points for the model it logs: each point is kept once.
    history = client.get_metric_history(run.info.run_id, "training_score")
    assert len(history) == 1

    logged = mlflow.last_logged_model()
    assert logged is not None
    on_model = {m.key: m.value for m in client.get_logged_model(logged.model_id).metrics or []}
    assert on_model["training_score"] == pytest.approx(model.score(x, y))


def test_a_metric_logged_for_a_model_is_also_a_point_of_the_run(client: MlflowClient) -> None:
    x, y = _data()
    mlflow.set_experiment("model-metrics")
    with mlflow.start_run() as run:
        mlflow.log_metric("train_loss", 0.4)  # re-sent for the model by log_model: kept once
        mlflow.log_metric("nan_loss", math.nan)
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(x, y), name="model", pip_requirements=REQUIREMENTS
        )
        mlflow.log_metric("val_auc", 0.91)  # the active model: linked to it by MLflow itself
        client.log_metric(run.info.run_id, "val_loss", 0.25, step=3, model_id=info.model_id)
    got = client.get_run(run.info.run_id)
    assert got.data.metrics.pop("nan_loss") != got.data.metrics.get("nan_loss")  # NaN
    assert got.data.metrics == {"train_loss": 0.4, "val_auc": 0.91, "val_loss": 0.25}
    for key in ("train_loss", "nan_loss"):
        assert len(client.get_metric_history(run.info.run_id, key)) == 1
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val_loss")] == [
        (3, 0.25)
    ]
    model = client.get_logged_model(info.model_id)
    on_model = {(m.key, m.value, m.step) for m in model.metrics or [] if m.key != "nan_loss"}
    assert on_model == {("train_loss", 0.4, 0), ("val_auc", 0.91, 0), ("val_loss", 0.25, 3)}
    assert [o.model_id for o in got.outputs.model_outputs] == [info.model_id]


def test_a_metric_for_another_run_s_model_makes_it_a_model_input(client: MlflowClient) -> None:
    x, y = _data()
    mlflow.set_experiment("model-inputs")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(x, y), name="model", pip_requirements=REQUIREMENTS
        )
    with mlflow.start_run() as evaluation:
        mlflow.log_metric("holdout_accuracy", 0.8, model_id=info.model_id)
    got = client.get_run(evaluation.info.run_id)
    assert got.data.metrics == {"holdout_accuracy": 0.8}
    assert [i.model_id for i in got.inputs.model_inputs] == [info.model_id]
    on_model = client.get_logged_model(info.model_id).metrics or []
    assert [(m.key, m.run_id) for m in on_model] == [("holdout_accuracy", evaluation.info.run_id)]
    with pytest.raises(MlflowException) as refused:
        client.log_metric(evaluation.info.run_id, "x", 1.0, model_id="m-" + "0" * 32)
    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# dataset inputs --------------------------------------------------------------------------------


# MLflow's dataset digest calls DataFrame.all positionally, which pandas 4 will refuse.
@pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0:Warning:mlflow")
def test_log_input_keeps_the_dataset_and_its_context(client: MlflowClient) -> None:
    # Float columns, as a training set with missing values has (MLflow warns on integer ones).
    frame = pd.DataFrame(
        {"age": [31.0, 45.0, 27.0], "income": [1.5, 2.0, 0.7], "churned": [0.0, 1.0, 0.0]}
    )
    dataset = mlflow.data.from_pandas(
        frame, source="s3://bucket/churn/train.parquet", name="churn-train", targets="churned"
    )
    mlflow.set_experiment("inputs")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "2026-11"})
        mlflow.log_input(dataset, context="training", tags={"split": "2026-11"})  # once
        holdout = mlflow.data.from_pandas(frame.tail(1), name="churn-holdout")
        mlflow.log_input(holdout, context="evaluation")

    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["churn-train", "churn-holdout"]
    train = inputs[0]
    assert train.dataset.digest == dataset.digest
    assert train.dataset.source_type == "s3"
    assert json.loads(train.dataset.source) == {"uri": "s3://bucket/churn/train.parquet"}
    assert json.loads(train.dataset.schema) == json.loads(dataset._to_mlflow_entity().schema)
    assert json.loads(train.dataset.profile) == {"num_rows": 3, "num_elements": 9}
    assert {t.key: t.value for t in train.tags} == {
        "mlflow.data.context": "training",
        "split": "2026-11",
    }
    assert {t.key: t.value for t in inputs[1].tags} == {"mlflow.data.context": "evaluation"}
    # The source reads back as MLflow's own object.
    assert mlflow.data.get_source(train).uri == "s3://bucket/churn/train.parquet"
    # search_runs carries the inputs too.
    found = client.search_runs([run.info.experiment_id])
    assert [i.dataset.digest for i in found[0].inputs.dataset_inputs] == [
        dataset.digest,
        holdout.digest,
    ]


def test_log_inputs_refuses_a_dataset_without_its_fields(client: MlflowClient) -> None:
    from mlflow.entities import Dataset, DatasetInput

    run = client.create_run(client.create_experiment("inputs-refused"))
    bad = Dataset(name="x" * 501, digest="abc", source_type="local", source="{}")
    with pytest.raises(MlflowException) as refused:
        client.log_inputs(run.info.run_id, datasets=[DatasetInput(bad)])
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "501" in refused.value.message


# registry search order -------------------------------------------------------------------------


def test_search_registered_models_honours_order_by(
    client: MlflowClient, server: LiveServer, token: str
) -> None:
    for name in ("order-c", "order-a", "order-b"):
        client.create_registered_model(name)
        time.sleep(0.01)  # distinct creation times, in the order c, a, b
    client.set_registered_model_tag("order-c", "touched", "yes")  # c: the last updated

    def names(order_by: list[str] | None) -> list[str]:
        found = client.search_registered_models("name LIKE 'order-%'", order_by=order_by)
        return [m.name for m in found]

    assert names(None) == ["order-a", "order-b", "order-c"]
    assert names(["name DESC"]) == ["order-c", "order-b", "order-a"]
    assert names(["creation_timestamp ASC"]) == ["order-c", "order-a", "order-b"]
    assert names(["last_updated_timestamp DESC"]) == ["order-c", "order-b", "order-a"]
    assert names(["timestamp DESC"]) == ["order-c", "order-b", "order-a"]
    paged = client.search_registered_models(
        "name LIKE 'order-%'", max_results=2, order_by=["name DESC"]
    )
    assert [m.name for m in paged] == ["order-c", "order-b"]
    rest = client.search_registered_models(
        "name LIKE 'order-%'", max_results=2, order_by=["name DESC"], page_token=paged.token
    )
    assert [m.name for m in rest] == ["order-a"]
    for refused in (["version_number"], ["name SIDEWAYS"], ["name", "name DESC"], ["tags.x"]):
        with pytest.raises(MlflowException) as error:
            client.search_registered_models(order_by=refused)
        assert error.value.error_code == "INVALID_PARAMETER_VALUE", refused


def test_search_model_versions_honours_order_by(
    client: MlflowClient, server: LiveServer, token: str
) -> None:
    _register(server, token, "sort-x", 3)
    _register(server, token, "sort-y", 1)
    client.update_model_version("sort-x", "2", description="touched")  # now the last updated

    def versions(order_by: list[str] | None) -> list[tuple[str, str]]:
        found = client.search_model_versions("name LIKE 'sort-%'", order_by=order_by)
        return [(v.name, v.version) for v in found]

    # MLflow's default: last updated first, then name, then the newest version
    assert versions(None) == [("sort-x", "2"), ("sort-y", "1"), ("sort-x", "3"), ("sort-x", "1")]
    assert versions(["version_number ASC"]) == [
        ("sort-x", "1"),
        ("sort-y", "1"),
        ("sort-x", "2"),
        ("sort-x", "3"),
    ]
    assert versions(["name DESC", "version_number ASC"]) == [
        ("sort-y", "1"),
        ("sort-x", "1"),
        ("sort-x", "2"),
        ("sort-x", "3"),
    ]
    assert versions(["creation_timestamp ASC"]) == [
        ("sort-x", "1"),
        ("sort-x", "2"),
        ("sort-x", "3"),
        ("sort-y", "1"),
    ]
    for refused in (["run_id ASC"], ["version_number UP"], ["name", "name"], ["metrics.auc"]):
        with pytest.raises(MlflowException) as error:
            client.search_model_versions("name = 'sort-x'", order_by=refused)
        assert error.value.error_code == "INVALID_PARAMETER_VALUE", refused


# stages ----------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*deprecated since 2.9.0:FutureWarning")  # stages, on purpose
def test_stages_move_and_archive_existing_versions(
    client: MlflowClient, server: LiveServer, token: str, tmp_path: Path
) -> None:
    _register(server, token, "staged", 3)
    assert client.get_model_version("staged", "1").current_stage == "None"
    moved = client.transition_model_version_stage("staged", "1", "Production")
    assert moved.current_stage == "Production"
    client.transition_model_version_stage("staged", "2", "staging")  # any case, as MLflow
    client.transition_model_version_stage(
        "staged", "3", "Production", archive_existing_versions=True
    )
    stages = {v.version: v.current_stage for v in client.search_model_versions("name='staged'")}
    assert stages == {"1": "Archived", "2": "Staging", "3": "Production"}
    latest = {v.current_stage: v.version for v in client.get_latest_versions("staged")}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3"}
    assert [v.version for v in client.get_latest_versions("staged", ["Production"])] == ["3"]
    listed = client.get_registered_model("staged").latest_versions
    assert {v.current_stage: v.version for v in listed} == latest
    # a version is found by its stage, as older scripts do
    files = mlflow.artifacts.download_artifacts(
        "models:/staged/Production", dst_path=str(tmp_path / "staged")
    )
    assert sorted(p.name for p in Path(files).iterdir()) == ["model.skops"]

    for stage, archive in (("Gold", False), ("Archived", True)):
        with pytest.raises(MlflowException) as refused:
            client.transition_model_version_stage("staged", "2", stage, archive)
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    client.transition_model_version_stage("staged", "1", "None")
    assert client.get_model_version("staged", "1").current_stage == "None"

    # Each move is in the registry's own event log, with who made it.
    events = httpx.get(
        f"{server.url}/api/v1/registry/models/staged/events",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    moves = [
        (e["to_version"], e["details"]["from"], e["details"]["to"])
        for e in events
        if e["kind"] == "stage_changed"
    ]
    assert moves == [
        (1, "None", "Production"),
        (2, "None", "Staging"),
        (1, "Production", "Archived"),
        (3, "None", "Production"),
        (1, "Archived", "None"),
    ]


# errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/3.0/mlflow/no-such-route", 404),
        ("POST", "/api/3.0/mlflow/datasets/search", 404),
        ("GET", "/api/2.0/mlflow/no-such-route", 404),
        ("GET", "/ajax-api/2.0/mlflow/runs/nothing", 404),
        ("GET", "/api/2.0/mlflow/runs/create", 405),
    ],
)
def test_unknown_mlflow_routes_answer_mlflow_errors(
    server: LiveServer, token: str, method: str, path: str, status: int
) -> None:
    answer = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {token}"}, json={}
    )
    assert answer.status_code == status
    body = answer.json()
    assert body["error_code"] == "ENDPOINT_NOT_FOUND"
    assert path in body["message"]


def test_the_client_reads_an_unknown_route_s_error(client: MlflowClient) -> None:
    # Evaluation datasets live under /api/3.0/mlflow, which Vigil does not serve.
    with pytest.raises(MlflowException) as refused:
        client.get_dataset("d-" + "0" * 32)
    assert refused.value.error_code == "ENDPOINT_NOT_FOUND"
    assert "/api/3.0/mlflow/datasets" in refused.value.message


def test_vigil_s_own_api_keeps_its_error_shape(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/api/v1/no-such-route")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    assert "error_code" not in answer.json()
