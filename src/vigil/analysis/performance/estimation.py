"""Performance estimated without labels: confidence-based performance estimation (CBPE).

On a reference period with labels, each class's score is calibrated (isotonic regression of
"the row is of this class" on the score, so the calibrated score is the observed frequency of the
class among rows scored alike). On a window without labels, a row predicted as class b with
calibrated probabilities p is, in expectation, p[a] of a row of true class a predicted b: summing
gives the expected confusion matrix, and from it accuracy, precision, recall and F1. The expected
ROC AUC is the expected share of correctly ordered (positive, negative) pairs under the same
probabilities.

It holds while (1) the concept does not drift: P(class | score) is the same as on the reference
(covariate shift is fine, it is what the method handles), and (2) the calibration learned on the
reference is right (enough reference rows, scores that rank). Under concept drift the estimate is
wrong without warning: compare it with realized performance whenever labels arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vigil.analysis.performance.metrics import (
    FloatArray,
    ObjectArray,
    mean_defined,
    precision_recall_f1,
)
from vigil.errors import InvalidInputError

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class IsotonicCalibrator:
    """A non-decreasing step-wise linear map from score to probability: the function of
    scikit-learn's `IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")` fitted on
    (score, 0/1 outcome), kept as its breakpoints so that applying it needs only `np.interp`.

    Fitted here with the pool-adjacent-violators algorithm in NumPy: importing scikit-learn
    imports `scipy.stats`, two seconds of a first estimation call that needs nothing from it.
    """

    x: FloatArray
    y: FloatArray

    @classmethod
    def fit(cls, score: FloatArray, outcome: FloatArray) -> IsotonicCalibrator:
        if score.size == 0:
            raise InvalidInputError("cannot calibrate on no rows")
        x, inverse, counts = np.unique(
            np.asarray(score, dtype=np.float64), return_inverse=True, return_counts=True
        )
        # Rows with one score are one point: their mean outcome, weighted by their count.
        sums = np.bincount(inverse.ravel(), weights=np.asarray(outcome, dtype=np.float64))
        y = np.clip(_pool_adjacent_violators(sums / counts, counts.astype(np.float64)), 0.0, 1.0)
        return cls(x, y)

    def __call__(self, score: FloatArray) -> FloatArray:
        if self.x.size == 1:
            return np.full(score.shape, self.y[0])
        out: FloatArray = np.interp(score, self.x, self.y)
        return out


def _pool_adjacent_violators(values: FloatArray, weights: FloatArray) -> FloatArray:
    """The non-decreasing sequence closest to `values` in weighted least squares: adjacent
    blocks that decrease are pooled into their weighted mean until none does."""
    means: list[float] = []
    totals: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        mean, total, size = value, weight, 1
        while means and means[-1] > mean:
            previous, previous_total = means.pop(), totals.pop()
            mean = (previous * previous_total + mean * total) / (previous_total + total)
            total += previous_total
            size += sizes.pop()
        means.append(mean)
        totals.append(total)
        sizes.append(size)
    return np.repeat(np.asarray(means, dtype=np.float64), sizes)


@dataclass(frozen=True)
class EstimatedMetrics:
    """Expected metrics of one window (binary: of the positive class; multiclass: macro)."""

    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    confusion_matrix: list[list[float]]
    """Expected counts: [i][j] = rows of true class i predicted as class j."""
    per_class: dict[str, dict[str, float | None]]

    def value(self, metric: str, cls: str | None = None) -> float | None:
        if metric not in ESTIMATED_METRICS:
            raise InvalidInputError(
                f"metric {metric!r} cannot be estimated; the estimated metrics are "
                f"{list(ESTIMATED_METRICS)}",
                metric=metric,
            )
        if cls is not None:
            if cls not in self.per_class:
                raise InvalidInputError(f"class {cls!r} is not among {list(self.per_class)}")
            return self.per_class[cls][metric] if metric != "accuracy" else self.accuracy
        value: float | None = getattr(self, metric)
        return value


def expected_roc_auc(probability: FloatArray, score: FloatArray) -> float | None:
    """Expected share of correctly ordered (positive, negative) pairs when row i is positive with
    probability p_i (independently), pairs ranked by `score` (ties count one half):
    sum_{i != j} p_i (1 - p_j) [s_i > s_j] over sum_{i != j} p_i (1 - p_j)."""
    n = score.size
    if n < 2:
        return None
    order = np.argsort(score, kind="mergesort")
    s, p = score[order], probability[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    group_of = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, n]))
    negative_mass = np.add.reduceat(1 - p, starts)
    # Negative mass strictly below each row's score, and tied with it (the row itself excluded).
    below = np.r_[0.0, np.cumsum(negative_mass)[:-1]][group_of]
    tied = negative_mass[group_of] - (1 - p)
    numerator = float(np.sum(p * (below + 0.5 * tied)))
    total = float(p.sum()) * float((1 - p).sum()) - float(np.sum(p * (1 - p)))
    if total <= 0:
        return None
    return numerator / total


@dataclass(frozen=True)
class CBPE:
    """A fitted estimator: per-class calibrators and the classes.

    Binary: one score column, the probability of `classes[1]` (the positive class). Multiclass:
    one score column per class, in the order of `classes`; calibrated probabilities are
    normalised to sum to 1 per row.
    """

    classes: tuple[str, ...]
    calibrators: tuple[IsotonicCalibrator, ...]
    positive_class: str | None

    @classmethod
    def fit(
        cls,
        y_true: ObjectArray,
        scores: FloatArray,
        classes: Sequence[str],
        positive_class: str | None = None,
        *,
        calibrate: bool = True,
    ) -> CBPE:
        """Learn the calibration on reference rows: `scores` is n (binary: the probability of
        `positive_class`) or n x len(classes)."""
        classes = tuple(classes)
        if len(classes) < 2:
            raise InvalidInputError(
                f"estimating performance needs at least two classes, got {list(classes)}"
            )
        columns = _score_matrix(scores, classes, positive_class)
        if y_true.size != columns.shape[0]:
            raise InvalidInputError(f"{y_true.size} labels but {columns.shape[0]} score rows")
        if y_true.size == 0:
            raise InvalidInputError("the reference has no labelled rows to calibrate on")
        calibrators = []
        targets = classes if len(classes) > 2 else (positive_class or classes[1],)
        for i, target in enumerate(targets):
            if calibrate:
                outcome = (y_true == target).astype(np.float64)
                calibrators.append(IsotonicCalibrator.fit(columns[:, i], outcome))
            else:
                calibrators.append(_identity())
        return cls(classes, tuple(calibrators), positive_class)

    def probabilities(self, scores: FloatArray) -> FloatArray:
        """Calibrated probabilities, n x len(classes), columns in the order of `classes`."""
        columns = _score_matrix(scores, self.classes, self.positive_class)
        if len(self.classes) == 2:
            p = self.calibrators[0](columns[:, 0])
            pos = self.classes.index(self.positive_class or self.classes[1])
            out = np.empty((p.size, 2))
            out[:, pos], out[:, 1 - pos] = p, 1 - p
            return out
        calibrated = np.column_stack([c(columns[:, i]) for i, c in enumerate(self.calibrators)])
        sums = calibrated.sum(axis=1, keepdims=True)
        uniform = np.full_like(calibrated, 1.0 / len(self.classes))
        normalised: FloatArray = np.where(
            sums > 0, calibrated / np.where(sums > 0, sums, 1), uniform
        )
        return normalised

    def estimate(self, y_pred: ObjectArray, scores: FloatArray) -> EstimatedMetrics:
        """Expected metrics of rows with predicted classes `y_pred` and raw `scores`."""
        n = y_pred.size
        if n == 0:
            raise InvalidInputError("no rows to estimate performance on")
        proba = self.probabilities(scores)
        raw = _score_matrix(scores, self.classes, self.positive_class)
        k = len(self.classes)
        index = {c: i for i, c in enumerate(self.classes)}
        unknown = sorted({v for v in y_pred.tolist() if v not in index})
        if unknown:
            raise InvalidInputError(
                f"predicted class(es) {unknown[:5]} are not among the reference's classes "
                f"{list(self.classes)}"
            )
        predicted = np.fromiter((index[v] for v in y_pred), np.int64, count=n)
        matrix = np.zeros((k, k))
        for j in range(k):
            matrix[:, j] = proba[predicted == j].sum(axis=0)
        per_class: dict[str, dict[str, float | None]] = {}
        for i, cls in enumerate(self.classes):
            tp = matrix[i, i]
            precision, recall, f1 = precision_recall_f1(
                tp, matrix[:, i].sum() - tp, matrix[i, :].sum() - tp
            )
            ranking = raw[:, 0] if k == 2 else raw[:, i]
            positive = proba[:, i]
            if k == 2 and i != self.classes.index(self.positive_class or self.classes[1]):
                ranking = -ranking
            per_class[cls] = {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "roc_auc": expected_roc_auc(positive, ranking),
            }
        accuracy = float(np.trace(matrix)) / n
        if k == 2:
            chosen = per_class[self.positive_class or self.classes[1]]
            summary = [chosen["precision"], chosen["recall"], chosen["f1"], chosen["roc_auc"]]
        else:
            summary = [
                mean_defined([per_class[c][m] for c in self.classes])
                for m in ("precision", "recall", "f1", "roc_auc")
            ]
        return EstimatedMetrics(
            n=n,
            accuracy=accuracy,
            precision=float(summary[0] or 0.0),
            recall=float(summary[1] or 0.0),
            f1=float(summary[2] or 0.0),
            roc_auc=summary[3],
            confusion_matrix=matrix.tolist(),
            per_class=per_class,
        )


def _identity() -> IsotonicCalibrator:
    return IsotonicCalibrator(np.array([0.0, 1.0]), np.array([0.0, 1.0]))


def _score_matrix(
    scores: FloatArray, classes: Sequence[str], positive_class: str | None
) -> FloatArray:
    """Scores as n x m: m = 1 for binary (the positive class's probability), else one column
    per class."""
    matrix = scores.reshape(-1, 1) if scores.ndim == 1 else scores
    expected = 1 if len(classes) == 2 else len(classes)
    if matrix.shape[1] != expected:
        raise InvalidInputError(
            f"{len(classes)} classes need {expected} score column(s), got {matrix.shape[1]}"
        )
    if not np.all(np.isfinite(matrix)):
        raise InvalidInputError("scores must be finite numbers (drop rows with missing scores)")
    if positive_class is not None and len(classes) == 2 and positive_class not in classes:
        raise InvalidInputError(
            f"positive class {positive_class!r} is not among the classes {list(classes)}"
        )
    out: FloatArray = matrix.astype(np.float64)
    return out
