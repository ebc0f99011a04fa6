"""Permutation importance: how much a metric degrades when one feature's column is shuffled.

Works for any model with `predict` (or `predict_proba` for the probability metrics). Each
feature is shuffled `n_repeats` times with permutations drawn from one seeded generator, so the
same seed gives the same numbers.

>>> imp = permutation_importance(model, X_valid, y_valid, metric="roc_auc", n_repeats=5, seed=0)
>>> imp.ranking()                                                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from vigil.analysis.explain.inputs import (
    Array,
    as_frame,
    check_model,
    is_classifier,
    model_input,
    select_features,
)
from vigil.analysis.explain.results import Importance
from vigil.errors import InvalidInputError
from vigil.progress import bar

MetricName = Literal["accuracy", "roc_auc", "log_loss", "r2", "mse", "mae"]
MetricFunction = Callable[[Array, Array], float]


@dataclass(frozen=True)
class _Metric:
    name: str
    function: MetricFunction
    greater_is_better: bool
    uses_proba: bool


def _metric(name: MetricName, model: Any) -> _Metric:
    from sklearn import metrics

    classes = list(getattr(model, "classes_", []))

    def roc_auc(y: Array, proba: Array) -> float:
        if proba.shape[1] == 2:
            return float(metrics.roc_auc_score(y, proba[:, 1]))
        return float(metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes))

    table: dict[str, _Metric] = {
        "accuracy": _Metric(
            "accuracy", lambda y, p: float(metrics.accuracy_score(y, p)), True, False
        ),
        "roc_auc": _Metric("roc_auc", roc_auc, True, True),
        "log_loss": _Metric(
            "log_loss", lambda y, p: float(metrics.log_loss(y, p, labels=classes)), False, True
        ),
        "r2": _Metric("r2", lambda y, p: float(metrics.r2_score(y, p)), True, False),
        "mse": _Metric("mse", lambda y, p: float(metrics.mean_squared_error(y, p)), False, False),
        "mae": _Metric("mae", lambda y, p: float(metrics.mean_absolute_error(y, p)), False, False),
    }
    if name not in table:
        raise InvalidInputError(
            f"metric {name!r} is not known; use one of {list(get_args(MetricName))} or a "
            "function (y_true, y_pred) -> float",
            metric=str(name),
        )
    chosen = table[name]
    if chosen.uses_proba and not hasattr(model, "predict_proba"):
        raise InvalidInputError(
            f"metric {name!r} needs predict_proba, which a {type(model).__name__} lacks; "
            "use 'accuracy', 'r2', 'mse' or 'mae'",
            metric=name,
        )
    if not chosen.uses_proba and not hasattr(model, "predict"):
        raise InvalidInputError(
            f"metric {name!r} needs predict, which a {type(model).__name__} lacks; use "
            "'roc_auc' or 'log_loss'",
            metric=name,
        )
    return chosen


def default_metric(model: Any) -> MetricName:
    """`roc_auc` for a binary classifier, `log_loss` for a multi-class one, `r2` otherwise."""
    if is_classifier(model):
        return "roc_auc" if len(model.classes_) == 2 else "log_loss"
    if hasattr(model, "predict"):
        return "r2"
    return "log_loss"


def permutation_importance(
    model: Any,
    rows: Any,
    y: Sequence[Any] | Array,
    *,
    metric: MetricName | MetricFunction | None = None,
    greater_is_better: bool = True,
    n_repeats: int = 5,
    seed: int = 0,
    features: Sequence[str] | None = None,
    max_rows: int | None = None,
    progress: bool | None = None,
) -> Importance:
    """Mean drop of `metric` per shuffled feature over `n_repeats` shuffles (std in `.std`).

    `metric` is a name (default: `default_metric(model)`) or a function `(y_true, y_pred)`
    called with `predict`'s output, whose direction `greater_is_better` gives. A positive
    importance always means the model got worse without the feature. `max_rows` evaluates on a
    seeded sample of the rows. A bar counts the shuffles scored when a person is watching
    (`vigil.progress`).
    """
    check_model(model)
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or n_repeats < 1:
        raise InvalidInputError(f"n_repeats must be a positive integer, got {n_repeats!r}")
    frame = select_features(as_frame(rows, features), model, features)
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != len(frame):
        raise InvalidInputError(
            f"y has {target.shape} values for {len(frame)} rows; give one label per row",
            n_rows=len(frame),
        )
    rng = np.random.default_rng(seed)
    if max_rows is not None and max_rows < len(frame):
        if max_rows < 2:
            raise InvalidInputError(f"max_rows must be at least 2, got {max_rows}")
        keep = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
        frame, target = frame.iloc[keep], target[keep]
    if callable(metric):
        function, name, higher, proba = (
            metric,
            getattr(metric, "__name__", "custom"),
            greater_is_better,
            False,
        )
        check = hasattr(model, "predict")
        if not check:
            raise InvalidInputError(
                f"a custom metric is called with predict's output, which a "
                f"{type(model).__name__} lacks"
            )
    else:
        chosen = _metric(metric if metric is not None else default_metric(model), model)
        function, name, higher, proba = (
            chosen.function,
            chosen.name,
            chosen.greater_is_better,
            chosen.uses_proba,
        )
    predict = model.predict_proba if proba else model.predict

    def score(data: Any) -> float:
        return function(target, np.asarray(predict(model_input(model, data))))

    try:
        baseline = score(frame)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"the {type(model).__name__} could not score these rows with {name}: {exc}",
            metric=name,
        ) from exc
    shuffled = frame.copy()
    columns = list(frame.columns)
    drops = np.empty((len(columns), n_repeats))
    with bar(
        total=len(columns) * n_repeats,
        desc="permutation importance",
        unit="shuffles",
        progress=progress,
    ) as shown:
        for j, column in enumerate(columns):
            original = frame[column].to_numpy()
            shown.describe(f"permutation importance: {column}")
            for r in range(n_repeats):
                shuffled[column] = original[rng.permutation(len(original))]
                permuted = score(shuffled)
                drops[j, r] = baseline - permuted if higher else permuted - baseline
                shown.update()
            shuffled[column] = original
    return Importance(
        "permutation",
        {str(c): float(v) for c, v in zip(columns, drops.mean(axis=1), strict=True)},
        std={str(c): float(v) for c, v in zip(columns, drops.std(axis=1), strict=True)},
        details={
            "metric": name,
            "baseline_score": baseline,
            "n_repeats": n_repeats,
            "seed": seed,
            "n_rows": len(frame),
        },
    )
