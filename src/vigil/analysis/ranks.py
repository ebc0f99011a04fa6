"""Average ranks in NumPy: the ranking a rank statistic needs (ROC AUC, Spearman), without paying
for `scipy.stats` (two seconds of imports) on paths that need nothing else from it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def average_ranks(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """1-based ranks of `values`, ties sharing the mean of their ranks (`scipy.stats.rankdata`
    with its default `method="average"`). NaN is not handled: drop it first."""
    x = np.asarray(values, dtype=float).ravel()
    n = x.size
    if n == 0:
        return np.empty(0, dtype=float)
    order = np.argsort(x, kind="mergesort")
    ordered = x[order]
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    ends = np.r_[starts[1:], n]
    ranks = np.empty(n, dtype=float)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks
