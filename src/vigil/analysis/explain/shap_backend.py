"""SHAP values through the `shap` package (the `explain` extra).

`shap_explain` picks an explainer from `explainers.EXPLAINERS` (one module each: `shap_tree`,
`shap_linear`, `shap_kernel`) and runs it. With `algorithm="auto"` the algorithm follows the
model: `linear` for a single-output scikit-learn linear model (unless the probability is asked
for), else `tree` when shap's TreeExplainer reads the model, else `kernel`.

In every case `base_value + sum(contributions)` equals the model's output in the reported output
space (checked to within 1e-6 by the tests).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from vigil.analysis.explain.explainers import EXPLAINERS, known_names
from vigil.analysis.explain.inputs import OutputSpace, class_index, is_classifier
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.shap_common import (
    DEFAULT_BACKGROUND_SIZE,
    ShapJob,
    is_linear,
    numeric_matrix,
    require_shap,
    single_output,
)
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_BACKGROUND_SIZE", "AlgorithmChoice", "shap_explain"]

AlgorithmChoice = Literal["auto", "tree", "linear", "kernel"]


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
    progress: bool | None = None,
) -> Explanation:
    """SHAP values of `frame`'s rows (the model's features, in its order); the kernel explainer,
    the slow one, shows a bar of the rows done when `vigil.progress` allows it."""
    if algorithm != "auto" and (not isinstance(algorithm, str) or algorithm not in EXPLAINERS):
        raise InvalidInputError(
            f"algorithm {algorithm!r} is not known; use 'auto', {known_names()}",
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
        if is_linear(model) and single_output(model) and output != "probability":
            chosen = "linear"
        else:
            try:
                tree_explainer = shap.TreeExplainer(model)
                chosen = "tree"
            except Exception:  # shap raises several types for a model it cannot read as trees
                chosen = "kernel"
    job = ShapJob(
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
        tree_explainer,
        progress,
    )
    try:
        explanation = EXPLAINERS[chosen].explain(job)
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
