"""The `kernel` explainer: shap's KernelExplainer for any other model, sampled, against a
background of at most `background_size` rows (drawn with the seed), explaining the probability of
the class for a classifier and the prediction otherwise."""

from __future__ import annotations

import numpy as np

from vigil.analysis.explain.inputs import Array, OutputSpace, output_function, require_pandas
from vigil.analysis.explain.results import Explanation
from vigil.analysis.explain.shap_common import Explainer, ShapJob, background_sample, pick, result
from vigil.progress import progress_enabled


def explain_kernel(job: ShapJob) -> Explanation:
    pd = require_pandas()
    model, frame, matrix, index, seed = job.model, job.frame, job.matrix, job.index, job.seed
    kernel_samples = job.kernel_samples
    space: OutputSpace = job.output or ("probability" if index is not None else "raw")
    function = output_function(model, space, index)
    columns = list(frame.columns)
    dtypes = frame.dtypes.to_dict()

    def f(x: Array) -> Array:
        return function(pd.DataFrame(x, columns=columns).astype(dtypes))

    data = background_sample(frame, job.background, job.background_size, seed)
    explainer = job.shap.KernelExplainer(f, data)
    np_state = np.random.get_state()
    np.random.seed(seed)  # the kernel explainer samples coalitions with NumPy's global generator
    try:
        raw = explainer.shap_values(
            matrix,
            nsamples=kernel_samples if kernel_samples is not None else "auto",
            silent=not progress_enabled(job.progress),
        )
    finally:
        np.random.set_state(np_state)
    values, base = pick(raw, explainer.expected_value, None, matrix.shape[1])
    return result(
        frame,
        values,
        base,
        function(frame),
        space,
        "kernel",
        {"background_rows": len(data), "nsamples": kernel_samples or "auto"},
    )


EXPLAINER = Explainer(
    "kernel",
    "shap's KernelExplainer: sampled contributions for any model, against a background sample "
    "(the fallback when no exact explainer reads the model)",
    explain_kernel,
)
