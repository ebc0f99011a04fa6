"""Writes a real MLflow store with the mlflow client (run in its own process by
tests/server/mlflow/test_import.py): `python make_store.py TRACKING_URI WORKDIR`."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression


def main(uri: str, workdir: Path) -> None:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("churn")
    x = np.random.default_rng(0).normal(size=(50, 2))
    y = (x[:, 0] > 0).astype(int)
    with mlflow.start_run(run_name="a") as run:
        mlflow.log_params({"C": 1, "model/kind": "lr"})
        for step in range(50):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metric("nan_metric", math.nan)
        mlflow.set_tag("team", "risk")
        notes = workdir / "notes.txt"
        notes.write_text("hi")
        mlflow.log_artifact(str(notes), "docs")
        mlflow.sklearn.log_model(
            LogisticRegression().fit(x, y), name="model", registered_model_name="churn-model"
        )
    client = MlflowClient()
    client.set_registered_model_alias("churn-model", "production", 1)
    client.set_model_version_tag("churn-model", "1", "validated", "yes")
    with mlflow.start_run(run_name="b"):
        mlflow.log_metric("auc", 0.5)
    mlflow.end_run()
    failed = client.create_run(client.get_experiment_by_name("churn").experiment_id)
    client.set_terminated(failed.info.run_id, "FAILED")
    print(run.info.run_id)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
