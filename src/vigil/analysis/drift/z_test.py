"""Two-proportion Z-test on a boolean column (pooled standard error, two-sided).

Boolean counts are exact in a profile, so the profile path is the exact path. z^2 equals the
chi-square statistic of the 2 x 2 table without continuity correction.
"""

from __future__ import annotations

import math

import scipy

from vigil.analysis.drift.base import Counts, DriftMethod, MethodResult
from vigil.schema import ColumnKind


def z_test(ref: Counts, cur: Counts) -> MethodResult:
    n1, n2 = ref.total, cur.total
    if n1 <= 0 or n2 <= 0:
        return MethodResult(float("nan"), None)
    x1, x2 = ref.items.get("true", 0.0), cur.items.get("true", 0.0)
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return MethodResult(0.0, 1.0)
    z = (p2 - p1) / se
    return MethodResult(z, float(2 * scipy.stats.norm.sf(abs(z))))


METHOD = DriftMethod(
    name="z_test",
    title="Z-test for proportions",
    statistic_type="p_value",
    default_threshold=0.05,
    kinds=frozenset({ColumnKind.BOOLEAN}),
    tolerance=1e-9,
    description="difference in the share of true values over its pooled standard error (z)",
    counts=z_test,
    aliases=("ztest", "z"),
)
