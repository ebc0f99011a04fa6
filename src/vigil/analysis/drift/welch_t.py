"""Welch's t-test on the means. Profiles keep count, mean and M2 exactly (merged with Chan's
formulas), so the profile path gives the same statistic and p-value as the raw data, at any size.
It sees a shift of the mean only: a change of spread or shape needs KS or a distance."""

from __future__ import annotations

import math

import numpy as np
import scipy

from vigil.analysis.drift.base import DriftMethod, MethodResult
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def _welch(mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int) -> MethodResult:
    if n1 < 2 or n2 < 2 or not (math.isfinite(var1) and math.isfinite(var2)):
        return MethodResult(float("nan"), None)
    if var1 == 0 and var2 == 0:
        return MethodResult(0.0, 1.0) if mean1 == mean2 else MethodResult(math.inf, 0.0)
    result = scipy.stats.ttest_ind_from_stats(
        mean2, math.sqrt(var2), n2, mean1, math.sqrt(var1), n1, equal_var=False
    )
    return MethodResult(float(result.statistic), float(result.pvalue))


def welch_from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
    return _welch(
        ref.mean, ref.variance, ref.finite_count, cur.mean, cur.variance, cur.finite_count
    )


def welch_exact(ref: FloatArray, cur: FloatArray) -> MethodResult:
    if ref.size < 2 or cur.size < 2:
        return MethodResult(float("nan"), None)
    return _welch(
        float(np.mean(ref)),
        float(np.var(ref, ddof=1)),
        ref.size,
        float(np.mean(cur)),
        float(np.var(cur, ddof=1)),
        cur.size,
    )


METHOD = DriftMethod(
    name="welch_t",
    title="Welch t-test on the means",
    statistic_type="p_value",
    default_threshold=0.05,
    kinds=frozenset({ColumnKind.NUMERIC}),
    tolerance=1e-9,
    description="difference of the means over its standard error (t), from exact moments",
    numeric_profile=welch_from_profiles,
    numeric_exact=welch_exact,
    aliases=("t_test", "ttest", "welch"),
)
