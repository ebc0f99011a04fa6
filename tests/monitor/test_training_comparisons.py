"""The pure comparisons behind the training kinds, checked against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vigil.errors import InvalidInputError
from vigil.monitor.comparisons import (
    compare_importances,
    compare_metrics,
    metric_direction,
    spearman,
)


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("auc", "higher"),
        ("val_roc_auc", "higher"),
        ("test/accuracy", "higher"),
        ("f1_score", "higher"),
        ("r2", "higher"),
        ("loss", "lower"),
        ("val.log_loss", "lower"),
        ("rmse", "lower"),
        ("mean_absolute_error", "lower"),
        ("neg_mean_squared_error", "higher"),  # scikit-learn's scorer convention
        ("neg_log_loss", "higher"),
        ("n_trees", None),
        ("training_time", None),
    ],
)
def test_metric_direction_from_the_name(name: str, direction: str | None) -> None:
    assert metric_direction(name) == direction


def test_configured_directions_win() -> None:
    assert metric_direction("revenue", {"revenue": "higher"}) == "higher"
    assert metric_direction("auc", {"auc": "lower"}) == "lower"


def test_compare_metrics_signs_regressions_by_direction() -> None:
    result = compare_metrics(
        {"auc": 0.8, "rmse": 3.0, "epochs": 5, "only_new": 1.0},
        {"auc": 0.9, "rmse": 2.0, "epochs": 4},
    )
    by_name = {m.name: m for m in result.metrics}
    assert by_name["auc"].worse_by == pytest.approx(0.1)
    assert by_name["auc"].relative_worse_by == pytest.approx(0.1 / 0.9)
    assert by_name["rmse"].worse_by == pytest.approx(1.0)
    assert by_name["rmse"].relative_worse_by == pytest.approx(0.5)
    assert result.unknown_direction == ("epochs",)
    assert result.worst(relative=False) is by_name["rmse"]
    assert result.worst(relative=True) is by_name["rmse"]
    only = compare_metrics({"auc": 0.8}, {"auc": 0.9}, names=["auc", "missing"])
    assert [m.name for m in only.metrics] == ["auc"]


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=2, max_size=40))
def test_spearman_equals_scipy_with_ties(pairs: list[tuple[int, int]]) -> None:
    a = [float(x) for x, _ in pairs]
    b = [float(y) for _, y in pairs]
    ours = spearman(a, b)
    expected = stats.spearmanr(a, b).statistic
    if np.isnan(expected):
        assert ours is None
    else:
        assert ours == pytest.approx(expected, abs=1e-12)


def test_spearman_on_continuous_values_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(50)
    b = a + rng.normal(0, 0.3, 50)
    assert spearman(list(a), list(b)) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert spearman([1.0], [2.0]) is None
    with pytest.raises(InvalidInputError, match="equal lengths"):
        spearman([1.0, 2.0], [1.0])


def test_compare_importances_over_the_union_of_features() -> None:
    old = {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.05}
    new = {"a": 0.5, "b": -0.35, "c": 0.02, "e": 0.2}  # d dropped, e new (in the top 3)
    result = compare_importances(new, old, top_k=3)
    features = ["a", "b", "c", "d", "e"]
    expected = stats.spearmanr(
        [abs(new.get(f, 0.0)) for f in features], [old.get(f, 0.0) for f in features]
    ).statistic
    assert result.spearman == pytest.approx(expected)
    assert result.candidate_top == ("a", "b", "e")
    assert result.reference_top == ("a", "b", "c")
    assert result.new_in_top == ("e",)
    assert result.n_features == 5
    signed = compare_importances(new, old, top_k=3, absolute=False)
    assert signed.candidate_top == ("a", "e", "c")
