"""Which stored columns are the label, the prediction and the scores, and how classes are named.

The conventions (docs/performance.md):
- The label is `vigil_label` (from `Client.log_labels`), joined to predictions by id.
- The prediction is the model's first `predictions` column: the predicted class, or the
  predicted value for regression.
- Scores are the model's `scores` columns. Binary: one column, the probability of the positive
  class. Multiclass: one column per class, named as the class or ending in `_<class>`
  (`proba_cat`, `score_2`).
- The task is classification when the model has scores or its prediction is not a float column,
  else regression; `task=` overrides it.
- Classes are compared as strings: booleans count as 1 and 0, whole floats as integers (label
  `1.0` is class "1"). The positive class of a binary model is the greater class ("1" of 0/1),
  unless `positive_class=` names it.
- Without a prediction column, the predicted class is "score >= threshold" (binary; 0.5 by
  default) or the class with the highest score (multiclass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from vigil.analysis.performance.metrics import BoolArray, FloatArray, ObjectArray
from vigil.errors import InvalidInputError
from vigil.schema import LABEL_COLUMN

Task = Literal["classification", "regression"]


class PerformanceOptions(BaseModel):
    """How a model's stored columns are read as a classification or regression task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task | None = None
    """Default: classification when the model has scores or a non-float prediction column."""
    positive_class: str | None = Field(default=None, max_length=200)
    """The positive class of a binary model (default: the greater class, "1" of 0/1)."""
    threshold: float = Field(default=0.5, gt=0, lt=1)
    """Binary models without a prediction column predict the positive class at score >= this."""


def class_values(column: pa.Array | pa.ChunkedArray) -> ObjectArray:
    """Values as class strings (None for nulls): booleans as "1"/"0", whole floats as integers."""
    kind = column.type
    values = column.to_pylist()
    if pa.types.is_boolean(kind):
        return np.array([None if v is None else ("1" if v else "0") for v in values], object)
    if pa.types.is_floating(kind):
        return np.array([_float_class(v) for v in values], object)
    if pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.array([None if v is None else str(v) for v in values], object)
    return np.array([None if v is None else str(v) for v in pc.cast(column, pa.string())], object)


def _float_class(value: float | None) -> str | None:
    if value is None or math.isnan(value):
        return None
    return str(int(value)) if value.is_integer() else repr(value)


def sort_classes(classes: set[str]) -> list[str]:
    """Numerically when every class is a number, else alphabetically."""
    try:
        return sorted(classes, key=float)
    except ValueError:
        return sorted(classes)


@dataclass(frozen=True)
class Layout:
    """How one model's rows are read: the task, columns and classes."""

    task: Task
    prediction: str | None
    scores: tuple[str, ...]
    classes: tuple[str, ...] = ()
    positive_class: str | None = None
    threshold: float = 0.5

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2


@dataclass(frozen=True)
class Rows:
    """Rows ready for the metrics: classes as strings, probabilities per class."""

    y_true: ObjectArray
    y_pred: ObjectArray
    proba: FloatArray | None
    """n x len(classes), columns in the order of the layout's classes (classification)."""
    scores: FloatArray | None
    """The raw score columns (binary: n; multiclass: n x len(classes))."""
    values_true: FloatArray | None = None
    values_pred: FloatArray | None = None
    keep: BoolArray | None = None
    """Which rows of the table passed to `rows()` (after the labelled-row filter) were kept."""

    def __len__(self) -> int:
        if self.values_true is not None:
            return int(self.values_true.size)
        return int(self.y_pred.size)


class ModelColumns(Protocol):
    """What a layout needs of a model's definition (`vigil.api.specs.ModelSpec` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def predictions(self) -> Sequence[str]: ...
    @property
    def scores(self) -> Sequence[str]: ...


def resolve(spec: ModelColumns, table: pa.Table, options: PerformanceOptions) -> Layout:
    """The layout of `spec`'s rows in `table` (predictions with their joined labels)."""
    prediction = spec.predictions[0] if spec.predictions else None
    if prediction is not None and prediction not in table.column_names:
        prediction = None
    scores = tuple(c for c in spec.scores if c in table.column_names)
    if prediction is None and not scores:
        raise InvalidInputError(
            f"model {spec.name!r} has no stored prediction or score column to measure "
            f"(predictions={spec.predictions}, scores={spec.scores})"
        )
    task = options.task
    if task is None:
        floating = prediction is not None and pa.types.is_floating(table[prediction].type)
        task = "regression" if floating and not scores else "classification"
    if task == "regression":
        if prediction is None:
            raise InvalidInputError(
                f"regression metrics need a prediction column; model {spec.name!r} has none"
            )
        return Layout("regression", prediction, ())
    seen: set[str] = set()
    for column in (LABEL_COLUMN, prediction):
        if column is not None and column in table.column_names:
            seen.update(v for v in class_values(table[column]) if v is not None)
    if len(scores) > 1:
        owners = {column: _class_of(column, seen) for column in scores}
        seen.update(owners.values())
        classes = sort_classes(seen)
        by_class = {cls: column for column, cls in owners.items()}
        missing = [c for c in classes if c not in by_class]
        if missing:
            raise InvalidInputError(
                f"class(es) {missing} have no score column; multiclass score columns are named "
                f"as their class or end in '_<class>' (scores: {list(scores)})",
                classes=missing,
            )
        scores = tuple(by_class[c] for c in classes)
        return Layout("classification", prediction, scores, tuple(classes))
    if seen <= {"0", "1"} and options.positive_class in (None, "0", "1"):
        seen = {"0", "1"}
    if options.positive_class is not None:
        seen.add(options.positive_class)
    classes = sort_classes(seen)
    if scores and len(classes) > 2:
        raise InvalidInputError(
            f"model {spec.name!r} has one score column but {len(classes)} classes "
            f"({classes[:10]}); multiclass models need one score column per class"
        )
    if len(classes) == 2:
        positive = options.positive_class or classes[-1]
        return Layout(
            "classification", prediction, scores, tuple(classes), positive, options.threshold
        )
    return Layout("classification", prediction, scores, tuple(classes))


