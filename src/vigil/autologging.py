"""`vigil.autolog()`: every scikit-learn fit (and XGBoost's and LightGBM's scikit-learn API, when
installed) recorded as a tracked run, without changing the training code.

A fit records:
- the estimator's parameters (`get_params(deep=True)`, nested ones as `step__param`);
- training metrics on the data it was fitted on (`training_accuracy`, `training_f1`,
  `training_roc_auc`, ... for a classifier; `training_mae`, `training_rmse`, `training_r2` for a
  regressor), and validation metrics with the same names (`validation_...`) each time the fitted
  model's `score(X, y)` is called on other data;
- the fitted model as the run's artifacts `model/model.skops` (or `model.joblib` without skops)
  and `model/vigil-model.json` (its format, class and digest): the registry's own format;
- the training data (features and target) as a dataset version with its profile, the run's input;
- the model's own feature importances (`feature_importances_`, or |`coef_`| of a linear model).

Only the outermost fit of a model (an estimator that predicts) is recorded: the steps of a
pipeline or the folds of a grid search are part of it, and a transformer fitted on its own (a
scaler, or the label binarizer a metric function fits) is not a model. Inside `with vigil.start_run(...)` the fit logs to that run; otherwise each fit gets a
run of its own in `experiment`, ended when the fit returns (failed if it raises). Recording never
breaks training: a failure to record is logged as a warning and the fit's result is returned.

Autologging patches classes process-wide, as MLflow's does: it is one switch for the process,
held in this module, and `vigil.autolog(disable=True)` restores every original method.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from vigil.errors import InvalidInputError

logger = logging.getLogger(__name__)

MAX_PARAM_CHARS = 500
"""A longer parameter value is cut (a repr of a big array, say)."""
TRAINING_PREFIX = "training_"
VALIDATION_PREFIX = "validation_"


@dataclass(frozen=True)
class AutologSettings:
    """Where and what autologging records (see `autolog`)."""

    experiment: str = "Default"
    log_models: bool = True
    log_datasets: bool = True
    log_importances: bool = True
    dataset_name: str | None = None
    store_url: str | None = None
    artifacts_url: str | None = None
    url: str | None = None
    token: str | None = None


@dataclass
class _State:
    """The process-wide switch: the settings in force, the original methods patched, and the run
    of each fitted estimator (kept here, not on the estimator, so pickling it is unchanged)."""

    settings: AutologSettings | None = None
    originals: list[tuple[type, str, Any]] = field(default_factory=list)
    local: threading.local = field(default_factory=threading.local)
    targets: weakref.WeakKeyDictionary[Any, _Target] = field(
        default_factory=weakref.WeakKeyDictionary
    )


_STATE = _State()


def autolog(
    *,
    experiment: str = "Default",
    log_models: bool = True,
    log_datasets: bool = True,
    log_importances: bool = True,
    dataset_name: str | None = None,
    store_url: str | None = None,
    artifacts_url: str | None = None,
    url: str | None = None,
    token: str | None = None,
    disable: bool = False,
) -> None:
    """Record every scikit-learn fit from now on (XGBoost and LightGBM too, when installed).

    Runs go to the embedded store (`store_url`, default VIGIL_STORE_URL) or to the server at
    `url` with a write `token`. `dataset_name` names the training data's dataset versions (by
    default `<experiment>-training`). Calling it again changes the settings; `disable=True`
    stops recording and restores scikit-learn's own methods.

    >>> vigil.autolog(experiment="churn")                     # doctest: +SKIP
    >>> model = RandomForestClassifier().fit(X_train, y_train)  # a run with params, metrics...
    >>> model.score(X_valid, y_valid)                         # ...and validation_* metrics
    """
    if disable:
        _unpatch()
        _STATE.settings = None
        return
    if not experiment or not isinstance(experiment, str):
        raise InvalidInputError(f"experiment must be a non-empty name, got {experiment!r}")
    _STATE.settings = AutologSettings(
        experiment=experiment,
        log_models=log_models,
        log_datasets=log_datasets,
        log_importances=log_importances,
        dataset_name=dataset_name,
        store_url=store_url,
        artifacts_url=artifacts_url,
        url=url,
        token=token,
    )
    if not _STATE.originals:
        _patch()


# --- patching ------------------------------------------------------------------------------


def _estimator_classes() -> list[type]:
    from sklearn.utils import all_estimators

    classes: list[type] = [cls for _, cls in all_estimators()]
    for module, names in (
        ("xgboost.sklearn", ("XGBModel",)),
        ("lightgbm.sklearn", ("LGBMModel",)),
    ):
        try:
            imported = __import__(module, fromlist=list(names))
        except ImportError:
            continue
        for name in names:
            classes.extend(_with_subclasses(getattr(imported, name)))
    return classes


def _with_subclasses(base: type) -> list[type]:
    """`base` and every class below it (XGBClassifier defines its own `fit` over XGBModel's)."""
    found, todo = [], [base]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _patch() -> None:
    from sklearn.base import ClassifierMixin, RegressorMixin

    seen: set[tuple[type, str]] = set()
    for cls in _estimator_classes():
        # Patch where `fit` is defined, so a subclass that inherits it is covered once.
        for owner in cls.__mro__:
            if "fit" in vars(owner) and (owner, "fit") not in seen:
                seen.add((owner, "fit"))
                _replace(owner, "fit", _fit_wrapper)
                break
    for owner in (ClassifierMixin, RegressorMixin):
        _replace(owner, "score", _score_wrapper)
    from sklearn.pipeline import Pipeline

    if "score" in vars(Pipeline):
        _replace(Pipeline, "score", _score_wrapper)


def _replace(owner: type, name: str, wrap: Callable[[Any], Any]) -> None:
    original = vars(owner)[name]
    _STATE.originals.append((owner, name, original))
    # A descriptor (scikit-learn's `available_if`) gives its function through the class.
    function = original if callable(original) else getattr(owner, name)
    setattr(owner, name, wrap(function))


def _unpatch() -> None:
    while _STATE.originals:
        owner, name, original = _STATE.originals.pop()
        setattr(owner, name, original)


@contextmanager
def _inside() -> Iterator[bool]:
    """True for the outermost patched call in this thread; nested ones are part of it."""
    depth = getattr(_STATE.local, "depth", 0)
    _STATE.local.depth = depth + 1
    try:
        yield depth == 0
    finally:
        _STATE.local.depth = depth


def _fit_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _inside() as outermost:
            settings = _STATE.settings
            if not outermost or settings is None or not hasattr(self, "predict"):
                # Nested fits are part of the outer one; a transformer fitted on its own (a
                # scaler, or a LabelBinarizer inside a metric) is not a model to record.
                return original(self, *args, **kwargs)
            return _recorded_fit(settings, original, self, args, kwargs)

    return fit


def _score_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _inside() as outermost:
            result = original(self, *args, **kwargs)
            target = _target_of(self)
            features = args[0] if args else kwargs.get("X")
            y = args[1] if len(args) > 1 else kwargs.get("y")
            if outermost and target is not None and features is not None and y is not None:
                _safely("validation metrics", _log_validation, target, self, features, y)
            return result

    return score


def _target_of(estimator: Any) -> _Target | None:
    try:
        return _STATE.targets.get(estimator)
    except TypeError:  # an estimator that cannot be weakly referenced or hashed
        return None


def _safely(what: str, action: Callable[..., Any], *args: Any) -> Any:
    try:
        return action(*args)
    except Exception as exc:  # recording must never break training
        logger.warning("vigil.autolog could not record the %s: %s", what, exc)
        return None


# --- recording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Where a fitted estimator's later metrics go: its run and how to reach the store."""

    run: Any
    """The `Run` it was fitted in."""
    settings: AutologSettings


def _recorded_fit(
    settings: AutologSettings,
    original: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    from vigil.client.tracking.run import active_run, start_run

    features = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    run = active_run()
    owned = None
    if run is None:
        owned = _safely(
            "run",
            lambda: start_run(
                settings.experiment,
                type(estimator).__name__,
                store_url=settings.store_url,
                artifacts_url=settings.artifacts_url,
                url=settings.url,
                token=settings.token,
                tags={"vigil.autologging": "sklearn"},
                system_metrics=False,
            ),
        )
        run = owned
    if run is None:
        return original(estimator, *args, **kwargs)
    try:
        fitted = original(estimator, *args, **kwargs)
    except BaseException:
        if owned is not None:
            owned.end("failed")
        raise
    try:
        _safely("params", _log_params, run, estimator)
        if features is not None and y is not None:
            _safely("training metrics", _log_training_metrics, run, estimator, features, y)
        if settings.log_importances:
            _safely("feature importances", _log_importances, run, estimator, features)
        if settings.log_models:
            _safely("model", _log_model, run, estimator)
        if settings.log_datasets and features is not None:
            _safely("training data", _log_dataset, run, settings, features, y)
        run.flush()
        with contextlib.suppress(TypeError):
            _STATE.targets[estimator] = _Target(run, settings)
    finally:
        if owned is not None:
            owned.end()
    return fitted


def _log_params(run: Any, estimator: Any) -> None:
    params = {}
    for key, value in estimator.get_params(deep=True).items():
        if hasattr(value, "get_params"):
            value = type(value).__name__  # its own params are listed as key__param
        text = str(value)
        params[key] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"
    params["estimator"] = f"{type(estimator).__module__}.{type(estimator).__name__}"
    run.log_params(params)


def metrics_of(estimator: Any, features: Any, y: Any) -> dict[str, float]:
    """The metrics autologging records for `estimator` on (X, y): classification (accuracy,
    precision, recall and F1 of the positive class when binary, weighted when multiclass; ROC
    AUC and log loss when it gives probabilities) or regression (MAE, RMSE, R², MAPE)."""
    import numpy as np
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    predicted = estimator.predict(features)
    truth = np.asarray(y)
    found: dict[str, float] = {}
    if is_classifier(estimator):
        classes = getattr(estimator, "classes_", np.unique(truth))
        binary = len(classes) == 2
        average = "binary" if binary else "weighted"
        extra = {"pos_label": classes[1]} if binary else {}
        found["accuracy"] = metrics.accuracy_score(truth, predicted)
        found["precision"] = metrics.precision_score(
            truth, predicted, average=average, zero_division=0, **extra
        )
        found["recall"] = metrics.recall_score(
            truth, predicted, average=average, zero_division=0, **extra
        )
        found["f1"] = metrics.f1_score(truth, predicted, average=average, zero_division=0, **extra)
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(features)
            found["log_loss"] = metrics.log_loss(truth, proba, labels=classes)
            if binary:
                found["roc_auc"] = metrics.roc_auc_score(truth == classes[1], proba[:, 1])
            elif len(np.unique(truth)) == len(classes):
                found["roc_auc"] = metrics.roc_auc_score(
                    truth, proba, multi_class="ovr", average="weighted", labels=classes
                )
    elif is_regressor(estimator):
        found["mae"] = metrics.mean_absolute_error(truth, predicted)
        found["rmse"] = math.sqrt(metrics.mean_squared_error(truth, predicted))
        found["r2"] = metrics.r2_score(truth, predicted)
        found["mape"] = metrics.mean_absolute_percentage_error(truth, predicted)
    return {k: float(v) for k, v in found.items() if math.isfinite(float(v))}


def _log_training_metrics(run: Any, estimator: Any, features: Any, y: Any) -> None:
    found = metrics_of(estimator, features, y)
    run.log_metrics({TRAINING_PREFIX + k: v for k, v in found.items()}, step=0)


def _log_validation(target: _Target, estimator: Any, features: Any, y: Any) -> None:
    from vigil.client.tracking.run import open_backend

    found = metrics_of(estimator, features, y)
    stamp = time.time_ns() // 1_000_000
    points = [(VALIDATION_PREFIX + k, v, 0, stamp) for k, v in found.items()]
    run = target.run
    if not run.ended or not run.owns_service:  # its store is still open: write through it
        run.service.log_batch(run.id, metrics=points)
        return
    settings = target.settings  # a run autolog started and ended: reach its store again
    service, owns = open_backend(
        store_url=settings.store_url,
        artifacts_url=settings.artifacts_url,
        url=settings.url,
        token=settings.token,
    )
    try:
        service.log_batch(run.id, metrics=points)
    finally:
        if owns:
            service.close()


def _final_step(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _feature_names(estimator: Any, features: Any) -> list[str] | None:
    import numpy as np

    final = _final_step(estimator)
    if final is not estimator:  # a pipeline: the names the final step sees
        try:
            names = estimator[:-1].get_feature_names_out()
            return [str(n) for n in names]
        except Exception:
            return None
    names = getattr(final, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    width = np.shape(features)[1] if features is not None and len(np.shape(features)) == 2 else None
    return [f"x{i}" for i in range(width)] if width else None


def _log_importances(run: Any, estimator: Any, features: Any) -> None:
    import numpy as np

    from vigil.explain.api import log_importance

    final = _final_step(estimator)
    if hasattr(final, "feature_importances_"):
        values, method = np.asarray(final.feature_importances_, dtype=float), "model"
    elif hasattr(final, "coef_"):
        coef = np.abs(np.asarray(final.coef_, dtype=float))
        values, method = (coef.mean(axis=0) if coef.ndim == 2 else coef), "coefficient"
    else:
        return
    names = _feature_names(estimator, features)
    if names is None or len(names) != values.size:
        names = [f"x{i}" for i in range(values.size)]
    log_importance(
        {n: float(v) for n, v in zip(names, values, strict=True)}, method=method, run=run
    )


def _log_model(run: Any, estimator: Any) -> None:
    import json

    from vigil.registry.packaging import pack

    packed = pack(estimator)
    run.log_bytes(packed.data, f"model/{packed.filename}")
    meta = {
        "format": packed.format,
        "file": packed.filename,
        "sha256": packed.sha256,
        "class": f"{type(estimator).__module__}.{type(estimator).__name__}",
    }
    run.log_text(json.dumps(meta, indent=2), "model/vigil-model.json")


def _log_dataset(run: Any, settings: AutologSettings, features: Any, y: Any) -> None:
    import numpy as np
    import pyarrow as pa

    if hasattr(features, "columns"):  # pandas or polars
        table = pa.table({str(c): np.asarray(features[c]) for c in features.columns})
    else:
        array = np.asarray(features)
        if array.ndim != 2:
            return
        table = pa.table({f"x{i}": array[:, i] for i in range(array.shape[1])})
    if y is not None:
        target = str(getattr(y, "name", None) or "target")
        values = np.asarray(y)
        if values.ndim == 1 and target not in table.column_names:
            table = table.append_column(target, pa.array(values))
    name = settings.dataset_name or f"{settings.experiment}-training"
    run.log_dataset(table, name, context="training")
