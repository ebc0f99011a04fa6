"""What the SHAP explainers share: the job they are given, the background sample, reading shap's
arrays, and the `Explainer` entry each of them registers (see `explainers.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vigil.analysis.explain.inputs import Array, OutputSpace, as_frame
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.values import ShapAlgorithm
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_BACKGROUND_SIZE = 100
"""Rows of background data for the kernel and linear explainers (and interventional trees)."""


@dataclass(frozen=True)
class ShapJob:
    """One explanation to compute: the model, its rows (as given and as a float matrix), the
    output space asked for (None: the explainer's own), the class index (classifiers) and the
    background settings."""

    shap: Any
    model: Any
    frame: pd.DataFrame
    matrix: Array
    output: OutputSpace | None
    index: int | None
    background: Any
    background_size: int
    kernel_samples: int | None
    seed: int
    tree_explainer: Any = None
    """shap's TreeExplainer when `algorithm="auto"` already built one to try the model."""
    progress: bool | None = None
    """Whether the slow (kernel) explainer shows shap's own bar (`vigil.progress` decides)."""


@dataclass(frozen=True)
class Explainer:
    """A SHAP algorithm: its name (`algorithm=`), what it does, and the function computing it."""

    name: ShapAlgorithm
    description: str
    explain: Callable[[ShapJob], Explanation]


def require_shap() -> Any:
    try:
        import shap
    except ImportError as exc:
        raise InvalidInputError(
            "SHAP explanations need the shap package: pip install 'vigil[explain]' "
            "(or use permutation importance)"
        ) from exc
    return shap


def numeric_matrix(frame: pd.DataFrame) -> Array:
    """The features as a float matrix; SHAP explains numeric features only."""
    kinds = {str(c): frame[c].dtype.kind for c in frame.columns}
    bad = [c for c, kind in kinds.items() if kind not in "biuf"]
    if bad:
        raise InvalidInputError(
            f"SHAP explains numeric features; column(s) {bad} are not numeric (encode them, or "
            "use permutation importance, which works with any column)",
            columns=bad,
        )
    return frame.to_numpy(dtype=float)


def is_linear(model: Any) -> bool:
    return type(model).__module__.startswith("sklearn.linear_model") and hasattr(model, "coef_")


def single_output(model: Any) -> bool:
    coef = np.asarray(model.coef_)
    return coef.ndim == 1 or coef.shape[0] == 1


def background_sample(frame: pd.DataFrame, background: Any, size: int, seed: int) -> Array:
    source = frame if background is None else as_frame(background)[list(frame.columns)]
    data = numeric_matrix(source)
    if len(data) > size:
        rng = np.random.default_rng(seed)
        data = data[np.sort(rng.choice(len(data), size=size, replace=False))]
    return data


def pick(values: Any, base: Any, index: int | None, n_features: int) -> tuple[Array, float]:
    """One output's contributions (rows x features) and base value from shap's arrays."""
    array = np.asarray(values, dtype=float)
    base_array = np.asarray(base, dtype=float).reshape(-1)
    if array.ndim == 3:  # rows x features x outputs
        k = 0 if index is None else index
        return array[:, :, k], float(base_array[k if base_array.size > 1 else 0])
    if array.ndim == 2 and array.shape[1] == n_features:
        return array, float(base_array[0])
    raise InvalidInputError(f"unexpected SHAP value shape {array.shape}")  # pragma: no cover


def result(
    frame: pd.DataFrame,
    values: Array,
    base: float,
    output: Array,
    space: OutputSpace,
    algorithm: ShapAlgorithm,
    details: dict[str, Any],
) -> Explanation:
    return Explanation(
        features=tuple(str(c) for c in frame.columns),
        contributions=values,
        base_value=base,
        output=output,
        output_space=space,
        algorithm=algorithm,
        data=frame.to_numpy(),
        details=details,
    )
