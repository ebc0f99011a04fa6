"""The demo's training step: a few scikit-learn models as tracked runs; the runner-up is
registered as version 1 and served, the best replaces it as version 2 (each `@production` from
its registration, at the story's times, so that the traffic logged after follows them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.profile import DatasetProfile
from vigil.registry import Registry
from vigil.store.core import Store

Echo = Callable[[str], None]

TARGET = "churned"
NOT_FEATURES = frozenset({"customer_id", "seen_at", "churn_score", "churn_predicted", TARGET})
EXPERIMENT = "churn"


def _candidates() -> dict[str, tuple[Any, dict[str, Any]]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic": (LogisticRegression(C=1.0, max_iter=500), {"C": 1.0}),
        "random_forest": (
            RandomForestClassifier(n_estimators=60, max_depth=8, random_state=0),
            {"n_estimators": 60, "max_depth": 8},
        ),
        "gradient_boosting": (
            HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, random_state=0),
            {"max_iter": 150, "learning_rate": 0.1},
        ),
    }


def _pipeline(estimator: Any, numeric: list[str], categorical: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return make_pipeline(prepare, estimator)


class _RegistryAt(Registry):
    """The registry with the story's clock: the demo replays a month, so its versions and alias
    moves are dated when they happen in it (before the traffic they serve), not when it runs."""

    def __init__(self, store: Store, at: dt.datetime) -> None:
        super().__init__(store)
        self.at = at

    def _now(self) -> dt.datetime:  # type: ignore[override]
        return self.at


def train_and_register(
    training_path: Path,
    reference: DatasetProfile,
    store: Store,
    model_name: str,
    echo: Echo,
    *,
    registered: tuple[dt.datetime, dt.datetime],
) -> str:
    """Train the candidates as runs of the `churn` experiment; register the runner-up (by
    validation ROC AUC) at `registered[0]` and the best at `registered[1]`, each with its
    metrics and training profile and `@production` from then on; returns the URI."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split

    from vigil import models
    from vigil.autologging import autolog
    from vigil.client.tracking.run import start_run

    table = pq.read_table(training_path)
    frame = table.to_pandas()
    features = [c for c in table.column_names if c not in NOT_FEATURES]
    numeric = [
        c
        for c in features
        if pa.types.is_integer(table.schema.field(c).type)
        or pa.types.is_floating(table.schema.field(c).type)
    ]
    categorical = [c for c in features if c not in numeric]
    x_train, x_valid, y_train, y_valid = train_test_split(
        frame[features], frame[TARGET], test_size=0.25, random_state=0, stratify=frame[TARGET]
    )
    results: list[tuple[float, str, str, Any, dict[str, float]]] = []
    echo(f"\n== Training {len(_candidates())} models as tracked runs (experiment {EXPERIMENT!r})")
    # Autologging records each fit in its run: the pipeline's params, training metrics, the model
    # and its own importances; score() on the validation set adds the validation_* metrics. The
    # training file itself is logged once below as the runs' dataset version.
    autolog(experiment=EXPERIMENT, log_datasets=False)
    try:
        for name, (estimator, params) in _candidates().items():
            with start_run(EXPERIMENT, name, store=store, system_metrics=False) as run:
                run.log_params({"model": name, **params, "features": len(features)})
                run.log_dataset(training_path, "churn-training", context="training")
                pipeline = _pipeline(estimator, numeric, categorical).fit(x_train, y_train)
                pipeline.score(x_valid, y_valid)
                proba = pipeline.predict_proba(x_valid)[:, 1]
                metrics = {
                    "roc_auc": float(roc_auc_score(y_valid, proba)),
                    "accuracy": float(accuracy_score(y_valid, proba >= 0.5)),
                    "log_loss": float(log_loss(y_valid, np.clip(proba, 1e-6, 1 - 1e-6))),
                }
                run.log_metrics(metrics)
                for step, auc in _staged_auc(pipeline, x_valid, y_valid):
                    run.log_metric("valid_roc_auc_by_size", auc, step=step)
                results.append((metrics["roc_auc"], name, run.id, pipeline, metrics))
            echo(
                f"  {name:<18} roc_auc {metrics['roc_auc']:.4f}  accuracy "
                f"{metrics['accuracy']:.4f}  log_loss {metrics['log_loss']:.4f}  "
                f"(run {run.id[:8]})"
            )
    finally:
        autolog(disable=True)
    ranked = sorted(results, key=lambda r: r[0])
    served = []
    for (_, name, run_id, pipeline, metrics), at, why in zip(
        ranked[-2:],
        registered,
        ("the runner-up, served first", "best validation ROC AUC of the demo's candidates"),
        strict=True,
    ):
        registry = _RegistryAt(store, at)
        version = registry.register(
            model_name,
            pipeline,
            run_id=run_id,
            metrics=metrics,
            profile=reference,
            description=f"{name}, {why}",
        )
        registry.set_alias(model_name, "production", version.version)
        served.append(f"{name} as version {version.version} on {at:%Y-%m-%d %H:%M} UTC")
    _, _, run_id, pipeline, _ = ranked[-1]
    _log_importance(pipeline, x_valid, y_valid, store, (model_name, version.version), run_id)
    uri = f"models:/{model_name}@production"
    # skops refuses types outside its default trust list; OneHotEncoder holds a numpy.dtype.
    loaded = models.load(uri, store=store, trusted=["numpy.dtype"])
    check = float(roc_auc_score(y_valid, loaded.predict_proba(x_valid)[:, 1]))
    echo(
        f"Registered {served[0]} and {served[1]} of {model_name!r}, each with its training "
        f"profile, and set @production on each as it was registered; {uri} loads back with "
        f"validation ROC AUC {check:.4f}"
    )
    return uri


def _staged_auc(pipeline: Any, x_valid: Any, y_valid: Any) -> list[tuple[int, float]]:
    """Validation ROC AUC as the ensemble grows (trees or boosting iterations): a metric curve
    per run, for the dashboard's overlaid curves."""
    from sklearn.metrics import roc_auc_score

    estimator = pipeline[-1]
    features = pipeline[:-1].transform(x_valid)
    curve: list[tuple[int, float]] = []
    if hasattr(estimator, "staged_predict_proba"):
        for i, proba in enumerate(estimator.staged_predict_proba(features), start=1):
            if i % 10 == 0:
                curve.append((i, float(roc_auc_score(y_valid, proba[:, 1]))))
    elif hasattr(estimator, "estimators_"):
        trees = estimator.estimators_
        total = np.zeros(features.shape[0])
        for i, tree in enumerate(trees, start=1):
            total += tree.predict_proba(features)[:, 1]
            if i % 10 == 0:
                curve.append((i, float(roc_auc_score(y_valid, total / i))))
    return curve


def _log_importance(
    pipeline: Any, x_valid: Any, y_valid: Any, store: Store, version: tuple[str, int], run_id: str
) -> None:
    """Permutation importance of the registered version, logged with it and its run (the
    dashboard's model page shows it)."""
    from vigil.analysis.explain.permutation import permutation_importance
    from vigil.explain.api import log_importance

    importance = permutation_importance(pipeline, x_valid, y_valid, n_repeats=3, max_rows=2000)
    log_importance(importance, run=run_id, model_version=version, store=store)