def _class_of(column: str, seen: set[str]) -> str:
    """The class a multiclass score column belongs to: its name, or what follows its last '_'
    (a seen class name that ends the column name after '_' wins over that)."""
    if column in seen:
        return column
    for cls in sorted(seen, key=len, reverse=True):
        if column.endswith(f"_{cls}"):
            return cls
    return column.rsplit("_", 1)[-1]


def _floats(column: pa.ChunkedArray | pa.Array) -> FloatArray:
    out: FloatArray = np.asarray(
        pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    return out


def labelled_mask(table: pa.Table) -> BoolArray:
    if LABEL_COLUMN not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    mask: BoolArray = np.asarray(
        pc.is_valid(table[LABEL_COLUMN]).to_numpy(zero_copy_only=False), dtype=bool
    )
    return mask


def rows(layout: Layout, table: pa.Table, *, labels: bool = True) -> Rows:
    """The usable rows of `table`: with `labels`, labelled rows only; rows whose prediction or
    scores are missing are left out."""
    if labels:
        table = table.filter(pa.array(labelled_mask(table)))
    n = table.num_rows
    if layout.task == "regression":
        assert layout.prediction is not None
        pred = _floats(table[layout.prediction])
        target = _floats(table[LABEL_COLUMN]) if labels else np.full(n, np.nan)
        keep = np.isfinite(pred) & (np.isfinite(target) if labels else True)
        empty: ObjectArray = np.empty(0, dtype=object)
        return Rows(empty, empty, None, None, target[keep], pred[keep], keep)
    keep = np.ones(n, dtype=bool)
    score_matrix = None
    if layout.scores:
        score_matrix = np.column_stack([_floats(table[c]) for c in layout.scores])
        keep &= np.all(np.isfinite(score_matrix), axis=1)
    if layout.prediction is not None:
        predicted = class_values(table[layout.prediction])
        keep &= np.array([v is not None for v in predicted], dtype=bool)
    else:
        assert score_matrix is not None
        predicted = _predict(layout, score_matrix)
    truth: ObjectArray = (
        class_values(table[LABEL_COLUMN]) if labels else np.full(n, None, dtype=object)
    )
    if labels:
        keep &= np.array([v is not None for v in truth], dtype=bool)
        unknown = sorted({v for v in truth[keep].tolist() if v not in layout.classes})
        if unknown:
            raise InvalidInputError(
                f"label class(es) {unknown[:5]} are not among the model's classes "
                f"{list(layout.classes)}"
            )
    proba = None
    scores = None
    if score_matrix is not None:
        scores = score_matrix[keep]
        proba = _proba(layout, scores)
        if scores.shape[1] == 1:
            scores = scores[:, 0]
    return Rows(truth[keep], predicted[keep], proba, scores, keep=keep)


def _predict(layout: Layout, scores: FloatArray) -> ObjectArray:
    classes = np.array(layout.classes, object)
    if len(layout.classes) == 2 and scores.shape[1] == 1:
        positive = layout.positive_class or layout.classes[1]
        negative = next(c for c in layout.classes if c != positive)
        with np.errstate(invalid="ignore"):
            hit = scores[:, 0] >= layout.threshold
        return np.where(hit, positive, negative).astype(object)
    filled = np.where(np.isfinite(scores), scores, -np.inf)
    out: ObjectArray = classes[filled.argmax(axis=1)]
    return out


def _proba(layout: Layout, scores: FloatArray) -> FloatArray:
    if scores.shape[1] > 1:
        return scores
    positive = layout.positive_class or layout.classes[-1]
    out = np.empty((scores.shape[0], 2))
    index = layout.classes.index(positive)
    out[:, index] = scores[:, 0]
    out[:, 1 - index] = 1 - scores[:, 0]
    return out


def segment_values(table: pa.Table, column: str) -> ObjectArray:
    """A segment column's values as the store keys them (pyarrow's string cast: booleans
    `true`/`false`), None for nulls."""
    if column not in table.column_names:
        raise InvalidInputError(
            f"column {column!r} is not in the stored prediction rows; segment columns are stored "
            f"from the model's `segments` (rows logged before it was declared lack it)",
            column=column,
        )
    return np.array(pc.cast(table[column], pa.string()).to_pylist(), object)
