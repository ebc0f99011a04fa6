"""When did it start? The onset of the latest change in the mean of a series (a KPI, a metric,
a drift score per window), with a confidence interval. Pure: NumPy only.

The method, in three steps, on the last `max_points` finite values in time order:

1. **Which stretch holds the latest change.** Binary segmentation (Vostrikova 1981; ruptures'
   `Binseg` with the `l2` cost, `min_size=1`, `jump=1`, which the tests compare it with) splits
   the series wherever a split lowers the squared error by more than a penalty of
   `3 * log(n) * sigma^2`; `sigma` is the noise's scale from the median absolute deviation of
   the first differences (robust to the steps themselves). The usual BIC-like `2 log n` split
   noise too often at these lengths, which cost the interval its coverage (measured in
   `tests/analysis/test_onset.py`). The latest change's stretch runs from the break before it
   (or the series' first value) to the end, so earlier changes do not pull the estimate.
2. **Where, and how sure.** In that stretch, one shift of the mean: the split with the least
   squared error is the onset (the least-squares, i.e. Gaussian maximum-likelihood, estimate).
   The interval is the profile-likelihood confidence set (Siegmund 1988, "Confidence sets in
   change-point problems"): every split whose squared error exceeds the least by at most
   `2 c sigma^2`, `sigma^2` the two-level fit's residual variance. Near the true change the
   log-likelihood ratio is a two-sided random walk with drift; its continuous (Brownian)
   approximation has `P(max of one side > c) = exp(-c)` whatever the shift's size, so
   `c = -log(1 - sqrt(level))` covers the true change with probability at least `level`
   (about; the levels and `sigma` are estimated). The interval runs from the set's first to its
   last split.
3. **Is there a change at all.** A permutation test: the stretch's best split's gain against
   the same gain over `permutations` shuffles of its values (a fixed seed: the answer is
   reproducible). Above `alpha`, the change before it is tried on its own stretch (a lone
   value in the last window cannot be told from a blip, and a staircase began at its first
   step), up to `MAX_CANDIDATES` changes and at last the whole series; when none passes there is
   no onset to report, only the reason.

Assumptions: the values are independent around a level that shifts (no trend, no strong
autocorrelation: a drifting series or a seasonal one is not a step, and its interval is too
narrow); the noise has one scale on both sides. Each value counts as one observation
whatever the window's size. The test's level is exact under exchangeability when the stretch
is the whole series; when earlier changes cut it, the stretch was chosen from the same data,
and trying several changes is several tests: the p-value is optimistic (measured: 5-7% of
series of pure noise get an onset at `alpha` 0.05).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from vigil.errors import InvalidInputError

MIN_POINTS = 4
"""Fewer values leave no room for a level before and after a change with any noise estimate."""
MAX_POINTS = 500
"""At most this many of the latest values are looked at (the work is bounded)."""
PERMUTATIONS = 199
MAX_CANDIDATES = 5
"""Changes tried, the latest first, before giving up (each costs one permutation test)."""
PENALTY_FACTOR = 3.0
_MAD_SCALE = 0.6744897501960817  # the standard normal's 75th percentile: MAD -> sigma

Floats = npt.NDArray[np.float64]


class Onset(BaseModel):
    """When the latest change most likely began (`start`, the first time stamp at its new
    level), the confidence interval `[low, high]` at `level`, and the mean `before` and `after`
    it; `start` is None when there is no confident onset, and `reason` says why."""

    model_config = ConfigDict(frozen=True)

    start: dt.datetime | None
    low: dt.datetime | None
    high: dt.datetime | None
    before: float | None
    after: float | None
    n_points: int
    """The values used (finite, the latest `max_points`)."""
    missing: int
    """Values skipped as None or not finite."""
    p_value: float | None
    """Of the permutation test for a shift of the mean (None: not tested)."""
    level: float
    """The interval's confidence level."""
    reason: str = ""
    """Why there is no onset (empty when there is one)."""

    @property
    def found(self) -> bool:
        return self.start is not None

    def sentence(self) -> str:
        """ "most likely began at X (between A and B)", or why no onset was found."""
        if self.start is None or self.low is None or self.high is None:
            return f"no clear onset: {self.reason}"
        return (
            f"most likely began at {_when(self.start)} "
            f"(between {_when(self.low)} and {_when(self.high)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: time stamps in ISO 8601 (`Onset.model_validate` reads it back)."""
        return self.model_dump(mode="json")


def _when(at: dt.datetime) -> str:
    if at.time() == dt.time(0) and at.utcoffset() in (None, dt.timedelta(0)):
        return at.date().isoformat()
    return at.isoformat(sep=" ", timespec="minutes")


def mean_shift_costs(values: npt.ArrayLike) -> Floats:
    """Squared error of the two-level fit for each split `k` in `1 .. n-1` (levels: the means of
    `values[:k]` and `values[k:]`), entry `k - 1`; from cumulative sums, O(n)."""
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    if n < 2:
        return np.empty(0)
    k = np.arange(1, n, dtype=np.float64)
    sums = np.cumsum(y)
    left = sums[:-1]
    right = sums[-1] - left
    total = float(np.dot(y, y))
    costs: Floats = total - left * left / k - right * right / (n - k)
    return np.maximum(costs, 0.0)


def _segment_cost(sums: Floats, squares: Floats, start: int, end: int) -> float:
    total = sums[end] - sums[start]
    return float(squares[end] - squares[start] - total * total / (end - start))


def binary_segmentation(values: npt.ArrayLike, penalty: float) -> list[int]:
    """Breaks of binary segmentation with the squared-error cost: a segment is split at its
    best split while that lowers the cost by more than `penalty`. Returns the ends of the
    segments (the last is `len(values)`), as `ruptures.Binseg(model="l2", min_size=1,
    jump=1).fit(values).predict(pen=penalty)` does."""
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    sums = np.concatenate(([0.0], np.cumsum(y)))
    squares = np.concatenate(([0.0], np.cumsum(y * y)))
    breaks = [n]
    pending = [(0, n)]
    while pending:
        start, end = pending.pop()
        if end - start < 2:
            continue
        costs = mean_shift_costs(y[start:end])
        best = int(np.argmax(costs[::-1] == costs.min()))  # ties: the latest, as ruptures
        split = end - 1 - best
        gain = _segment_cost(sums, squares, start, end) - float(costs[split - start - 1])
        if gain > penalty:
            breaks.append(split)
            pending += [(start, split), (split, end)]
    return sorted(breaks)


def noise_scale(values: npt.ArrayLike) -> float:
    """The noise's standard deviation from the first differences' median absolute deviation
    (a few steps barely move it); from their standard deviation when most differences are
    equal."""
    diffs = np.diff(np.asarray(values, dtype=np.float64))
    if diffs.size == 0:
        return 0.0
    spread = float(np.std(diffs)) / math.sqrt(2.0)
    robust = float(np.median(np.abs(diffs - np.median(diffs)))) / _MAD_SCALE / math.sqrt(2.0)
    # More than half the differences equal (a repeating or coarse-valued series): the MAD is
    # zero up to rounding and says nothing of the noise.
    return robust if robust > 1e-6 * spread else spread


def _check(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise InvalidInputError(f"{name} must be between 0 and 1 (exclusive), got {value!r}")


@dataclass(frozen=True)
class _Shift:
    """One shift of the mean in a stretch: its split, the interval's first and last split, and
    the permutation test's p-value."""

    split: int
    low: int
    high: int
    p_value: float


def _one_shift(stretch: Floats, level: float, permutations: int) -> _Shift:
    m = stretch.size
    costs = mean_shift_costs(stretch)
    split = int(np.argmin(costs)) + 1
    least = float(costs[split - 1])
    variance = least / (m - 2)
    critical = -math.log(1.0 - math.sqrt(level))
    inside = np.flatnonzero(costs - least <= 2.0 * critical * variance + 1e-12 * m) + 1

    gain = float(np.dot(stretch, stretch) - m * np.mean(stretch) ** 2) - least
    rng = np.random.default_rng(0)
    shuffled = rng.permuted(np.broadcast_to(stretch, (permutations, m)), axis=1)
    k = np.arange(1, m, dtype=np.float64)
    sums = np.cumsum(shuffled, axis=1)[:, :-1]
    total = float(np.sum(stretch))
    # The gain of a split over one level: n_l n_r / n (mean_l - mean_r)^2, from the left sums.
    gains = np.max((sums - k * total / m) ** 2 * m / (k * (m - k)), axis=1)
    p_value = float((1 + np.count_nonzero(gains >= gain * (1 - 1e-9))) / (permutations + 1))
    return _Shift(split, int(inside[0]), int(inside[-1]), p_value)


def estimate_onset(
    timestamps: Sequence[dt.datetime],
    values: Sequence[float | None],
    *,
    level: float = 0.95,
    alpha: float = 0.05,
    max_points: int = MAX_POINTS,
    permutations: int = PERMUTATIONS,
) -> Onset:
    """When the latest shift in the mean of `values` (one per time stamp) most likely began,
    with its interval at `level`; no onset when the permutation test's p-value exceeds `alpha`.
    See the module's docstring for the method and its assumptions.

    >>> import datetime as dt
    >>> days = [dt.datetime(2026, 1, d, tzinfo=dt.UTC) for d in range(1, 21)]
    >>> estimate_onset(days, [1.0, 1.1, 0.9, 1.0] * 3 + [3.0, 3.1, 2.9, 3.0] * 2).sentence()
    'most likely began at 2026-01-13 (between 2026-01-13 and 2026-01-13)'
    """
    _check("level", level)
    _check("alpha", alpha)
    if len(timestamps) != len(values):
        raise InvalidInputError(
            f"{len(timestamps)} time stamps for {len(values)} values: give one value per time"
        )
    if max_points < MIN_POINTS:
        raise InvalidInputError(f"max_points must be at least {MIN_POINTS}, got {max_points}")
    if permutations < 1:
        raise InvalidInputError(f"permutations must be at least 1, got {permutations}")
    pairs = sorted(zip(timestamps, values, strict=True), key=lambda p: p[0])
    for (a, _), (b, _) in itertools.pairwise(pairs):
        if a == b:
            raise InvalidInputError(f"time stamp {a.isoformat()} appears twice")
    kept = [(t, float(v)) for t, v in pairs if v is not None and math.isfinite(v)]
    missing = len(pairs) - len(kept)
    kept = kept[-max_points:]
    n = len(kept)

    def none(reason: str, p_value: float | None = None) -> Onset:
        return Onset(
            start=None,
            low=None,
            high=None,
            before=None,
            after=None,
            n_points=n,
            missing=missing,
            p_value=p_value,
            level=level,
            reason=reason,
        )

    if n < MIN_POINTS:
        return none(f"{n} values; an onset needs at least {MIN_POINTS}")
    times = [t for t, _ in kept]
    x = np.array([v for _, v in kept])
    spread = float(np.std(x))
    if spread == 0.0 or spread <= 1e-12 * float(np.max(np.abs(x))):
        return none("the series is constant")
    z = (x - float(np.mean(x))) / spread  # standardised: cumulative sums without cancellation

    sigma = noise_scale(z)
    penalty = max(PENALTY_FACTOR * math.log(n) * sigma * sigma, 1e-9 * n)
    breaks = binary_segmentation(z, penalty)
    # The latest change first; one the test cannot confirm (a lone value in the last window, say)
    # gives way to the one before it, and finally to the whole series.
    firsts = sorted({max(0, min(b, n - MIN_POINTS)) for b in [0, *breaks[:-2]]}, reverse=True)
    candidates = firsts[: MAX_CANDIDATES - 1] + ([0] if firsts[MAX_CANDIDATES - 1 :] else [])
    for first in candidates:
        fit = _one_shift(z[first:], level, permutations)
        if fit.p_value <= alpha:
            break
    else:
        return none(
            f"a shift of the mean this large appears in {fit.p_value:.0%} of shuffled orders "
            f"of the same values (at most {alpha:.0%} would count)",
            fit.p_value,
        )
    split = fit.split
    at = first + split
    return Onset(
        start=times[at],
        low=times[first + fit.low],
        high=times[first + fit.high],
        before=float(np.mean(x[first:at])),
        after=float(np.mean(x[at:])),
        n_points=n,
        missing=missing,
        p_value=fit.p_value,
        level=level,
    )
