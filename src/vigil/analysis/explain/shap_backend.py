"""SHAP values through the `shap` package (the `explain` extra).

The algorithm follows the model (`algorithm="auto"`):

- `tree`: shap's TreeExplainer (scikit-learn tree ensembles, including GradientBoosting and
  HistGradientBoosting, XGBoost, LightGBM, CatBoost), exact, path-dependent (no background).
  It explains what the trees add up: the log-odds margin of a boosted classifier
  (`decision_function`), the probability of a forest classifier, the prediction of a regressor.
  `output="probability"` on a boosted classifier switches to the interventional algorithm with
  a background sample.
- `linear`: shap's LinearExplainer for scikit-learn linear models (binary classifiers and
  regressors): exact, relative to the mean of the background; a classifier's log-odds.
- `kernel`: shap's KernelExplainer for any other model: sampled, against a background of at most
  `background_size` rows (100 by default, drawn with the seed), explaining the probability of
  the class for a classifier and the prediction otherwise.

In every case `base_value + sum(contributions)` equals the model's output in the reported output
space (checked to within 1e-6 by the tests).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vigil.analysis.explain.inputs import (
    Array,
    OutputSpace,
    class_index,
    is_classifier,
    output_function,
)
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.values import ShapAlgorithm
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

AlgorithmChoice = Literal["auto", "tree", "linear", "kernel"]
DEFAULT_BACKGROUND_SIZE = 100
"""Rows of background data for the kernel and linear explainers (and interventional trees)."""


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


def _is_linear(model: Any) -> bool:
    return type(model).__module__.startswith("sklearn.linear_model") and hasattr(model, "coef_")


def _single_output(model: Any) -> bool:
    coef = np.asarray(model.coef_)
    return coef.ndim == 1 or coef.shape[0] == 1


def _background(frame: pd.DataFrame, background: Any, size: int, seed: int) -> Array:
    from vigil.analysis.explain.inputs import as_frame

    source = frame if background is None else as_frame(background)[list(frame.columns)]
    data = numeric_matrix(source)
    if len(data) > size:
        rng = np.random.default_rng(seed)
        data = data[np.sort(rng.choice(len(data), size=size, replace=False))]
    return data


def _pick(values: Any, base: Any, index: int | None, n_features: int) -> tuple[Array, float]:
    """One output's contributions (rows x features) and base value from shap's arrays."""
    array = np.asarray(values, dtype=float)
    base_array = np.asarray(base, dtype=float).reshape(-1)
    if array.ndim == 3:  # rows x features x outputs
        k = 0 if index is None else index
        return array[:, :, k], float(base_array[k if base_array.size > 1 else 0])
    if array.ndim == 2 and array.shape[1] == n_features:
        return array, float(base_array[0])
    raise InvalidInputError(f"unexpected SHAP value shape {array.shape}")  # pragma: no cover


def shap_explain(
    model: Any,
    frame: pd.DataFrame,
    *,
    algorithm: AlgorithmChoice = "auto",
    output: OutputSpace | None = None,
    target: Any = None,
    background: Any = None,
    background_size: int = DEFAULT_BACKGROUND_SIZE,
    kernel_samples: int | None = None,
    seed: int = 0,
) -> Explanation:
    """SHAP values of `frame`'s rows (the model's features, in its order)."""
    if algorithm not in ("auto", "tree", "linear", "kernel"):
        raise InvalidInputError(
            f"algorithm {algorithm!r} is not known; use 'auto', 'tree', 'linear' or 'kernel'",
            algorithm=str(algorithm),
        )
    if output not in (None, "raw", "log_odds", "probability"):
        raise InvalidInputError(
            f"output {output!r} is not known; use 'raw', 'log_odds' or 'probability'",
            output=str(output),
        )
    if isinstance(background_size, bool) or background_size < 1:
        raise InvalidInputError(f"background_size must be positive, got {background_size!r}")
    shap = require_shap()
    classifier = is_classifier(model)
    index = class_index(model, target) if classifier else None
    if not classifier and output not in (None, "raw"):
        raise InvalidInputError(
            f"output {output!r} is for classifiers; a {type(model).__name__} is explained in "
            "its raw prediction (output='raw')"
        )
    matrix = numeric_matrix(frame)
    chosen = algorithm
    tree_explainer = None
    if chosen == "auto":
        if _is_linear(model) and _single_output(model) and output != "probability":
            chosen = "linear"
        else:
            try:
                tree_explainer = shap.TreeExplainer(model)
                chosen = "tree"
            except Exception:  # shap raises several types for a model it cannot read as trees
                chosen = "kernel"
    try:
        if chosen == "tree":
            explanation = _tree(
                shap,
                model,
                frame,
                matrix,
                tree_explainer,
                output,
                index,
                background,
                background_size,
                seed,
            )
        elif chosen == "linear":
            explanation = _linear(
                shap, model, frame, matrix, output, index, background, background_size, seed
            )
        else:
            explanation = _kernel(
                shap,
                model,
                frame,
                matrix,
                output,
                index,
                background,
                background_size,
                kernel_samples,
                seed,
            )
    except (ValueError, TypeError) as exc:
        # The model or shap refusing the rows (NaN a model cannot take, a shape it was not
        # fitted on): bad input, said in a sentence rather than a stack trace.
        raise InvalidInputError(
            f"the {type(model).__name__} could not be explained on these rows: {exc}",
            algorithm=chosen,
        ) from exc
    if classifier:
        return dataclasses.replace(explanation, target=model.classes_[index])
    return explanation


def _result(
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


def _tree(
    shap: Any,
    model: Any,
    frame: pd.DataFrame,
    matrix: Array,
    explainer: Any,
    output: OutputSpace | None,
    index: int | None,
    background: Any,
    background_size: int,
    seed: int,
) -> Explanation:
    if explainer is None:
        try:
            explainer = shap.TreeExplainer(model)
        except Exception as exc:
            raise InvalidInputError(
                f"shap's tree explainer cannot read a {type(model).__name__}: {exc}; use "
                "algorithm='kernel' (or 'auto')",
                model_type=type(model).__name__,
            ) from None
    tree_output = explainer.model.tree_output
    native: OutputSpace = {"log_odds": "log_odds", "probability": "probability"}.get(
        tree_output, "raw"
    )  # type: ignore[assignment]
    if index is None:
        native = "raw"
    details: dict[str, Any] = {"feature_perturbation": "tree_path_dependent"}
    if output is not None and output != native:
        if output != "probability" or native != "log_odds":
            raise InvalidInputError(
                f"the tree explainer gives a {type(model).__name__}'s {native} output, not "
                f"{output!r}; use output={native!r} or algorithm='kernel'"
            )
        data = _background(frame, background, background_size, seed)
        explainer = shap.TreeExplainer(
            model, data, feature_perturbation="interventional", model_output="probability"
        )
        native = "probability"
        details = {"feature_perturbation": "interventional", "background_rows": len(data)}
    raw = explainer.shap_values(matrix)
    single = np.asarray(raw).ndim == 2 and index is not None
    values, base = _pick(raw, explainer.expected_value, index, matrix.shape[1])
    if single and index == 0:  # one margin for a binary model: class 0 is its negation
        values, base = -values, -base
    model_output = output_function(model, native, index)(frame)
    return _result(frame, values, base, model_output, native, "tree", details)


def _linear(
    shap: Any,
    model: Any,
    frame: pd.DataFrame,
    matrix: Array,
    output: OutputSpace | None,
    index: int | None,
    background: Any,
    background_size: int,
    seed: int,
) -> Explanation:
    if not _is_linear(model):
        raise InvalidInputError(
            f"the linear explainer reads scikit-learn linear models, not a "
            f"{type(model).__name__}; use algorithm='auto'"
        )
    if not _single_output(model):
        raise InvalidInputError(
            "the linear explainer explains regressors and binary classifiers; use "
            "algorithm='kernel' for a multi-class linear model"
        )
    space: OutputSpace = "log_odds" if index is not None else "raw"
    if output is not None and output != space:
        raise InvalidInputError(
            f"the linear explainer gives the {space} output; use algorithm='kernel' for {output!r}"
        )
    data = _background(frame, background, background_size, seed)
    # The masker keeps every background row (shap's default would subsample to 100).
    explainer = shap.LinearExplainer(model, shap.maskers.Independent(data, max_samples=len(data)))
    values, base = _pick(
        explainer.shap_values(matrix), explainer.expected_value, None, matrix.shape[1]
    )
    if index == 0:
        values, base = -values, -base
    model_output = output_function(model, space, index)(frame)
    return _result(
        frame, values, base, model_output, space, "linear", {"background_rows": len(data)}
    )


def _kernel(
    shap: Any,
    model: Any,
    frame: pd.DataFrame,
    matrix: Array,
    output: OutputSpace | None,
    index: int | None,
    background: Any,
    background_size: int,
    kernel_samples: int | None,
    seed: int,
) -> Explanation:
    from vigil.analysis.explain.inputs import require_pandas

    pd = require_pandas()
    space: OutputSpace = output or ("probability" if index is not None else "raw")
    function = output_function(model, space, index)
    columns = list(frame.columns)
    dtypes = frame.dtypes.to_dict()

    def f(x: Array) -> Array:
        return function(pd.DataFrame(x, columns=columns).astype(dtypes))

    data = _background(frame, background, background_size, seed)
    explainer = shap.KernelExplainer(f, data)
    np_state = np.random.get_state()
    np.random.seed(seed)  # the kernel explainer samples coalitions with NumPy's global generator
    try:
        raw = explainer.shap_values(
            matrix, nsamples=kernel_samples if kernel_samples is not None else "auto", silent=True
        )
    finally:
        np.random.set_state(np_state)
    values, base = _pick(raw, explainer.expected_value, None, matrix.shape[1])
    return _result(
        frame,
        values,
        base,
        function(frame),
        space,
        "kernel",
        {"background_rows": len(data), "nsamples": kernel_samples or "auto"},
    )
