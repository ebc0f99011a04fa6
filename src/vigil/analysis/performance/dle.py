"""Regression performance estimated without labels: direct loss estimation (DLE).

On a labelled reference period, two gradient-boosted tree models learn each row's loss from the
model's features and its prediction: one the absolute error |y - prediction|, one the squared
error. On a window without labels, the estimated MAE is the mean predicted absolute error of its
rows, the estimated RMSE the square root of the mean predicted squared error (predicted losses
below 0 count as 0). This is NannyML's DLE; the learner is scikit-learn's
HistGradientBoostingRegressor (LightGBM's algorithm: binned features, leaf-wise trees, native
categories and missing values).

It holds while (1) the concept does not drift: the distribution of the error given the features
and the prediction is the same as on the reference (covariate shift is what the method handles);
(2) the windows' inputs lie where the reference has rows: trees extrapolate flat, so an input
beyond the reference's range gets the loss of its edge; (3) the stored features carry what the
error depends on: a loss driven by a column that is not stored is estimated at its reference
average. Under concept drift the estimate is wrong without warning: compare it with realized
performance whenever labels arrive.

The work is bounded: at most `MAX_FIT_ROWS` labelled reference rows (a uniform sample with a
fixed seed, so a fit is repeatable) and `ITERATIONS` boosting rounds at `LEARNING_RATE`. These
came as close to the known losses of tests/analysis/performance/test_dle.py as 100 rounds at 0.1
(LightGBM's and scikit-learn's default) with half the trees to read per row. Early stopping is
not used: on a loss as noisy as a squared error it stopped after 20 to 40 rounds, which pulled
the estimates towards the reference's mean. A string feature keeps its `MAX_CATEGORIES` most
frequent reference values; its other values, those first seen after the reference and nulls are
missing values, which the trees route as such. Booleans and timestamps are numbers; columns of
nested types (lists, structs) are not used.

The trees are grown and read on one thread: the server runs requests and monitors side by side,
and OpenMP threads that wait for a busy CPU by spinning made a fit 10 to 40 times slower on a
loaded machine (measured, 2 CPUs). The limit is process-wide, so concurrent estimates in one
process take turns (each is single-threaded anyway). scikit-learn is imported when an estimator is fitted:
importing it imports `scipy.stats`, which a classification estimate (CBPE) never needs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.analysis.performance.columns import Layout, labelled_mask, rows
from vigil.analysis.performance.metrics import FloatArray
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingRegressor

DLE_METRICS = ("mae", "rmse")
"""The regression metrics estimated without labels."""
MAX_FIT_ROWS = 20_000
"""Labelled reference rows a loss model learns from, at most (a uniform sample beyond it)."""
MIN_FIT_ROWS = 50
"""Fewer labelled reference rows than this cannot teach a loss model anything."""
ITERATIONS = 50
"""Boosting rounds of each loss model."""
LEARNING_RATE = 0.2
MAX_CATEGORIES = 250
"""Distinct values kept per string feature (the trees' categorical limit is 255 bins)."""
SEED = 0


@dataclass(frozen=True)
class EstimatedLoss:
    """Expected regression metrics of one window's rows."""

    n: int
    mae: float
    rmse: float

    def value(self, metric: str, cls: str | None = None) -> float:
        if metric not in DLE_METRICS:
            raise InvalidInputError(
                f"metric {metric!r} cannot be estimated for a regression model; the estimated "
                f"regression metrics are {list(DLE_METRICS)}",
                metric=metric,
            )
        if cls is not None:
            raise InvalidInputError(
                f"class {cls!r} given, but a regression model's metrics have no classes"
            )
        return float(getattr(self, metric))


@dataclass(frozen=True)
class FeatureEncoder:
    """How stored feature columns become the loss models' numeric inputs: numbers as floats,
    string columns as category codes (`categories[i]` the kept values of column i; None for a
    numeric column). Nulls, dropped and unseen categories are NaN (missing)."""

    columns: tuple[str, ...]
    categories: tuple[tuple[str, ...] | None, ...]

    @classmethod
    def fit(cls, table: pa.Table, columns: Sequence[str]) -> FeatureEncoder:
        used: list[str] = []
        categories: list[tuple[str, ...] | None] = []
        for name in columns:
            kind = table[name].type
            if pa.types.is_nested(kind):
                continue
            used.append(name)
            if _numeric(kind):
                categories.append(None)
                continue
            counts = pc.value_counts(pc.drop_null(_strings(table[name])))
            values = np.asarray(counts.field("values").to_pylist(), dtype=object)
            frequency = np.asarray(counts.field("counts"), dtype=np.int64)
            # Most frequent first, ties by value, so the kept set does not depend on row order.
            order = np.lexsort((values.astype(str), -frequency))[:MAX_CATEGORIES]
            categories.append(tuple(sorted(str(v) for v in values[order])))
        if not used:
            raise InvalidInputError(
                f"none of the feature columns {list(columns)} holds numbers, booleans, "
                "timestamps or strings that a loss model can learn from"
            )
        return cls(tuple(used), tuple(categories))

    @property
    def categorical(self) -> list[bool]:
        return [c is not None for c in self.categories]

    def transform(self, table: pa.Table) -> FloatArray:
        """One float column per used feature; a column the table lacks is all missing."""
        out = np.full((table.num_rows, len(self.columns)), np.nan)
        for i, (name, kept) in enumerate(zip(self.columns, self.categories, strict=True)):
            if name not in table.column_names:
                continue
            column = table[name]
            if kept is None:
                if not _numeric(column.type):
                    continue  # stored as strings in this window: unusable as a number
                out[:, i] = _floats(column)
            else:
                codes = pc.index_in(_strings(column), value_set=pa.array(kept, pa.string()))
                out[:, i] = _floats(codes)
        return out


def _numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_temporal(kind)
    )


