"""How far a test lets a KLL quantile be from the truth.

DataSketches' KLL is randomised (its compactions toss coins that no seed reaches), and its stated
`rank_error` is the 99% bound: a test that checks a handful of quantiles against it fails about
once in a few dozen runs. Its rank error is close to normal, with the 99% bound at about 2.58
standard deviations, so twice the bound is about 5.2 of them: a check fails by chance about
once in 5 million (2.3e-7), and a wrong merge (a lost or doubled window shifts ranks by its share
of the rows) still fails it.
"""

from __future__ import annotations

import numpy as np

from vigil.profile.columns.numeric import NumericColumn

SLACK_BOUNDS = 2.0
"""The multiple of the stated 99% rank error a test allows."""


def rank_slack(column: NumericColumn) -> float:
    """The rank distance a quantile of `column` may be from its true rank in a test."""
    return SLACK_BOUNDS * column.quantiles.rank_error


def assert_quantiles_within(
    column: NumericColumn, values: np.ndarray, qs: tuple[float, ...]
) -> None:
    """Each q-quantile of `column` lies within `rank_slack` (plus one row) of rank q among the
    finite `values`."""
    ordered = np.sort(values[np.isfinite(values)])
    slack = rank_slack(column) + 1 / len(ordered)
    for q in qs:
        rank = np.searchsorted(ordered, column.quantile(q), side="right") / len(ordered)
        assert abs(rank - q) <= slack, (q, rank, slack)
