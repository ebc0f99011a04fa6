"""Importances logged to local runs and versions; attributions through a local client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import vigil
from vigil.errors import InvalidInputError, NotFoundError
from vigil.registry.service import Registry
from vigil.store.core import Store

rng = np.random.default_rng(9)
X = pd.DataFrame(rng.normal(size=(400, 3)), columns=["tenure", "spend", "calls"])
Y = (X.tenure - X.spend > 0).astype(int)
MODEL = LogisticRegression().fit(X, Y)


def test_importances_of_a_local_run_and_of_the_version_registered_from_it(store: Store) -> None:
    with vigil.start_run("churn", store=store, capture=False) as run:
        permutation = vigil.explain.permutation_importance(MODEL, X, Y, n_repeats=2)
        shap = vigil.explain.shap_importance(MODEL, X, background=X)
        vigil.explain.log_importance(permutation, run=run)
        vigil.explain.log_importance(shap, run=run.id, store=store)
        info = Registry(store).register("churn", MODEL, run_id=run.id)
    vigil.explain.log_importance(shap, model_version=info, actor="ana", store=store)
    vigil.explain.log_importance(
        {"tenure": 9.0}, method="gain", model_version=("churn", 1), store=store
    )
    assert vigil.explain.get_importance(run=run, method="permutation") == permutation.values
    assert vigil.explain.get_importance(run=run.id, store=store) == shap.values
    assert vigil.explain.get_importance(model_version="models:/churn/1", store=store) == {
        "tenure": 9.0
    }
    assert vigil.explain.get_importance(
        model_version="models:/churn/latest", method="shap", store=store
    ) == pytest.approx(shap.values)
    assert shap.details["output_space"] == "log_odds"
    assert shap.ranking()[:2] == ["tenure", "spend"]


def test_logging_needs_a_target_and_a_method(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="give run= "):
        vigil.explain.log_importance({"a": 1.0}, method="gain", store=store)
    with pytest.raises(InvalidInputError, match="give method="):
        vigil.explain.log_importance({"a": 1.0}, run="abc", store=store)
    with pytest.raises(NotFoundError, match="no run with id 'abc'"):
        vigil.explain.log_importance({"a": 1.0}, method="gain", run="abc", store=store)
    with pytest.raises(InvalidInputError, match="not valid"):
        vigil.explain.log_importance({"a": 1.0}, method="gain", model_version=3, store=store)  # type: ignore[arg-type]


def test_attributions_through_a_local_client(tmp_path: Path) -> None:
    client = vigil.Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    client.create_model("churn", features=list(X.columns), window=dt.timedelta(days=1))
    logged = vigil.explain.log_attributions(
        "churn",
        MODEL,
        X,
        sample=0.5,
        seed=1,
        timestamp=dt.datetime(2026, 11, 20, 13, tzinfo=dt.UTC),
        client=client,
        background=X,
    )
    assert logged.result is not None
    assert logged.result.windows == [dt.datetime(2026, 11, 20, tzinfo=dt.UTC)]
    assert logged.result.n_rows == logged.n_explained
    client.close()
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    with store.session() as session:
        [window] = vigil.explain.attribution_windows(session, "churn")
    store.close()
    assert window.end - window.start == dt.timedelta(days=1)
    assert max(window.mean_abs, key=window.mean_abs.__getitem__) in {"tenure", "spend"}