def _strings(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _floats(column: pa.ChunkedArray | pa.Array) -> FloatArray:
    kind = column.type
    if pa.types.is_temporal(kind):
        column = pc.cast(column, pa.int64())
    elif pa.types.is_boolean(kind):
        column = pc.cast(column, pa.int8())
    out: FloatArray = np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    return out


_THREAD_LIMIT = threading.Lock()
"""threadpoolctl's limit is process-wide: one limited section at a time, so that each restores
the setting it found (two interleaved ones could leave OpenMP on one thread for the process)."""


@contextmanager
def _one_thread() -> Iterator[None]:
    # threadpoolctl limits the OpenMP runtimes already loaded: load scikit-learn's first, or the
    # first fit of a process would run on every CPU (and differ in its last digits).
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    with _THREAD_LIMIT, threadpool_limits(limits=1, user_api="openmp"):
        yield


def _loss_model(categorical: list[bool]) -> HistGradientBoostingRegressor:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=ITERATIONS,
        learning_rate=LEARNING_RATE,
        categorical_features=categorical if any(categorical) else None,
        early_stopping=False,
        random_state=SEED,
    )


@dataclass(frozen=True)
class DLE:
    """A fitted estimator: the feature encoding and the two loss models."""

    encoder: FeatureEncoder
    absolute: HistGradientBoostingRegressor
    squared: HistGradientBoostingRegressor
    n_fitted: int
    """Reference rows the loss models learned from (at most `MAX_FIT_ROWS`)."""

    @classmethod
    def fit(
        cls,
        features: pa.Table,
        y_true: FloatArray,
        y_pred: FloatArray,
        *,
        max_rows: int = MAX_FIT_ROWS,
    ) -> DLE:
        """Learn the losses of labelled reference rows: `features` holds their feature columns,
        row for row with the labels `y_true` and the model's predictions `y_pred`."""
        n = int(y_true.size)
        if features.num_columns == 0:
            raise InvalidInputError(
                "direct loss estimation needs feature columns stored with the predictions "
                "(the model's row_features); there are none"
            )
        if y_pred.size != n or features.num_rows != n:
            raise InvalidInputError(
                f"{n} labels, {y_pred.size} predictions and {features.num_rows} feature rows: "
                "they must be row for row"
            )
        if n < MIN_FIT_ROWS:
            raise InvalidInputError(
                f"the reference has {n} labelled rows with a prediction; estimating a "
                f"regression model's loss needs at least {MIN_FIT_ROWS}"
            )
        if max_rows < MIN_FIT_ROWS:
            raise InvalidInputError(f"max_rows must be at least {MIN_FIT_ROWS}, got {max_rows}")
        if n > max_rows:
            chosen = np.sort(np.random.default_rng(SEED).choice(n, max_rows, replace=False))
            features = features.take(pa.array(chosen))
            y_true, y_pred = y_true[chosen], y_pred[chosen]
            n = max_rows
        encoder = FeatureEncoder.fit(features, features.column_names)
        inputs = _inputs(encoder, features, y_pred)
        error = y_true - y_pred
        categorical = [*encoder.categorical, False]
        with _one_thread():
            absolute = _loss_model(categorical).fit(inputs, np.abs(error))
            squared = _loss_model(categorical).fit(inputs, error * error)
        return cls(encoder, absolute, squared, n)

    def losses(self, features: pa.Table, y_pred: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each row's expected absolute and squared error (at least 0)."""
        inputs = _inputs(self.encoder, features, y_pred)
        with _one_thread():
            absolute = np.maximum(self.absolute.predict(inputs), 0.0)
            squared = np.maximum(self.squared.predict(inputs), 0.0)
        return absolute, squared

    def estimate(self, features: pa.Table, y_pred: FloatArray) -> EstimatedLoss:
        """Expected MAE and RMSE of rows with these features and predictions."""
        if y_pred.size == 0:
            raise InvalidInputError("no rows to estimate the loss of")
        absolute, squared = self.losses(features, y_pred)
        return EstimatedLoss(
            int(y_pred.size), float(absolute.mean()), float(np.sqrt(squared.mean()))
        )


def _inputs(encoder: FeatureEncoder, features: pa.Table, y_pred: FloatArray) -> FloatArray:
    if not np.all(np.isfinite(y_pred)):
        raise InvalidInputError("predictions must be finite numbers (drop rows without one)")
    out: FloatArray = np.column_stack([encoder.transform(features), y_pred])
    return out


def stored_features(columns: Sequence[str], table: pa.Table, model: str) -> list[str]:
    """The model's feature columns that `table` holds; none is an error naming the fix."""
    present = [c for c in columns if c in table.column_names]
    if not present:
        raise InvalidInputError(
            f"estimating the loss of regression model {model!r} needs feature values stored "
            f"with its predictions: declare them as row_features (its row_features are "
            f"{list(columns)}; rows logged before they were declared lack them)",
            model=model,
        )
    return present


def fit_table(layout: Layout, reference: pa.Table, features: Sequence[str]) -> DLE:
    """DLE fitted on the labelled rows of `reference` that have a prediction."""
    if layout.task != "regression":
        raise InvalidInputError(
            f"direct loss estimation is for regression models, this one is {layout.task}"
        )
    labelled = reference.filter(pa.array(labelled_mask(reference)))
    data = rows(layout, labelled)
    assert data.values_true is not None
    assert data.values_pred is not None
    assert data.keep is not None
    table = labelled.select(list(features)).filter(pa.array(data.keep))
    return DLE.fit(table, data.values_true, data.values_pred)


def estimate_table(layout: Layout, estimator: DLE, table: pa.Table) -> EstimatedLoss | None:
    """The expected loss of `table`'s rows that have a prediction (None without any)."""
    data = rows(layout, table, labels=False)
    if len(data) == 0:
        return None
    assert data.values_pred is not None
    assert data.keep is not None
    present = [c for c in estimator.encoder.columns if c in table.column_names]
    features = table.select(present).filter(pa.array(data.keep))
    return estimator.estimate(features, data.values_pred)
