"""Chi-square test of homogeneity on the 2 x K table of category counts (reference, current).

Counts are exact while a column has at most 1,000 distinct values, so the profile path equals the
exact path; beyond that the frequent-items sketch gives each count within epsilon * total and the
rest of the mass is one `(other)` category.
"""

from __future__ import annotations

import scipy

from vigil.analysis.drift._bins import count_table
from vigil.analysis.drift.base import Counts, DriftMethod, MethodResult
from vigil.schema import ColumnKind


def chi_square(ref: Counts, cur: Counts) -> MethodResult:
    if ref.total <= 0 or cur.total <= 0:
        return MethodResult(float("nan"), None)
    _, table = count_table(ref, cur)
    if table.shape[1] < 2:
        return MethodResult(0.0, 1.0)
    result = scipy.stats.chi2_contingency(table, correction=False)
    return MethodResult(float(result.statistic), float(result.pvalue))


METHOD = DriftMethod(
    name="chi_square",
    title="chi-square",
    statistic_type="p_value",
    default_threshold=0.05,
    kinds=frozenset({ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}),
    tolerance=1e-9,
    description="chi-square test of homogeneity of the category counts",
    counts=chi_square,
    aliases=("chisquare", "chi2"),
)
