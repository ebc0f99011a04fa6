"""Two-sample Kolmogorov-Smirnov test: the largest gap between the two CDFs.

Profile path: both CDFs read from the KLL sketches on a grid of both sketches' quantiles (plus the
exact extremes). Each sketch's CDF is within its `pmf_error` of the truth (99% confidence), so
|D_profile - D_exact| <= pmf_error(reference) + pmf_error(current): that is the `error_bound`
reported. The p-value is `sketch_p_value`: `p_value` read at D less a share of the error bound of the
sketches that are estimating (see there for what that guarantees and what it costs).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import scipy

from vigil.analysis.drift.base import DriftMethod, MethodResult
from vigil.analysis.drift.reference_memo import reference_value
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray, QuantileSketch
from vigil.schema import ColumnKind

GRID = 400
EXACT_P_MAX_ROWS = 1_000


def grid_points(
    ref: NumericColumn,
    cur: NumericColumn,
    size: int = GRID,
    cur_view: sketch_arrays.SortedView | None = None,
) -> FloatArray:
    """Sorted evaluation points: both sketches' quantiles on a fine grid, and the extremes.

    The reference's part is the same every time it is compared: memoised while a
    `ReferenceMemo` is active (the union of both parts is what one `split_points` over all the
    points gives). `cur_view`, the current sketch's sorted view when the caller has it, answers
    the current's quantiles (the same values)."""
    qs = _GRID_QS if size == GRID else _midpoints(size)
    ref_part = reference_value(ref, ("ks_grid", size), lambda: _grid_part(ref, qs))
    cur_part = _grid_part(cur, qs, cur_view)
    points: FloatArray = np.union1d(ref_part, cur_part).astype(np.float64)
    return points


def _midpoints(size: int) -> tuple[float, ...]:
    return tuple(((np.arange(size) + 0.5) / size).tolist())


_GRID_QS = _midpoints(GRID)
_GRID_QS_ARRAY = np.asarray(_GRID_QS, dtype=np.float64)
_GRID_QS_ARRAY.flags.writeable = False


def _grid_part(
    column: NumericColumn, qs: Sequence[float], view: sketch_arrays.SortedView | None = None
) -> np.ndarray:
    """One column's grid points as `split_points` rounds them (float32), sorted and distinct
    (its quantiles read from its sorted `view` when given)."""
    if view is None:
        found = sketch_arrays.quantiles(column.quantiles, qs)
        points = np.concatenate([found, [column.min, column.max]])
        part = np.unique(points[np.isfinite(points)].astype(np.float32))
    else:
        ranks = _GRID_QS_ARRAY if qs is _GRID_QS else qs
        part = _distinct(np.concatenate([[column.min], view.quantiles(ranks), [column.max]]))
    part.flags.writeable = False
    return part


def _distinct(points: FloatArray) -> np.ndarray:
    """`np.unique` of the finite `points` as float32, for points already in order (the minimum,
    quantiles at increasing ranks, the maximum: rounding keeps their order) without sorting
    them again; sorted when they are not."""
    narrow = points[np.isfinite(points)].astype(np.float32)
    if narrow.size and bool(np.any(narrow[1:] < narrow[:-1])):
        return np.unique(narrow)
    keep = np.ones(narrow.size, dtype=bool)
    np.not_equal(narrow[1:], narrow[:-1], out=keep[1:])
    return narrow[keep]


EXACT_BELOW = 25
"""Effective sizes round(nm/(n+m)) below this take SciPy's exact one-sample distribution."""
P_VALUE_ABS_BOUND = 5e-4
"""`p_value` is within this of scipy.stats.kstwo.sf(d, round(nm/(n+m))) for every d."""
P_VALUE_REL_BOUND = 0.15
"""... and within this share of it wherever that p-value is at least `P_VALUE_REL_FROM`."""
P_VALUE_REL_FROM = 1e-3


def p_value(d: float, n: int, m: int) -> float:
    """Two-sample KS p-value for a gap `d` between CDFs of `n` and `m` rows.

    The reference is what SciPy's `ks_2samp(method="asymp")` reads: the one-sample distribution
    at the effective size N = round(nm/(n+m)), `scipy.stats.kstwo.sf(d, N)`. That one is pure
    Python (Pomeranz, Durbin's matrix, Pelz-Good, an O(N) Smirnov sum) and took half of a
    monitor tick; from N = `EXACT_BELOW` on this reads instead the limiting Kolmogorov law at
    Vrbik's corrected argument (Vrbik 2018, "Small-sample corrections to Kolmogorov-Smirnov
    test statistic"): with x = sqrt(N) d,

        p = kolmogorov(x + 1/(6 sqrt(N)) + (x - 1)/(4N))

    one C call (scipy.special.kolmogorov) instead of milliseconds of Python. Bound, checked
    against kstwo.sf on a grid of d for N from 25 to 20,000 (tests/analysis/drift/
    test_ks_pvalue.py):

    - |p - kstwo.sf| <= 5e-4 (`P_VALUE_ABS_BOUND`; the largest gap is 4.6e-4 at N = 25 and it
      falls like 1/N: 1.7e-4 at N = 100, 2e-5 at N = 1,000);
    - |p - kstwo.sf| <= 15% of kstwo.sf wherever kstwo.sf >= 1e-3 (`P_VALUE_REL_BOUND`; 12% at
      N = 25, 3% at N = 100);
    - p >= kstwo.sf wherever kstwo.sf <= 0.1: at any threshold up to 0.1 this flags a subset of
      what kstwo.sf flags (no extra false alarms; the lost power is measured).

    Stephens' correction (kolmogorov(d (sqrt(N) + 0.12 + 0.11/sqrt(N)))) is as fast but 40 to 200x
    less accurate (1.2e-2 at N = 100). Below N = 25 Vrbik's form is off by up to 0.12, and
    kstwo.sf is used. False alarms and power of each, side by side with kstwo.sf:
    `benchmarks/drift_false_alarms.py --ks`.
    """
    if d <= 0:
        return 1.0
    if d >= 1:
        return 0.0
    size = max(1, round(n * m / (n + m)))
    if size < EXACT_BELOW:
        return float(scipy.stats.kstwo.sf(d, size))
    x = math.sqrt(size) * d
    return float(scipy.special.kolmogorov(x + 1 / (6 * math.sqrt(size)) + (x - 1) / (4 * size)))


