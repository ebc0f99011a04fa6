"""Classification and regression metrics in NumPy, matching scikit-learn's definitions.

Classes are strings (see `vigil.analysis.performance.columns.class_values`). A metric that is not defined
on the data (ROC AUC with one class present, R2 of one row...) is None. Precision, recall and F1
with a zero denominator are 0, as scikit-learn's `zero_division=0`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from vigil.analysis.ranks import average_ranks
from vigil.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

EPS = float(np.finfo(np.float64).eps)

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "log_loss",
)
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})


@dataclass(frozen=True)
class Minimum:
    """The fewest labelled rows a metric is judged on (docs/performance.md, "Minimums")."""

    rows: int
    per_class: int = 0
    """Labelled rows of every class (binary: the positive class and the other one)."""


MINIMUMS: Mapping[str, Minimum] = MappingProxyType(
    {
        "accuracy": Minimum(30),
        "precision": Minimum(30, per_class=5),
        "recall": Minimum(30, per_class=5),
        "f1": Minimum(30, per_class=5),
        "roc_auc": Minimum(30, per_class=10),
        "average_precision": Minimum(30, per_class=10),
        "log_loss": Minimum(30),
        "mae": Minimum(30),
        "rmse": Minimum(30),
        "mape": Minimum(30),
        "r2": Minimum(30),
    }
)
"""Per metric, the labelled rows below which its value is flagged as not to be judged: a window
below it is drawn as incomplete and raises no alert (the value is still reported)."""

MIN_LABELLED_ROWS = min(m.rows for m in MINIMUMS.values())
"""A window with fewer labelled rows is incomplete whatever its coverage."""


@dataclass(frozen=True)
class ClassMetrics:
    """One class against the rest."""

    support: int
    precision: float
    recall: float
    f1: float
    roc_auc: float | None = None
    average_precision: float | None = None


@dataclass(frozen=True)
class ClassificationMetrics:
    """Metrics of labelled classification rows.

    Binary (two classes and a positive class): precision, recall, F1, ROC AUC and PR AUC are of
    the positive class. Multiclass: their macro average over the classes (one class against the
    rest). `confusion_matrix[i][j]` counts rows of true class `classes[i]` predicted as
    `classes[j]`.
    """

    n: int
    classes: list[str]
    positive_class: str | None
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    average_precision: float | None
    log_loss: float | None
    confusion_matrix: list[list[int]]
    per_class: dict[str, ClassMetrics] = field(default_factory=dict)

    def value(self, metric: str, cls: str | None = None) -> float | None:
        """One metric by name, of the whole data or (with `cls`) of one class."""
        if cls is not None:
            if cls not in self.per_class:
                raise InvalidInputError(
                    f"class {cls!r} is not among the classes {self.classes}", cls=cls
                )
            if metric not in ("precision", "recall", "f1", "roc_auc", "average_precision"):
                raise InvalidInputError(
                    f"metric {metric!r} has no per-class value; per class: precision, recall, "
                    "f1, roc_auc, average_precision",
                    metric=metric,
                )
            value: float | None = getattr(self.per_class[cls], metric)
            return value
        if metric not in CLASSIFICATION_METRICS:
            raise InvalidInputError(
                f"unknown classification metric {metric!r}; the metrics are "
                f"{list(CLASSIFICATION_METRICS)}",
                metric=metric,
            )
        overall: float | None = getattr(self, metric)
        return overall


@dataclass(frozen=True)
class RegressionMetrics:
    n: int
    mae: float
    rmse: float
    mape: float
    r2: float | None

    def value(self, metric: str, cls: str | None = None) -> float | None:
        if cls is not None:
            raise InvalidInputError("regression metrics have no classes", cls=cls)
        if metric not in REGRESSION_METRICS:
            raise InvalidInputError(
                f"unknown regression metric {metric!r}; the metrics are {list(REGRESSION_METRICS)}",
                metric=metric,
            )
        value: float | None = getattr(self, metric)
        return value


def below_minimum(metrics: ClassificationMetrics | RegressionMetrics) -> dict[str, str]:
    """The metrics of `metrics` measured on fewer rows than their minimum (`MINIMUMS`), each with
    the reason, e.g. `{"roc_auc": "3 labelled rows of class '1', fewer than 10"}`."""
    names = REGRESSION_METRICS if isinstance(metrics, RegressionMetrics) else CLASSIFICATION_METRICS
    support = (
        {c: m.support for c, m in metrics.per_class.items()}
        if isinstance(metrics, ClassificationMetrics)
        else {}
    )
    out: dict[str, str] = {}
    for name in names:
        minimum = MINIMUMS[name]
        if metrics.n < minimum.rows:
            out[name] = f"{metrics.n} labelled rows, fewer than {minimum.rows}"
            continue
        short = [(c, n) for c, n in support.items() if n < minimum.per_class]
        if short:
            cls, n = short[0]
            out[name] = f"{n} labelled rows of class {cls!r}, fewer than {minimum.per_class}"
    return out


# --- building blocks -----------------------------------------------------------------------


def confusion(
    y_true: ObjectArray, y_pred: ObjectArray, classes: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Counts of (true class i, predicted class j)."""
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    t = np.fromiter((index[v] for v in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((index[v] for v in y_pred), dtype=np.int64, count=len(y_pred))
    counts: npt.NDArray[np.int64] = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    return counts


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def precision_recall_f1(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """Precision, recall and F1 from (possibly expected, fractional) counts; 0 when undefined."""
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def roc_auc(positive: BoolArray, score: FloatArray) -> float | None:
    """Area under the ROC curve: the probability that a positive row scores above a negative
    one, ties counting one half (the Mann-Whitney U statistic, equal to the trapezoidal area)."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = average_ranks(score)
    u = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def average_precision(positive: BoolArray, score: FloatArray) -> float | None:
    """Area under the precision-recall curve as a step sum: sum over thresholds of
    (R_k - R_{k-1}) * P_k, thresholds being the distinct scores (scikit-learn's definition)."""
    n_pos = int(positive.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-score, kind="mergesort")
    ordered = score[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered)), ordered.size - 1]
    tps = np.cumsum(positive[order])[last_of_tie].astype(np.float64)
    predicted = (last_of_tie + 1).astype(np.float64)
    precision = tps / predicted
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def log_loss(true_index: npt.NDArray[np.int64], proba: FloatArray) -> float:
    """Mean negative log-probability of the true class, probabilities clipped to
    [eps, 1 - eps] (float64 machine epsilon) as scikit-learn does."""
    clipped = np.clip(proba[np.arange(true_index.size), true_index], EPS, 1 - EPS)
    return float(-np.mean(np.log(clipped)))


# --- whole sets ----------------------------------------------------------------------------


def classification_metrics(
    y_true: ObjectArray,
    y_pred: ObjectArray,
    classes: Sequence[str],
    proba: FloatArray | None = None,
    positive_class: str | None = None,
) -> ClassificationMetrics:
    """Metrics of `y_pred` (predicted classes) against `y_true`, both arrays of class strings.

    `proba` (n x len(classes), columns in the order of `classes`) gives ROC AUC, PR AUC and log
    loss. With two classes and `positive_class`, the summary metrics are of that class;
    otherwise macro averages.
    """
    n = len(y_true)
    if n == 0:
        raise InvalidInputError("no labelled rows to compute classification metrics on")
    if len(y_pred) != n or (proba is not None and proba.shape != (n, len(classes))):
        raise InvalidInputError(
            f"{n} labels, {len(y_pred)} predictions and probabilities of shape "
            f"{None if proba is None else proba.shape} do not match ({len(classes)} classes)"
        )
    matrix = confusion(y_true, y_pred, classes)
    per_class: dict[str, ClassMetrics] = {}
    for i, cls in enumerate(classes):
        tp = float(matrix[i, i])
        precision, recall, f1 = precision_recall_f1(
            tp, float(matrix[:, i].sum()) - tp, float(matrix[i, :].sum()) - tp
        )
        auc = ap = None
        if proba is not None:
            positive = y_true == cls
            auc = roc_auc(positive, proba[:, i])
            ap = average_precision(positive, proba[:, i])
        per_class[cls] = ClassMetrics(int(matrix[i, :].sum()), precision, recall, f1, auc, ap)
    loss = None
    if proba is not None:
        index = {c: i for i, c in enumerate(classes)}
        loss = log_loss(np.fromiter((index[v] for v in y_true), np.int64, count=n), proba)
    accuracy = float(np.trace(matrix)) / n
    if positive_class is not None and len(classes) == 2:
        chosen = per_class[positive_class]
        summary = (
            chosen.precision,
            chosen.recall,
            chosen.f1,
            chosen.roc_auc,
            chosen.average_precision,
        )
    else:
        present = [per_class[c] for c in classes]
        summary = (
            _mean([c.precision for c in present]),
            _mean([c.recall for c in present]),
            _mean([c.f1 for c in present]),
            mean_defined([c.roc_auc for c in present]),
            mean_defined([c.average_precision for c in present]),
        )
    return ClassificationMetrics(
        n=n,
        classes=list(classes),
        positive_class=positive_class if len(classes) == 2 else None,
        accuracy=accuracy,
        precision=float(summary[0] or 0.0),
        recall=float(summary[1] or 0.0),
        f1=float(summary[2] or 0.0),
        roc_auc=summary[3],
        average_precision=summary[4],
        log_loss=loss,
        confusion_matrix=matrix.tolist(),
        per_class=per_class,
    )


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values))


def mean_defined(values: Sequence[float | None]) -> float | None:
    """Macro average over the classes; None if the metric is undefined for any class.

    Multiclass ROC AUC is one class against the rest, macro averaged (scikit-learn's
    `multi_class="ovr", average="macro"`)."""
    if any(v is None for v in values):
        return None
    return float(np.mean([v for v in values if v is not None]))


def regression_metrics(y_true: FloatArray, y_pred: FloatArray) -> RegressionMetrics:
    """MAE, RMSE, MAPE (|error| / max(|y|, eps), as scikit-learn) and R2 (1 - SS_res/SS_tot;
    with a constant target: 1 when the fit is perfect, else 0, as scikit-learn's
    `force_finite`; None for a single row)."""
    n = y_true.size
    if n == 0:
        raise InvalidInputError("no labelled rows to compute regression metrics on")
    if y_pred.size != n:
        raise InvalidInputError(f"{n} labels but {y_pred.size} predictions")
    error = y_true - y_pred
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    r2: float | None
    if n < 2:
        r2 = None
    elif ss_tot == 0:
        r2 = 1.0 if ss_res == 0 else 0.0
    else:
        r2 = 1.0 - ss_res / ss_tot
    return RegressionMetrics(
        n=n,
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        mape=float(np.mean(np.abs(error) / np.maximum(np.abs(y_true), EPS))),
        r2=r2,
    )
