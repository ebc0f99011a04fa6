"""The NumPy metrics against scikit-learn's exact values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from vigil.analysis.performance.metrics import (
    average_precision,
    classification_metrics,
    regression_metrics,
    roc_auc,
)
from vigil.errors import InvalidInputError

CLASSES = ["0", "1"]


@st.composite
def binary_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(4, 60))
    truth = np.array(draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n)), object)
    # Few distinct scores, so ties are common.
    grid = draw(st.integers(2, 12))
    scores = np.array(draw(st.lists(st.integers(0, grid), min_size=n, max_size=n))) / grid
    preds = np.array(draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n)), object)
    return truth, preds, scores


@given(binary_data())
@settings(max_examples=150, deadline=None)
def test_binary_metrics_match_sklearn(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    truth, preds, score = data
    proba = np.column_stack([1 - score, score])
    got = classification_metrics(truth, preds, CLASSES, proba, positive_class="1")
    t, p = truth.astype(str), preds.astype(str)
    assert got.accuracy == pytest.approx(sk.accuracy_score(t, p), abs=1e-12)
    for name, fn in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        expected = fn(t, p, pos_label="1", zero_division=0)
        assert getattr(got, name) == pytest.approx(expected, abs=1e-12), name
    assert got.confusion_matrix == sk.confusion_matrix(t, p, labels=CLASSES).tolist()
    positive = truth == "1"
    if 0 < positive.sum() < len(truth):
        assert got.roc_auc == pytest.approx(sk.roc_auc_score(positive, score), abs=1e-12)
        assert got.average_precision == pytest.approx(
            sk.average_precision_score(positive, score), abs=1e-12
        )
        assert got.log_loss == pytest.approx(sk.log_loss(t, proba, labels=CLASSES), abs=1e-12)
    else:
        assert got.roc_auc is None
    if positive.sum() == 0:
        assert got.average_precision is None


def test_log_loss_clips_certain_wrong_probabilities_like_sklearn() -> None:
    truth = np.array(["0", "1", "1"], object)
    score = np.array([1.0, 0.0, 1.0])
    proba = np.column_stack([1 - score, score])
    got = classification_metrics(truth, truth, CLASSES, proba, positive_class="1")
    assert got.log_loss == pytest.approx(sk.log_loss(truth.astype(str), proba), rel=1e-12)
    assert got.log_loss > 20  # -log(eps) / 3 * 2: two rows certain and wrong


@given(st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_multiclass_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    n = int(rng.integers(30, 200))
    truth = np.array(classes, object)[np.r_[np.arange(4), rng.integers(0, 4, n - 4)]]
    raw = rng.dirichlet(np.ones(4), n)
    raw = np.round(raw, 2)  # ties
    proba = raw / raw.sum(axis=1, keepdims=True)
    preds = np.array(classes, object)[proba.argmax(axis=1)]
    got = classification_metrics(truth, preds, classes, proba)
    t, p = truth.astype(str), preds.astype(str)
    assert got.accuracy == pytest.approx(sk.accuracy_score(t, p), abs=1e-12)
    assert got.precision == pytest.approx(
        sk.precision_score(t, p, average="macro", zero_division=0), abs=1e-12
    )
    assert got.recall == pytest.approx(
        sk.recall_score(t, p, average="macro", zero_division=0), abs=1e-12
    )
    assert got.f1 == pytest.approx(sk.f1_score(t, p, average="macro", zero_division=0), abs=1e-12)
    assert got.roc_auc == pytest.approx(
        sk.roc_auc_score(t, proba, multi_class="ovr", average="macro", labels=classes), abs=1e-12
    )
    assert got.average_precision == pytest.approx(
        sk.average_precision_score(
            np.stack([t == c for c in classes], axis=1), proba, average="macro"
        ),
        abs=1e-12,
    )
    assert got.log_loss == pytest.approx(sk.log_loss(t, proba, labels=classes), abs=1e-12)
    assert got.confusion_matrix == sk.confusion_matrix(t, p, labels=classes).tolist()
    per_class_f1 = sk.f1_score(t, p, average=None, labels=classes, zero_division=0)
    for cls, expected in zip(classes, per_class_f1, strict=True):
        assert got.per_class[cls].f1 == pytest.approx(expected, abs=1e-12)
        assert got.per_class[cls].support == int((t == cls).sum())
    assert got.value("recall", "b") == got.per_class["b"].recall


@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=2,
        max_size=50,
    )
)
@settings(max_examples=150, deadline=None)
def test_regression_metrics_match_sklearn(pairs: list[tuple[float, float]]) -> None:
    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    got = regression_metrics(y, p)
    assert got.mae == pytest.approx(sk.mean_absolute_error(y, p), rel=1e-9, abs=1e-12)
    assert got.rmse == pytest.approx(sk.root_mean_squared_error(y, p), rel=1e-9, abs=1e-12)
    assert got.mape == pytest.approx(sk.mean_absolute_percentage_error(y, p), rel=1e-9, abs=1e-12)
    assert got.r2 == pytest.approx(sk.r2_score(y, p), rel=1e-9, abs=1e-9)


def test_auc_and_ap_of_one_class_are_none_and_errors_name_the_metric() -> None:
    one = np.array([True, True, True])
    assert roc_auc(one, np.array([0.1, 0.2, 0.3])) is None
    assert average_precision(~one, np.array([0.1, 0.2, 0.3])) is None
    got = classification_metrics(
        np.array(["0", "1"], object), np.array(["0", "0"], object), CLASSES, None, "1"
    )
    assert (got.precision, got.recall, got.roc_auc) == (0.0, 0.0, None)
    with pytest.raises(InvalidInputError, match="'brier'"):
        got.value("brier")
    with pytest.raises(InvalidInputError, match="no labelled rows"):
        classification_metrics(np.array([], object), np.array([], object), CLASSES)
    with pytest.raises(InvalidInputError, match="no labelled rows"):
        regression_metrics(np.array([]), np.array([]))
