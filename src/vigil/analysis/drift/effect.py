"""Effect sizes: how large a change is, whatever the sample size. A test on a column only flags
drift when its effect size also reaches the threshold for the column's kind.

- numeric: the normalised Wasserstein distance on the central 98% of the mass (quantiles 1% to
  99%), divided by the reference std: "how far the bulk of the distribution moved, in standard
  deviations". Trimming keeps the extreme quantiles out: a KLL sketch's rank error there turns
  into large value errors on heavy tails (Student t, lognormal), which the full distance would
  read as drift. Same definition on both paths: sketch quantiles or exact quantiles.
- categorical and boolean: the Jensen-Shannon distance (base 2) between the category shares.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vigil.analysis.drift._bins import count_shares
from vigil.analysis.drift.base import Counts
from vigil.analysis.drift.jensen_shannon import jensen_shannon
from vigil.analysis.drift.reference_memo import compact, reference_value
from vigil.analysis.drift.wasserstein import scale_of
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind

TRIM = 0.01
GRID = 1000
_QS = TRIM + (1 - 2 * TRIM) * (np.arange(GRID) + 0.5) / GRID
_QS_LIST = tuple(_QS.tolist())

EFFECT_NAMES: Mapping[ColumnKind, str] = {
    ColumnKind.NUMERIC: "wasserstein_98",
    ColumnKind.CATEGORICAL: "jensen_shannon",
    ColumnKind.BOOLEAN: "jensen_shannon",
}


def numeric_effect_from_profiles(ref: NumericColumn, cur: NumericColumn) -> float:
    if ref.finite_count == 0 or cur.finite_count == 0:
        return float("nan")
    a = np.asarray(
        reference_value(ref, "effect_quantiles", lambda: _quantiles(ref)), dtype=np.float64
    )
    b = sketch_arrays.sorted_view(cur.quantiles).quantiles(_QS)  # 1,000 reads: from the view
    return float(np.mean(np.abs(a - b))) * (1 - 2 * TRIM) / scale_of(ref.std, ref.mean)


def _quantiles(column: NumericColumn) -> FloatArray:
    """The reference's side (memoised while a `ReferenceMemo` is active)."""
    return compact(sketch_arrays.quantiles(column.quantiles, _QS_LIST))


def numeric_effect_exact(ref: FloatArray, cur: FloatArray) -> float:
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    a = np.quantile(ref, _QS, method="inverted_cdf")
    b = np.quantile(cur, _QS, method="inverted_cdf")
    std = float(np.std(ref, ddof=1)) if ref.size > 1 else float("nan")
    return float(np.mean(np.abs(a - b))) * (1 - 2 * TRIM) / scale_of(std, float(np.mean(ref)))


def counts_effect(ref: Counts, cur: Counts) -> float:
    if ref.total <= 0 or cur.total <= 0:
        return float("nan")
    _, p, q = count_shares(ref, cur)
    return jensen_shannon(p, q)