SKETCH_ERROR_SHARE = 0.25
"""The share of a sketch's CDF error bound (`pmf_error`) that may be taken for sketch error in D,
for a sketch of `SHARE_AT` values ..."""
SHARE_PER_DECADE = 0.10
"""... plus this much per tenfold more values, less per tenfold fewer (a KLL's realised error
grows with its levels: 0.08 at 201 values, 0.15 at 1,000, 0.35 at 100,000, 0.45 at 1,000,000)."""
SHARE_AT = 10_000


def error_share(count: int) -> float:
    """max(0, `SKETCH_ERROR_SHARE` + `SHARE_PER_DECADE` x log10(count / `SHARE_AT`))."""
    return max(0.0, SKETCH_ERROR_SHARE + SHARE_PER_DECADE * math.log10(count / SHARE_AT))


def sketch_allowance(column: NumericColumn) -> float:
    """How much of D may be this column's sketch error: 0 while its KLL sketch holds every value
    (a KLL sketch of parameter k is exact, not in estimation mode, as long as it has seen at
    most k values, merges included), else `error_share(n)` x its `pmf_error` (the 99% bound)."""
    sketch = column.quantiles
    if sketch.n <= QuantileSketch.K:
        return 0.0
    return error_share(sketch.n) * sketch.pmf_error


def sketch_p_value(d: float, n: int, m: int, allowance: float) -> float:
    """KS p-value for a gap `d` read from two sketches: `p_value(max(0, d - allowance), n, m)`,
    `allowance` the sum of both columns' `sketch_allowance`.

    Why: the sketches' rank errors lift D (the largest gap picks the points where they add up).
    Read as is, D from two 10,000-row sketches was taken for drift in 20-27% of no-drift pairs at
    0.05 (the raw D of the same pairs: 5%), 86% at 30,000 rows, all at 100,000: the error
    (0.004 on average at 10,000 rows, 0.010 at 1,000,000) is the size of the KS critical gap
    (0.019 at en 5,000, 0.002 at 500,000).

    Guarantee. Both sketches exact (at most k = 200 values each): allowance 0 and the p-value
    is `p_value(d, n, m)` on the raw D, bit for bit; small windows lose nothing. Otherwise,
    whenever D_profile - D_raw <= allowance the p-value is at least `p_value(D_raw, n, m)`,
    i.e. it flags no more than the raw path would. The allowance is measured, not proven (the
    datasketches bound, `pmf_error`, is a 99% one; D's error was 0.13 of it at the median and
    0.41 at most for 10,000-row sketches, 0.29 and 0.57 at 1,000,000): the shares were set on
    no-drift pairs of 300 to 1,000,000 rows per side, where the false-alarm rate at 0.05 is then
    0-7%, within the raw D's Wilson interval or below it, at every size; at 10,000 rows it is
    1-2% although the allowance covers D's error in only 94% of pairs (it matters only where
    the raw D is near the critical gap). Power at a 3/sqrt(en) sd shift against the raw D's:
    72-74% vs 74-79% at en 150-250, 70% vs 74% at en 1,000, 47% vs 72% at en 5,000 (the price:
    near the detection limit at large sizes the sketch's own error hides the shift). Continuous
    data: a KLL's rank error does not depend on the distribution (it compares values only);
    ties make it smaller (the allowance is then conservative). Both measured by
    benchmarks/drift_false_alarms.py --sketch.
    """
    return p_value(max(0.0, d - allowance), n, m)


def ks_from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
    n, m = ref.finite_count, cur.finite_count
    if n == 0 or m == 0:
        return MethodResult(float("nan"), None)
    # The current window's sketch is read twice (its grid part, its CDF): from its sorted view.
    view = sketch_arrays.sorted_view(cur.quantiles)
    points = grid_points(ref, cur, cur_view=view)
    f = _reference_cdf(ref, points)[:-1]
    g = view.cdf(points)[:-1]
    d = float(np.max(np.abs(f - g))) if len(points) else 0.0
    p = sketch_p_value(d, n, m, sketch_allowance(ref) + sketch_allowance(cur))
    bound = ref.quantiles.pmf_error + cur.quantiles.pmf_error
    return MethodResult(d, p, bound)


def _reference_cdf(ref: NumericColumn, points: FloatArray) -> FloatArray:
    """The reference's CDF at `points` (and 1.0 appended). An exact sketch (at most k values) is
    read from its sorted view, memoised with the reference: its values in order, at most k
    floats, and the same answers as the native query, which takes and answers Python lists. An
    estimating sketch's view also holds a cumulative weight per value (twice what the memo keeps
    of its column otherwise), so it is asked natively."""
    sketch = ref.quantiles
    if sketch.n <= QuantileSketch.K:
        view = reference_value(ref, "sorted_view", lambda: sketch_arrays.sorted_view(sketch))
        return view.cdf(points)
    return sketch_arrays.cdf(sketch, points.tolist())


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
