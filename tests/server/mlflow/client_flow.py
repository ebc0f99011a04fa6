"""The MLflow client's everyday flow, run in its own process against MLFLOW_TRACKING_URI (a Vigil
server); prints what the test checks as one JSON object. Run by tests/server/mlflow/test_client.py."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression


def main(workdir: Path) -> None:
    out: dict[str, object] = {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] + 0.1 * rng.normal(size=200) > 0).astype(int)
    experiment_id = mlflow.create_experiment("churn", tags={"team": "risk"})
    out["experiment_id"] = experiment_id
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="lr") as run:
        mlflow.log_params({"C": 0.5, "model": "lr"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("auc", 0.93)
        mlflow.log_metric("nan_metric", math.nan)
        mlflow.set_tag("team", "risk")
        notes = workdir / "notes.txt"
        notes.write_text("hello from mlflow")
        mlflow.log_artifact(str(notes), artifact_path="docs")
        model = LogisticRegression(C=0.5).fit(x, y)
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name="churn-model", input_example=x[:2]
        )
        out["run_id"] = run.info.run_id
        out["model_id"] = info.model_id
    with mlflow.start_run(run_name="other"):
        mlflow.log_params({"C": 2.0, "model": "tree"})
        mlflow.log_metric("auc", 0.7)
    client = MlflowClient()
    out["version"] = info.registered_model_version
    client.set_registered_model_alias("churn-model", "production", info.registered_model_version)
    loaded = mlflow.pyfunc.load_model("models:/churn-model@production")
    out["predicted"] = loaded.predict(x[:20]).tolist()
    out["expected"] = model.predict(x[:20]).tolist()
    found = mlflow.search_runs(
        experiment_names=["churn"], filter_string="metrics.auc > 0.9 and params.model = 'lr'"
    )
    out["found"] = found["run_id"].tolist()
    ordered = client.search_runs([experiment_id], order_by=["metrics.auc ASC"])
    out["ordered"] = [r.info.run_name for r in ordered]
    out["history"] = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "loss")]
    got = client.get_run(run.info.run_id)
    out["status"] = got.info.status
    out["nan_is_nan"] = math.isnan(got.data.metrics["nan_metric"])
    out["artifacts"] = sorted(a.path for a in client.list_artifacts(run.info.run_id, "docs"))
    downloaded = client.download_artifacts(run.info.run_id, "docs/notes.txt", str(workdir))
    out["downloaded"] = Path(downloaded).read_text()
    version = client.get_model_version_by_alias("churn-model", "production")
    out["alias_version"] = version.version
    out["version_run_id"] = version.run_id
    client.set_model_version_tag("churn-model", version.version, "validated", "yes")
    client.set_registered_model_tag("churn-model", "owner", "risk-team")
    out["version_tags"] = client.get_model_version("churn-model", version.version).tags
    out["searched_versions"] = [
        v.version for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")
    ]
    out["models"] = [m.name for m in client.search_registered_models("name LIKE 'churn%'")]
    try:
        client.get_run("0" * 32)
    except MlflowException as exc:
        out["missing_run_error"] = exc.error_code
    try:
        client.create_experiment("churn")
    except MlflowException as exc:
        out["duplicate_experiment_error"] = exc.error_code
    try:
        client.log_param(run.info.run_id, "C", "99")
    except MlflowException as exc:
        out["changed_param_error"] = exc.error_code
    # a version registered through Vigil's own API, read through MLflow's
    vigil_version = client.get_model_version_by_alias("vigil-model", "staging")
    out["vigil_version_run"] = vigil_version.run_id
    files = mlflow.artifacts.download_artifacts(
        "models:/vigil-model@staging", dst_path=str(workdir / "vigil-model")
    )
    out["vigil_files"] = sorted(p.name for p in Path(files).iterdir())
    client.delete_registered_model_alias("churn-model", "production")
    client.delete_experiment(experiment_id)
    out["deleted_stage"] = client.get_experiment(experiment_id).lifecycle_stage
    client.restore_experiment(experiment_id)
    print(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
