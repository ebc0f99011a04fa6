"""The `tree` explainer: shap's TreeExplainer (scikit-learn tree ensembles, including
GradientBoosting and HistGradientBoosting, XGBoost, LightGBM, CatBoost), exact and path-dependent
(no background). It explains what the trees add up: the log-odds margin of a boosted classifier
(`decision_function`), the probability of a forest classifier, the prediction of a regressor.
`output="probability"` on a boosted classifier switches to the interventional algorithm with a
background sample."""

from __future__ import annotations

from typing import Any

import numpy as np

from vigil.analysis.explain.inputs import OutputSpace, output_function
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.shap_common import Explainer, ShapJob, background_sample, pick, result
from vigil.errors import InvalidInputError


def explain_tree(job: ShapJob) -> Explanation:
    shap, model, frame, matrix, output, index = (
        job.shap,
        job.model,
        job.frame,
        job.matrix,
        job.output,
        job.index,
    )
    explainer = job.tree_explainer
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
        data = background_sample(frame, job.background, job.background_size, job.seed)
        explainer = shap.TreeExplainer(
            model, data, feature_perturbation="interventional", model_output="probability"
        )
        native = "probability"
        details = {"feature_perturbation": "interventional", "background_rows": len(data)}
    raw = explainer.shap_values(matrix)
    single = np.asarray(raw).ndim == 2 and index is not None
    values, base = pick(raw, explainer.expected_value, index, matrix.shape[1])
    if single and index == 0:  # one margin for a binary model: class 0 is its negation
        values, base = -values, -base
    model_output = output_function(model, native, index)(frame)
    return result(frame, values, base, model_output, native, "tree", details)


EXPLAINER = Explainer(
    "tree",
    "shap's TreeExplainer: exact contributions of tree ensembles (scikit-learn, XGBoost, "
    "LightGBM, CatBoost) to their margin, probability or prediction",
    explain_tree,
)
