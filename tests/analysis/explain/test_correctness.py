"""Importances recover known structure; SHAP values add up to the model output; exact values
against closed forms and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.inspection import permutation_importance as sklearn_permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

import vigil
from vigil.analysis.explain.permutation import permutation_importance

ADDITIVITY = 1e-6
# y = 4 x0 + 2 x1 + 0.3 x2 + 1.5 x3 x4 (+ noise); x5 is unused. Standard normal features.
# mean |SHAP|: x0 4*0.80=3.19, x1 1.60, x3 = x4 = 0.75 * E|x3 x4| = 0.48, x2 0.24, x5 0.
# permutation (MSE): 2 b^2 var: x0 32, x1 8, x3 = x4 = 1.5^2 * 2 = 4.5, x2 0.18, x5 0.
TRUE_ORDER = ["x0", "x1", {"x3", "x4"}, "x2", "x5"]


def _synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    y = 4 * x.x0 + 2 * x.x1 + 0.3 * x.x2 + 1.5 * x.x3 * x.x4 + rng.normal(0, 0.3, n)
    return x, y.to_numpy()


def _assert_true_order(ranking: list[str]) -> None:
    assert ranking[0] == "x0"
    assert ranking[1] == "x1"
    assert set(ranking[2:4]) == {"x3", "x4"}
    assert ranking[4] == "x2"
    assert ranking[5] == "x5"


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return _synthetic(6000)


@pytest.fixture(scope="module")
def gbm(data: tuple[pd.DataFrame, np.ndarray]) -> HistGradientBoostingRegressor:
    x, y = data
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=0).fit(
        x[:4000], y[:4000]
    )


def test_shap_ranking_of_a_gbm_recovers_the_true_order_with_the_interaction(
    data: tuple[pd.DataFrame, np.ndarray], gbm: HistGradientBoostingRegressor
) -> None:
    x, _ = data
    importance = vigil.explain.shap_importance(gbm, x[4000:], max_rows=None)
    _assert_true_order(importance.ranking())
    values = importance.values
    assert values["x0"] == pytest.approx(4 * np.sqrt(2 / np.pi), rel=0.1)
    assert values["x1"] == pytest.approx(2 * np.sqrt(2 / np.pi), rel=0.1)
    assert values["x3"] == pytest.approx(0.75 * 2 / np.pi, rel=0.25)


def test_permutation_ranking_of_a_gbm_recovers_the_true_order(
    data: tuple[pd.DataFrame, np.ndarray], gbm: HistGradientBoostingRegressor
) -> None:
    x, y = data
    importance = permutation_importance(gbm, x[4000:], y[4000:], metric="mse", n_repeats=3)
    _assert_true_order(importance.ranking())
    assert importance.values["x0"] == pytest.approx(32, rel=0.15)
    assert importance.values["x3"] == pytest.approx(4.5, rel=0.3)
    assert importance.details["metric"] == "mse"


def test_permutation_is_seeded_and_agrees_with_scikit_learn(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    x, y = data
    linear = LinearRegression().fit(x, y)
    ours = permutation_importance(linear, x, y, metric="r2", n_repeats=5, seed=3)
    again = permutation_importance(linear, x, y, metric="r2", n_repeats=5, seed=3)
    assert ours.values == again.values
    assert ours.std == again.std
    other = permutation_importance(linear, x, y, metric="r2", n_repeats=5, seed=4)
    assert other.values != ours.values
    theirs = sklearn_permutation_importance(linear, x, y, scoring="r2", n_repeats=5, random_state=3)
    for i, name in enumerate(x.columns):
        assert ours.values[name] == pytest.approx(theirs.importances_mean[i], rel=0.05, abs=2e-3)


def test_linear_shap_is_coefficient_times_distance_to_the_background_mean(
    data: tuple[pd.DataFrame, np.ndarray],
) -> None:
    x, y = data
    linear = LinearRegression().fit(x, y)
    background = x[:500]
    explanation = vigil.explain(linear, x[500:520], background=background, background_size=500)
    assert explanation.algorithm == "linear"
    assert explanation.output_space == "raw"
    expected = linear.coef_ * (x[500:520].to_numpy() - background.to_numpy().mean(axis=0))
    np.testing.assert_allclose(explanation.contributions, expected, atol=1e-9)
    assert explanation.base_value == pytest.approx(
        float(linear.predict(background).mean()), abs=1e-9
    )
    np.testing.assert_allclose(explanation.output, linear.predict(x[500:520]), atol=1e-12)
    assert explanation.additivity_error() < ADDITIVITY


def _classification(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    logit = 2.0 * x.a - 1.0 * x.b + 0.5 * x.c
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_logistic_regression_adds_up_to_the_log_odds_and_ranks_its_coefficients() -> None:
    x, y = _classification(4000)
    model = LogisticRegression().fit(x, y)
    explanation = vigil.explain(model, x[:200], background=x)
    assert explanation.algorithm == "linear"
    assert explanation.output_space == "log_odds"
    assert explanation.target == 1
    margin = model.decision_function(x[:200])
    assert np.max(np.abs(explanation.base_value + explanation.contributions.sum(1) - margin)) < (
        ADDITIVITY
    )
    assert explanation.importance().ranking() == ["a", "b", "c", "d"]
    negative = vigil.explain(model, x[:200], background=x, target=0)
    np.testing.assert_allclose(negative.contributions, -explanation.contributions)
    assert negative.additivity_error() < ADDITIVITY


def test_gradient_boosting_classifier_adds_up_in_log_odds_and_in_probability() -> None:
    x, y = _classification(3000)
    model = GradientBoostingClassifier(n_estimators=60, random_state=0).fit(x, y)
    raw = vigil.explain(model, x[:300])
    assert raw.algorithm == "tree"
    assert raw.output_space == "log_odds"
    margin = model.decision_function(x[:300])
    assert np.max(np.abs(raw.base_value + raw.contributions.sum(1) - margin)) < ADDITIVITY
    assert raw.importance().ranking()[:3] == ["a", "b", "c"]
    proba = vigil.explain(model, x[:50], output="probability", background=x[1000:1200])
    assert proba.output_space == "probability"
    expected = model.predict_proba(x[:50])[:, 1]
    assert np.max(np.abs(proba.base_value + proba.contributions.sum(1) - expected)) < ADDITIVITY


def test_forest_classifier_explains_the_probability_of_each_class() -> None:
    x, y = _classification(1500)
    labels = np.where(y == 1, "churn", "stay")
    model = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0).fit(x, labels)
    explanation = vigil.explain(model, x[:40], target="stay")
    assert explanation.output_space == "probability"
    assert explanation.target == "stay"
    expected = model.predict_proba(x[:40])[:, list(model.classes_).index("stay")]
    total = explanation.base_value + explanation.contributions.sum(1)
    assert np.max(np.abs(total - expected)) < ADDITIVITY


def test_kernel_fallback_adds_up_to_the_probability_and_is_seeded() -> None:
    x, y = _classification(600)
    model = KNeighborsClassifier(n_neighbors=15).fit(x, y)
    explanation = vigil.explain(model, x[:8], background=x[100:400], background_size=40, seed=1)
    assert explanation.algorithm == "kernel"
    assert explanation.output_space == "probability"
    assert explanation.details["background_rows"] == 40
    expected = model.predict_proba(x[:8])[:, 1]
    total = explanation.base_value + explanation.contributions.sum(1)
    assert np.max(np.abs(total - expected)) < ADDITIVITY
    again = vigil.explain(model, x[:8], background=x[100:400], background_size=40, seed=1)
    np.testing.assert_array_equal(again.contributions, explanation.contributions)


def test_kernel_on_a_regressor_ranks_the_strong_features_first() -> None:
    x, y = _synthetic(1500, seed=5)
    model = KNeighborsRegressor(n_neighbors=10).fit(x, y)
    explanation = vigil.explain(model, x[:30], background=x[500:], background_size=50)
    assert explanation.algorithm == "kernel"
    assert explanation.output_space == "raw"
    assert explanation.importance().ranking()[:2] == ["x0", "x1"]
    assert explanation.additivity_error() < ADDITIVITY
