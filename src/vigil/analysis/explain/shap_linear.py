"""The `linear` explainer: shap's LinearExplainer for scikit-learn linear models (binary
classifiers and regressors), exact, relative to the mean of the background; a classifier's
log-odds."""

from __future__ import annotations

from vigil.analysis.explain.inputs import OutputSpace, output_function
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.shap_common import (
    Explainer,
    ShapJob,
    background_sample,
    is_linear,
    pick,
    result,
    single_output,
)
from vigil.errors import InvalidInputError


def explain_linear(job: ShapJob) -> Explanation:
    shap, model, frame, matrix, output, index = (
        job.shap,
        job.model,
        job.frame,
        job.matrix,
        job.output,
        job.index,
    )
    if not is_linear(model):
        raise InvalidInputError(
            f"the linear explainer reads scikit-learn linear models, not a "
            f"{type(model).__name__}; use algorithm='auto'"
        )
    if not single_output(model):
        raise InvalidInputError(
            "the linear explainer explains regressors and binary classifiers; use "
            "algorithm='kernel' for a multi-class linear model"
        )
    space: OutputSpace = "log_odds" if index is not None else "raw"
    if output is not None and output != space:
        raise InvalidInputError(
            f"the linear explainer gives the {space} output; use algorithm='kernel' for {output!r}"
        )
    data = background_sample(frame, job.background, job.background_size, job.seed)
    # The masker keeps every background row (shap's default would subsample to 100).
    explainer = shap.LinearExplainer(model, shap.maskers.Independent(data, max_samples=len(data)))
    values, base = pick(
        explainer.shap_values(matrix), explainer.expected_value, None, matrix.shape[1]
    )
    if index == 0:
        values, base = -values, -base
    model_output = output_function(model, space, index)(frame)
    return result(
        frame, values, base, model_output, space, "linear", {"background_rows": len(data)}
    )


EXPLAINER = Explainer(
    "linear",
    "shap's LinearExplainer: exact contributions of a scikit-learn linear model, relative to "
    "the mean of the background rows",
    explain_linear,
)
