"""Rows and models as the explainers need them: a pandas frame of the model's features in the
model's order, and the model's output function (the score that attributions add up to).

Explainers call models, and models take pandas frames or NumPy arrays, so this module is where
Vigil's inputs (pandas, polars, pyarrow, a mapping of columns, a list of row mappings, a 2-D
array) become a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

OutputSpace = Literal["raw", "log_odds", "probability"]
"""What an attribution adds up to: the model's raw prediction (regression), the log-odds margin
of a class (`decision_function` of a binary classifier), or the probability of a class."""

Array = np.ndarray[Any, np.dtype[Any]]


def require_pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with the explain extra
        raise InvalidInputError("explanations need pandas: pip install 'vigil[explain]'") from exc
    return pd


def as_frame(rows: Any, features: Sequence[str] | None = None) -> pd.DataFrame:
    """`rows` as a pandas frame (a copy only when the input is not a frame already)."""
    require_pandas()
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, pd.Series):
        return rows.to_frame().T
    module = type(rows).__module__
    if module.startswith(("polars", "pyarrow")):
        converted: pd.DataFrame = rows.to_pandas()
        return converted
    if isinstance(rows, np.ndarray):
        if rows.ndim == 1:
            rows = rows.reshape(1, -1)
        if rows.ndim != 2:
            raise InvalidInputError(
                f"rows as an array must be 2-D (rows x features), got shape {rows.shape}"
            )
        names = list(features) if features is not None else [f"x{i}" for i in range(rows.shape[1])]
        if len(names) != rows.shape[1]:
            raise InvalidInputError(
                f"the array has {rows.shape[1]} columns but {len(names)} feature names were "
                f"given ({names})"
            )
        return pd.DataFrame(rows, columns=names)
    if isinstance(rows, Mapping):
        try:
            return pd.DataFrame(
                {
                    k: (v if isinstance(v, list | tuple | np.ndarray) else [v])
                    for k, v in rows.items()
                }
            )
        except ValueError as exc:
            raise InvalidInputError(f"the columns given cannot form a table: {exc}") from None
    if isinstance(rows, list | tuple) and all(isinstance(r, Mapping) for r in rows):
        return pd.DataFrame(list(rows))
    raise InvalidInputError(
        f"rows of type {type(rows).__name__} cannot be explained; give a pandas or polars "
        "DataFrame, a pyarrow Table, a mapping of column -> values, a list of row mappings or "
        "a 2-D NumPy array"
    )


def model_features(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "feature_name_", None)  # LightGBM
    return [str(n) for n in names] if names is not None else None


def select_features(
    frame: pd.DataFrame, model: Any, features: Sequence[str] | None = None
) -> pd.DataFrame:
    """The model's feature columns of `frame`, in the model's order (extra columns dropped).

    Missing columns raise InvalidInputError naming them."""
    wanted = list(features) if features is not None else model_features(model)
    if wanted is None:
        wanted = [str(c) for c in frame.columns]
    columns = [str(c) for c in frame.columns]
    missing = [f for f in wanted if f not in columns]
    if missing:
        raise InvalidInputError(
            f"the rows lack the model's feature column(s) {missing}; they have {columns}",
            missing=missing,
        )
    if not len(frame):
        raise InvalidInputError("no rows to explain: the data is empty")
    if columns == wanted:
        return frame
    return frame.rename(columns=str)[wanted]


def model_input(model: Any, frame: pd.DataFrame) -> Any:
    """What the model is called with: the frame when it was fitted with column names (or is not
    a scikit-learn model), else the array (scikit-learn warns on names it was not fitted with)."""
    if model_features(model) is None and type(model).__module__.startswith("sklearn"):
        return frame.to_numpy()
    return frame


def is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def check_model(model: Any) -> None:
    if not (hasattr(model, "predict") or hasattr(model, "predict_proba")):
        raise InvalidInputError(
            f"a {type(model).__name__} cannot be explained: it has neither predict nor "
            "predict_proba (give a fitted model, a registry version or a models:/ URI)",
            model_type=type(model).__name__,
        )


def class_index(model: Any, target: Any = None) -> int:
    """Which class of a classifier is explained: `target` (a class label), else the positive
    class (index 1) of a binary classifier; a multi-class model needs `target`."""
    classes = list(getattr(model, "classes_", []))
    if target is not None:
        if target not in classes:
            raise InvalidInputError(
                f"target class {target!r} is not one of the model's classes {classes}",
                target=str(target),
            )
        return classes.index(target)
    if len(classes) == 2:
        return 1
    raise InvalidInputError(
        f"the model has {len(classes)} classes {classes}; say which one to explain with "
        "target=<class label>",
        classes=[str(c) for c in classes],
    )


@dataclass(frozen=True)
class ModelOutput:
    """The model's output in an output space, as a function of a feature frame."""

    space: OutputSpace
    class_index: int | None
    function: Callable[[Any], Array]

    def __call__(self, frame: pd.DataFrame) -> Array:
        return np.asarray(self.function(frame), dtype=float)


def output_function(model: Any, space: OutputSpace, index: int | None) -> ModelOutput:
    """The model's output in `space` (the class at `index` for a classifier)."""

    def call(method: str) -> Callable[[Any], Any]:
        bound = getattr(model, method)
        return lambda frame: bound(model_input(model, frame))

    if space == "raw":
        predict = call("predict")
        return ModelOutput(space, None, lambda f: np.asarray(predict(f), dtype=float))
    assert index is not None
    if space == "probability":
        proba = call("predict_proba")
        return ModelOutput(space, index, lambda f: np.asarray(proba(f))[:, index])
    if not hasattr(model, "decision_function"):
        raise InvalidInputError(
            f"a {type(model).__name__} has no decision_function, so its log-odds cannot be "
            "computed; explain its probability instead (output='probability')"
        )
    decision = call("decision_function")

    def margin(frame: Any) -> Array:
        values = np.asarray(decision(frame), dtype=float)
        if values.ndim == 1:  # binary: the margin of the positive class
            return values if index == 1 else -values
        return values[:, index]

    return ModelOutput(space, index, margin)
