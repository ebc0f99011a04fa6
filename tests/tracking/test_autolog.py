"""`vigil.autolog()`: scikit-learn fits recorded as runs, with the figures scikit-learn itself gives."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import vigil
from vigil.autologging import autolog
from vigil.store.core import Store
from vigil.tracking.datasets import DatasetService
from vigil.tracking.service import TrackingService


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    yield opened
    opened.close()


@pytest.fixture
def logging_to(store: Store, tmp_path: Path) -> Iterator[Store]:
    autolog(
        experiment="auto",
        store_url=str(store.engine.url.render_as_string(hide_password=False)),
        artifacts_url=str(tmp_path / "artifacts"),
    )
    try:
        yield store
    finally:
        autolog(disable=True)


def _data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"age": rng.normal(40, 10, n), "spend": rng.normal(0, 1, n)})
    y = pd.Series(((x["age"] - 40) / 10 + x["spend"] + rng.normal(0, 1, n) > 0).astype(int))
    return x, y.rename("churned")


def _runs(store: Store) -> list[vigil.tracking.RunData]:
    return TrackingService(store).search_runs(["auto"]).runs


def test_a_pipeline_fit_records_params_metrics_model_data_and_importances(
    logging_to: Store,
) -> None:
    x, y = _data()
    train, valid = slice(0, 450), slice(450, None)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    model.fit(x[train], y[train])
    score = model.score(x[valid], y[valid])

    (run,) = _runs(logging_to)
    assert run.info.status.value == "finished"
    assert run.params["logisticregression__C"] == "0.5"
    assert run.params["estimator"] == "sklearn.pipeline.Pipeline"
    proba = model.predict_proba(x[train])[:, 1]
    assert run.metrics["training_roc_auc"] == pytest.approx(roc_auc_score(y[train], proba))
    assert run.metrics["training_accuracy"] == pytest.approx(
        accuracy_score(y[train], model.predict(x[train]))
    )
    assert run.metrics["validation_accuracy"] == pytest.approx(score)
    valid_proba = model.predict_proba(x[valid])[:, 1]
    assert run.metrics["validation_roc_auc"] == pytest.approx(roc_auc_score(y[valid], valid_proba))

    # The model, in the registry's own format: loads back and predicts the same.
    service = TrackingService(logging_to)
    names = {a.path for a in service.list_artifacts(run.info.run_id)}
    assert {"model/model.skops", "model/vigil-model.json"} <= names
    import skops.io

    blob = service.get_artifact(run.info.run_id, "model/model.skops")
    loaded = skops.io.loads(blob, trusted=skops.io.get_untrusted_types(data=blob))
    np.testing.assert_array_equal(loaded.predict(x[valid]), model.predict(x[valid]))

    # The training data, features and target, as the run's input with its profile.
    datasets = DatasetService(logging_to)
    ((version, context),) = datasets.inputs_of(run.info.run_id)
    assert context == "training"
    assert version.name == "auto-training"
    assert version.n_rows == 450
    profile = datasets.profile(version)
    assert profile is not None
    assert set(profile.columns) == {"age", "spend", "churned"}

    # The coefficients' magnitudes, named as the final step sees its features.
    importances = vigil.explain.get_importance(run=run.info.run_id, store=logging_to)
    coef = np.abs(model[-1].coef_[0])
    assert importances == pytest.approx(dict(zip(["age", "spend"], coef, strict=True)))


def test_a_regressor_gets_regression_metrics(logging_to: Store) -> None:
    x, _ = _data()
    target = 3 * x["spend"].to_numpy() + 1
    model = Ridge().fit(x.to_numpy(), target)
    (run,) = _runs(logging_to)
    assert run.metrics["training_r2"] == pytest.approx(
        r2_score(target, model.predict(x.to_numpy()))
    )
    assert {"training_mae", "training_rmse", "training_mape"} <= set(run.metrics)
    assert "training_accuracy" not in run.metrics


def test_only_the_outermost_fit_is_a_run(logging_to: Store) -> None:
    x, y = _data(300)
    search = GridSearchCV(
        RandomForestClassifier(n_estimators=5, random_state=0), {"max_depth": [2, 3]}, cv=3
    )
    search.fit(x, y)  # 7 inner fits: 3 folds x 2 settings, then the refit
    (run,) = _runs(logging_to)
    assert run.info.name == "GridSearchCV"
    assert run.params["param_grid"] == "{'max_depth': [2, 3]}"


def test_inside_a_run_the_fit_logs_to_it_and_leaves_it_open(
    logging_to: Store, tmp_path: Path
) -> None:
    x, y = _data(200)
    with vigil.start_run("auto", "mine", store=logging_to, system_metrics=False) as run:
        model = LogisticRegression().fit(x, y)
        assert run.info.status.value == "running"
        model.score(x[:100], y[:100])  # into the open run, through its own store
    model.score(x[100:], y[100:])  # after it ended: the run's store is still the one given
    (only,) = _runs(logging_to)
    assert only.info.run_id == run.id
    assert "training_accuracy" in only.metrics
    history = TrackingService(logging_to).metric_history(run.id, "validation_accuracy")
    assert [p.value for p in history] == pytest.approx(
        [model.score(x[:100], y[:100]), model.score(x[100:], y[100:])]
    )


def test_a_failing_fit_raises_and_its_run_is_failed(logging_to: Store) -> None:
    x, _ = _data(50)
    with pytest.raises(ValueError, match="class"):
        LogisticRegression().fit(x, np.zeros(50))  # one class only
    (run,) = _runs(logging_to)
    assert run.info.status.value == "failed"


def test_recording_never_breaks_training(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    x, y = _data(100)
    autolog(experiment="auto", url="http://127.0.0.1:9", token="x")  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="vigil.autologging"):
            model = LogisticRegression().fit(x, y)
    finally:
        autolog(disable=True)
    assert model.predict(x).shape == (100,)
    assert "vigil.autolog could not record the run" in caplog.text


def test_disable_restores_scikit_learns_own_methods(logging_to: Store) -> None:
    from sklearn.base import ClassifierMixin

    fit, score = LogisticRegression.fit, ClassifierMixin.score
    autolog(disable=True)
    assert LogisticRegression.fit is fit.__wrapped__  # functools.wraps keeps the original
    assert ClassifierMixin.score is score.__wrapped__
    LogisticRegression().fit(*_data(100))
    assert TrackingService(logging_to).search_runs().runs == []


def test_autolog_is_exported_and_checks_its_settings() -> None:
    assert vigil.autolog is autolog
    with pytest.raises(vigil.errors.InvalidInputError, match="experiment"):
        autolog(experiment="")


def test_transformers_and_metric_helpers_are_not_runs_and_models_still_pickle(
    logging_to: Store,
) -> None:
    import pickle

    from sklearn.metrics import log_loss

    x, y = _data(200)
    StandardScaler().fit(x)  # a transformer on its own: not a model
    model = LogisticRegression().fit(x, y)
    log_loss(y, model.predict_proba(x))  # fits a LabelBinarizer inside: not a run either
    (run,) = _runs(logging_to)
    assert run.info.name == "LogisticRegression"
    again = pickle.loads(pickle.dumps(model))  # autologging left nothing on the estimator
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert not any(k.startswith("_vigil") for k in vars(model))


def test_xgboost_and_lightgbm_fits_are_recorded_with_their_importances(
    logging_to: Store,
) -> None:
    import lightgbm
    import xgboost

    x, y = _data(300)
    xgboost.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
    lightgbm.LGBMRegressor(n_estimators=5, verbose=-1).fit(x, x["spend"] * 2)
    runs = {r.info.name: r for r in _runs(logging_to)}
    assert set(runs) == {"XGBClassifier", "LGBMRegressor"}
    assert runs["XGBClassifier"].params["max_depth"] == "2"
    assert "training_roc_auc" in runs["XGBClassifier"].metrics
    assert "training_rmse" in runs["LGBMRegressor"].metrics
    for run in runs.values():
        importances = vigil.explain.get_importance(run=run.info.run_id, store=logging_to)
        assert importances is not None
        assert set(importances) == {"age", "spend"}


def test_run_info_answers_to_mlflows_names(logging_to: Store) -> None:
    with vigil.start_run("auto", "named", store=logging_to, system_metrics=False) as run:
        pass
    assert run.info.run_id == run.id
    assert run.info.run_name == "named"
