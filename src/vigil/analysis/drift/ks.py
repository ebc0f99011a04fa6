"""Two-sample Kolmogorov-Smirnov test: the largest gap between the two CDFs.

Profile path: both CDFs read from the KLL sketches on a grid of both sketches' quantiles (plus the
exact extremes). Each sketch's CDF is within its `pmf_error` of the truth (99% confidence), so
|D_profile - D_exact| <= pmf_error(reference) + pmf_error(current): that is the `error_bound`
reported. The p-value is the asymptotic one (scipy.stats.kstwo) on the estimated D.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy

from vigil.analysis.drift.base import DriftMethod, MethodResult, split_points
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind

GRID = 400
EXACT_P_MAX_ROWS = 1_000


def grid_points(ref: NumericColumn, cur: NumericColumn, size: int = GRID) -> FloatArray:
    """Sorted evaluation points: both sketches' quantiles on a fine grid, and the extremes."""
    qs = ((np.arange(size) + 0.5) / size).tolist()
    points = np.concatenate(
        [
            np.asarray(ref.quantiles.quantiles(qs), dtype=np.float64),
            np.asarray(cur.quantiles.quantiles(qs), dtype=np.float64),
            [ref.min, ref.max, cur.min, cur.max],
        ]
    )
    return np.asarray(split_points(points), dtype=np.float64)


def p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sample p-value; the limiting Kolmogorov distribution past 10,000 effective
    rows, where scipy.stats.kstwo is slow and the two agree to 1e-3."""
    en = n * m / (n + m)
    if d <= 0:
        return 1.0
    if en > 10_000:
        return float(scipy.stats.kstwobign.sf(d * math.sqrt(en)))
    return float(scipy.stats.kstwo.sf(d, max(1, round(en))))


def ks_from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
    n, m = ref.finite_count, cur.finite_count
    if n == 0 or m == 0:
        return MethodResult(float("nan"), None)
    points = grid_points(ref, cur).tolist()
    f = np.asarray(ref.quantiles.cdf(points)[:-1])
    g = np.asarray(cur.quantiles.cdf(points)[:-1])
    d = float(np.max(np.abs(f - g))) if points else 0.0
    p = p_value(d, n, m)
    bound = ref.quantiles.pmf_error + cur.quantiles.pmf_error
    return MethodResult(d, p, bound)


def ks_exact(ref: FloatArray, cur: FloatArray) -> MethodResult:
    if ref.size == 0 or cur.size == 0:
        return MethodResult(float("nan"), None)
    # SciPy's exact distribution is slow and can fail past a few thousand rows, where the
    # asymptotic one is accurate.
    method = "auto" if max(ref.size, cur.size) <= EXACT_P_MAX_ROWS else "asymp"
    with warnings.catch_warnings():  # "exact calculation unsuccessful": SciPy falls back itself
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ks_2samp(ref, cur, method=method)
    return MethodResult(float(result.statistic), float(result.pvalue))


METHOD = DriftMethod(
    name="ks",
    title="Kolmogorov-Smirnov",
    statistic_type="p_value",
    default_threshold=0.05,
    kinds=frozenset({ColumnKind.NUMERIC}),
    tolerance=0.02,
    description="largest gap between the reference and current CDFs (D); two-sample KS test",
    numeric_profile=ks_from_profiles,
    numeric_exact=ks_exact,
)
