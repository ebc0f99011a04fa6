"""Label coverage, complete windows and per-metric minimums (docs/performance.md, "Coverage and
complete windows"): the flags, their boundaries, and their shapes in to_dict, to_pandas and
the notebook chart. A metric below its minimum keeps scikit-learn's value, flagged."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as sk

from vigil.analysis.performance.columns import Layout
from vigil.analysis.performance.fairness import fairness
from vigil.analysis.performance.metrics import (
    CLASSIFICATION_METRICS,
    MIN_LABELLED_ROWS,
    MINIMUMS,
    REGRESSION_METRICS,
    below_minimum,
    classification_metrics,
    regression_metrics,
)
from vigil.analysis.performance.realized import WindowPerformance, incomplete_reason
from vigil.analysis.performance.reports import FairnessReport, FairnessWindow, RealizedReport

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _binary(n: int, n_positive: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array(["1"] * n_positive + ["0"] * (n - n_positive), dtype=object)
    score = rng.random(n)
    pred = np.where(score >= 0.5, "1", "0").astype(object)
    return y, pred, np.column_stack([1 - score, score])


def test_every_metric_has_a_minimum_and_the_window_minimum_is_the_smallest() -> None:
    assert set(MINIMUMS) == {*CLASSIFICATION_METRICS, *REGRESSION_METRICS}
    assert MIN_LABELLED_ROWS == min(m.rows for m in MINIMUMS.values()) == 30


def test_binary_minimums_per_class_and_values_kept() -> None:
    y, pred, proba = _binary(40, 4)
    metrics = classification_metrics(y, pred, ["0", "1"], proba, "1")
    flagged = below_minimum(metrics)
    assert set(flagged) == {"precision", "recall", "f1", "roc_auc", "average_precision"}
    assert flagged["f1"] == "4 labelled rows of class '1', fewer than 5"
    assert flagged["roc_auc"] == "4 labelled rows of class '1', fewer than 10"
    # Flagged, not hidden: the value is scikit-learn's on the same rows.
    assert metrics.roc_auc == pytest.approx(sk.roc_auc_score(y == "1", proba[:, 1]), abs=1e-12)
    y, pred, proba = _binary(40, 10)
    assert below_minimum(classification_metrics(y, pred, ["0", "1"], proba, "1")) == {}
    y, pred, proba = _binary(29, 14)
    flagged = below_minimum(classification_metrics(y, pred, ["0", "1"], proba, "1"))
    assert set(flagged) == set(CLASSIFICATION_METRICS)
    assert flagged["accuracy"] == "29 labelled rows, fewer than 30"


def test_multiclass_minimum_needs_every_class() -> None:
    y = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 6, dtype=object)
    metrics = classification_metrics(y, y.copy(), ["a", "b", "c"])
    flagged = below_minimum(metrics)
    assert set(flagged) == {"roc_auc", "average_precision"}
    assert flagged["roc_auc"] == "6 labelled rows of class 'c', fewer than 10"


def test_regression_minimum_is_rows_only() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=30)
    assert below_minimum(regression_metrics(y, y + 0.1)) == {}
    assert set(below_minimum(regression_metrics(y[:29], y[:29]))) == set(REGRESSION_METRICS)


def test_complete_at_the_boundaries() -> None:
    assert incomplete_reason(100, 50, 0.5) is None  # coverage at the setting is enough
    assert incomplete_reason(100, 49, 0.5) == (
        "49 of 100 predictions labelled (49.0%), below the model's min_label_coverage 50%"
    )
    assert incomplete_reason(29, 29, 0.5) == "29 labelled predictions, fewer than 30"
    assert incomplete_reason(0, 0, 0.0) == "0 labelled predictions, fewer than 30"
    assert incomplete_reason(5468, 9, 0.5) == (
        "9 of 5,468 predictions labelled (0.2%), below the model's min_label_coverage 50%"
    )
    assert incomplete_reason(1000, 100, 0.05) is None


def _report() -> RealizedReport:
    y, pred, proba = _binary(400, 200, seed=2)
    good = classification_metrics(y, pred, ["0", "1"], proba, "1")
    y9, pred9, proba9 = _binary(9, 2, seed=3)
    thin = classification_metrics(y9, pred9, ["0", "1"], proba9, "1")
    day = dt.timedelta(days=1)
    layout = Layout("classification", "pred", ("score",), ("0", "1"), "1")
    return RealizedReport(
        "churn",
        "day",
        "",
        layout,
        (
            WindowPerformance(T0, T0 + day, 400, 400, good, 0.5, below_minimum(good)),
            WindowPerformance(T0 + day, T0 + 2 * day, 5468, 9, thin, 0.5, below_minimum(thin)),
        ),
    )


def test_judged_per_metric() -> None:
    full, thin = _report().windows
    assert full.complete
    assert full.judged("roc_auc")
    assert not thin.complete
    assert not thin.judged("accuracy")
    window = WindowPerformance(T0, T0, 100, 100, None, 0.5, {"roc_auc": "3 labelled rows..."})
    assert window.complete
    assert window.judged("accuracy")
    assert not window.judged("roc_auc")


def test_to_dict_and_to_pandas_carry_the_flags() -> None:
    report = _report()
    first, last = report.to_dict()["windows"]
    assert (first["complete"], first["below_minimum"], first["min_label_coverage"]) == (
        True,
        {},
        0.5,
    )
    assert last["complete"] is False
    assert last["incomplete_reason"].startswith("9 of 5,468 predictions labelled")
    assert last["below_minimum"]["roc_auc"] == "9 labelled rows, fewer than 30"
    frame = report.to_pandas()
    assert list(frame.columns[:7]) == [
        "start",
        "end",
        "n_predictions",
        "n_labelled",
        "coverage",
        "complete",
        "below_minimum",
    ]
    assert frame["complete"].tolist() == [True, False]
    assert frame["below_minimum"].tolist()[0] == ""
    assert "roc_auc" in frame["below_minimum"].tolist()[1].split(", ")


def test_the_notebook_chart_draws_incomplete_windows_as_their_own_series() -> None:
    titles = re.findall(r"<title>([^<]*)</title>", _report()._chart_html())
    points = {t.rsplit(":", 1)[0] for t in titles}
    assert "accuracy 2026-01-05 00:00" in points
    assert "accuracy (incomplete) 2026-01-06 00:00" in points
    assert "roc_auc (incomplete) 2026-01-06 00:00" in points
    # The incomplete window is not a point of the complete series: no drop is drawn.
    assert "accuracy 2026-01-06 00:00" not in points
    assert "roc_auc 2026-01-06 00:00" not in points


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_complete_is_coverage_at_the_setting_and_thirty_rows(
    n_predictions: int, n_labelled: int, min_coverage: float
) -> None:
    n_labelled = min(n_labelled, n_predictions)
    window = WindowPerformance(T0, T0, n_predictions, n_labelled, None, min_coverage)
    coverage = n_labelled / n_predictions if n_predictions else 0.0
    assert window.complete == (coverage >= min_coverage and n_labelled >= 30)
    assert (window.incomplete_reason is None) == window.complete


def test_fairness_windows_say_whether_equal_opportunity_may_be_judged() -> None:
    groups = np.array(["a", "a", "b", "b"] * 25, dtype=object)
    pred = np.array(["1", "0", "1", "1"] * 25, dtype=object)
    truth = np.array(["1", "1", "1", "0"] * 25, dtype=object)
    result = fairness(groups, pred, truth, "1")
    day = dt.timedelta(days=1)
    report = FairnessReport(
        "churn",
        "country",
        "day",
        "1",
        (
            FairnessWindow(T0, T0 + day, 100, result, 100, 0.5),
            FairnessWindow(T0 + day, T0 + 2 * day, 100, result, 40, 0.5),
        ),
    )
    first, second = report.to_dict()["windows"]
    assert (first["complete"], first["coverage"]) == (True, 1.0)
    assert second["complete"] is False
    assert second["incomplete_reason"] == (
        "40 of 100 predictions labelled (40.0%), below the model's min_label_coverage 50%"
    )
    assert second["equal_opportunity_difference"] == first["equal_opportunity_difference"] == 0.5
    assert report.to_pandas()["complete"].tolist() == [True, True, False, False]
    titles = re.findall(r"<title>([^<]*)</title>", report._chart_html())
    points = {t.rsplit(":", 1)[0] for t in titles}
    assert "equal_opportunity_difference (incomplete) 2026-01-06 00:00" in points
    assert "equal_opportunity_difference 2026-01-06 00:00" not in points
    assert "demographic_parity_difference 2026-01-06 00:00" in points  # needs no labels
