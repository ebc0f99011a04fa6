"""Two-sample Cramer-von Mises test: the squared CDF gap integrated over the pooled distribution.

Profile path: T = n m / (n + m) * sum over grid points of (F - G)^2 dH, with F and G read from the
sketches and H the pooled CDF; the p-value is SciPy's asymptotic one for the two-sample statistic.
T grows with the sample sizes, so its tolerance (0.005) applies to T / (n m / (n + m)), the
integrated squared CDF gap in [0, 1]. With each CDF
within eps = eps_ref + eps_cur of the truth, (F - G)^2 moves by at most eps * (2 D + eps), so
|T_profile - T| <= n m / (n + m) * eps * (2 (D + eps) + eps) (approximately: the pooled weights
are estimated too): the `error_bound`. It grows with n: on large profiles prefer KS or a distance.
"""

from __future__ import annotations

import numpy as np
import scipy

from vigil.analysis.drift.base import DriftMethod, MethodResult
from vigil.analysis.drift.ks import grid_points
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def _p_value(t: float, n: int, m: int) -> float:
    # SciPy's asymptotic two-sample p-value (the one cramervonmises_2samp uses for n > 20); it is
    # not public, and the contract test checks it still matches cramervonmises_2samp. Imported
    # here: scipy.stats is loaded only by the calls that need it (see vigil.analysis.drift).
    from scipy._lib._array_api import array_namespace
    from scipy.stats import _hypotests

    k, total = n * m, n + m
    stat = np.asarray(t, dtype=np.float64)
    p = _hypotests._pval_cvm_2samp_asymptotic(stat, total, n, m, k, xp=array_namespace(stat))
    return float(np.clip(p, 0.0, 1.0))


def cvm_from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
    n, m = ref.finite_count, cur.finite_count
    if n < 2 or m < 2:
        return MethodResult(float("nan"), None)
    points = grid_points(ref, cur, 1000).tolist()
    f = sketch_arrays.cdf(ref.quantiles, points)[:-1]
    g = sketch_arrays.cdf(cur.quantiles, points)[:-1]
    h = (n * f + m * g) / (n + m)
    weights = np.diff(np.concatenate([[0.0], h]))
    scale = n * m / (n + m)
    t = float(scale * np.sum((f - g) ** 2 * weights))
    eps = ref.quantiles.pmf_error + cur.quantiles.pmf_error
    d = float(np.max(np.abs(f - g))) if f.size else 0.0
    return MethodResult(t, _p_value(t, n, m), scale * eps * (2 * (d + eps) + eps))


def cvm_exact(ref: FloatArray, cur: FloatArray) -> MethodResult:
    if ref.size < 2 or cur.size < 2:
        return MethodResult(float("nan"), None)
    result = scipy.stats.cramervonmises_2samp(ref, cur, method="asymptotic")
    return MethodResult(float(result.statistic), float(result.pvalue))


METHOD = DriftMethod(
    name="cramer_von_mises",
    title="Cramer-von Mises",
    statistic_type="p_value",
    default_threshold=0.05,
    kinds=frozenset({ColumnKind.NUMERIC}),
    tolerance=0.005,
    n_scaled=True,
    description="squared CDF gap integrated over the pooled sample (T); two-sample CvM test",
    numeric_profile=cvm_from_profiles,
    numeric_exact=cvm_exact,
    aliases=("cvm",),
)
