"""Wasserstein-1 distance between the two distributions, divided by the reference standard
deviation (so 0.1 reads "the mass moved by a tenth of a standard deviation on average").

Profile path: the integral of |Q_ref(u) - Q_cur(u)| over u, on 1,000 midpoints, from the KLL
quantile functions; the reference std is exact (moments). Each sketch's quantile at u lies between
the true quantiles at u - eps and u + eps, which bounds the error by
2 * (eps_ref * range_ref + eps_cur * range_cur) / std plus the quadrature error (ranges / 1000).
"""

from __future__ import annotations

import math

import numpy as np
import scipy

from vigil.analysis.drift.base import DriftMethod, MethodResult
from vigil.analysis.drift.reference_memo import compact, reference_value
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind

GRID = 1000


def scale_of(std: float, mean: float) -> float:
    """The normaliser: the reference std, or |mean| (then 1) for a constant reference."""
    if math.isfinite(std) and std > 0:
        return std
    return abs(mean) if math.isfinite(mean) and mean != 0 else 1.0


_QS = tuple(((np.arange(GRID) + 0.5) / GRID).tolist())


def _quantiles(column: NumericColumn) -> FloatArray:
    """The reference's side (memoised while a `ReferenceMemo` is active)."""
    return compact(sketch_arrays.quantiles(column.quantiles, _QS))


def wasserstein_from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
    if ref.finite_count == 0 or cur.finite_count == 0:
        return MethodResult(float("nan"))
    a = np.asarray(reference_value(ref, "wasserstein", lambda: _quantiles(ref)), np.float64)
    b = sketch_arrays.quantiles(cur.quantiles, _QS)
    scale = scale_of(ref.std, ref.mean)
    w = float(np.mean(np.abs(a - b))) / scale
    ranges = (ref.max - ref.min, cur.max - cur.min)
    bound = (
        2 * (ref.quantiles.rank_error * ranges[0] + cur.quantiles.rank_error * ranges[1])
        + sum(ranges) / GRID
    ) / scale
    return MethodResult(w, None, bound)


def wasserstein_exact(ref: FloatArray, cur: FloatArray) -> MethodResult:
    if ref.size == 0 or cur.size == 0:
        return MethodResult(float("nan"))
    std = float(np.std(ref, ddof=1)) if ref.size > 1 else math.nan
    scale = scale_of(std, float(np.mean(ref)))
    return MethodResult(float(scipy.stats.wasserstein_distance(ref, cur)) / scale)


METHOD = DriftMethod(
    name="wasserstein",
    title="normalised Wasserstein distance",
    statistic_type="distance",
    default_threshold=0.1,
    kinds=frozenset({ColumnKind.NUMERIC}),
    tolerance=0.06,
    description="Wasserstein-1 distance divided by the reference standard deviation",
    numeric_profile=wasserstein_from_profiles,
    numeric_exact=wasserstein_exact,
    aliases=("wasserstein_distance", "emd"),
)
