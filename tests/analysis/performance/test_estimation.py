"""CBPE: the isotonic calibration against scikit-learn, and estimates against realized metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.isotonic import IsotonicRegression

from tests.performance.scenario import scenario
from vigil.analysis.performance.estimation import CBPE, IsotonicCalibrator, expected_roc_auc
from vigil.errors import InvalidInputError


def test_isotonic_calibration_applies_sklearns_fit() -> None:
    rng = np.random.default_rng(3)
    score = np.round(rng.random(3000), 3)  # ties
    outcome = (rng.random(3000) < score**2).astype(float)
    ours = IsotonicCalibrator.fit(score, outcome)
    theirs = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(score, outcome)
    probe = np.r_[-1.0, np.linspace(0, 1, 501), 2.0]
    np.testing.assert_allclose(ours(probe), theirs.predict(probe), atol=1e-12)
    assert np.all(np.diff(ours(probe)) >= 0)


def test_expected_auc_of_certain_probabilities_is_the_realized_auc() -> None:
    rng = np.random.default_rng(5)
    score = np.round(rng.random(400), 2)
    truth = rng.random(400) < score
    assert expected_roc_auc(truth.astype(float), score) == pytest.approx(
        sk.roc_auc_score(truth, score), abs=1e-12
    )


def test_estimates_track_realized_metrics_under_covariate_shift() -> None:
    """Labels held back: the estimate of each window is within 0.03 of its realized value."""
    reference, windows = scenario()
    classes = ["0", "1"]
    estimator = CBPE.fit(reference.label.astype(str).astype(object), reference.score, classes, "1")
    realized_accuracy = []
    for window in windows:
        predicted = window.predicted.astype(str).astype(object)
        estimate = estimator.estimate(predicted, window.score)
        accuracy = sk.accuracy_score(window.label, window.predicted)
        auc = sk.roc_auc_score(window.label, window.score)
        assert estimate.accuracy == pytest.approx(accuracy, abs=0.03)
        assert estimate.roc_auc == pytest.approx(auc, abs=0.03)
        assert estimate.f1 == pytest.approx(sk.f1_score(window.label, window.predicted), abs=0.03)
        assert estimate.n == window.score.size
        assert sum(map(sum, estimate.confusion_matrix)) == pytest.approx(window.score.size)
        realized_accuracy.append(accuracy)
    # The scenario really moves performance (else the test would prove little).
    assert max(realized_accuracy) - min(realized_accuracy) > 0.04


def test_uncalibrated_estimates_are_wrong_on_this_over_confident_model() -> None:
    reference, windows = scenario()
    raw = CBPE.fit(
        reference.label.astype(str).astype(object),
        reference.score,
        ["0", "1"],
        "1",
        calibrate=False,
    )
    window = windows[0]
    estimate = raw.estimate(window.predicted.astype(str).astype(object), window.score)
    realized = sk.accuracy_score(window.label, window.predicted)
    assert abs(estimate.accuracy - realized) > 0.03


def test_multiclass_estimates_track_realized_accuracy() -> None:
    rng = np.random.default_rng(11)
    classes = ["a", "b", "c"]

    def draw(n: int, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = rng.normal(shift, 1.0, (n, 2))
        logits = np.column_stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]])
        true_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        label = np.array([rng.choice(3, p=p) for p in true_p])
        sharp = np.exp(1.8 * logits)
        score = sharp / sharp.sum(axis=1, keepdims=True)
        return np.array(classes, object)[label], score, np.array(classes, object)[score.argmax(1)]

    ref_label, ref_score, _ = draw(15_000, 0.0)
    estimator = CBPE.fit(ref_label, ref_score, classes)
    for shift in (0.0, 0.7):
        label, score, predicted = draw(6_000, shift)
        estimate = estimator.estimate(predicted, score)
        assert estimate.accuracy == pytest.approx(sk.accuracy_score(label, predicted), abs=0.03)
        assert estimate.roc_auc == pytest.approx(
            sk.roc_auc_score(label, score, multi_class="ovr", labels=classes), abs=0.03
        )


def test_estimation_refuses_bad_inputs_with_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="at least two classes"):
        CBPE.fit(np.array(["a"], object), np.array([0.5]), ["a"])
    estimator = CBPE.fit(np.array(["0", "1"], object), np.array([0.2, 0.8]), ["0", "1"], "1")
    with pytest.raises(InvalidInputError, match=r"\['7'\]"):
        estimator.estimate(np.array(["7"], object), np.array([0.3]))
    with pytest.raises(InvalidInputError, match="finite"):
        estimator.estimate(np.array(["1"], object), np.array([np.nan]))
