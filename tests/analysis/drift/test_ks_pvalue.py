"""The KS p-value against SciPy's exact one-sample distribution at the effective size.

`p_value(d, n, m)` reads Vrbik's corrected limiting law from N = round(nm/(n+m)) = 25 on; its
docstring states three bounds against scipy.stats.kstwo.sf(d, N), checked here on a grid of d
(p from 1 down to below 1e-6) for effective sizes from 25 to 20,000.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

from vigil.analysis.drift.ks import (
    EXACT_BELOW,
    P_VALUE_ABS_BOUND,
    P_VALUE_REL_BOUND,
    P_VALUE_REL_FROM,
    p_value,
)

Gaps = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
"""Per effective size: the grid of d, kstwo.sf on it, p_value on it."""

SIZES = [25, 26, 31, 40, 57, 96, 140, 141, 250, 1_000, 4_000, 20_000]
"""Effective sizes: the switch, SciPy's own switches (140/141: Pomeranz to Pelz-Good), large."""


def _grid(size: int) -> np.ndarray:
    """d such that sqrt(N) d runs over 0.05..3 (p from 1 to ~1e-7), fewer deep-tail points for
    large N (kstwo.sf's O(N) Smirnov sum is slow there)."""
    x = np.linspace(0.05, 3.0, 236 if size <= 1_000 else 60)
    d = x / math.sqrt(size)
    return d[d < 1]


def _samples(size: int) -> tuple[int, int]:
    """Two sample sizes whose effective size rounds to `size` (unequal, as in a monitor)."""
    n = 3 * size
    m = round(n * size / (n - size))
    assert round(n * m / (n + m)) == size
    return n, m


@pytest.fixture(scope="module")
def gaps() -> Gaps:
    out = {}
    for size in SIZES:
        d = _grid(size)
        exact = stats.kstwo.sf(d, size)
        n, m = _samples(size)
        got = np.array([p_value(float(v), n, m) for v in d])
        out[size] = (d, exact, got)
    return out


@pytest.mark.parametrize("size", SIZES)
def test_within_the_absolute_bound(gaps: Gaps, size: int) -> None:
    _, exact, got = gaps[size]
    assert np.max(np.abs(got - exact)) <= P_VALUE_ABS_BOUND


@pytest.mark.parametrize("size", SIZES)
def test_within_the_relative_bound_in_the_tail(gaps: Gaps, size: int) -> None:
    _, exact, got = gaps[size]
    tail = exact >= P_VALUE_REL_FROM
    assert tail.sum() > 20
    assert np.max(np.abs(got[tail] - exact[tail]) / exact[tail]) <= P_VALUE_REL_BOUND


@pytest.mark.parametrize("size", SIZES)
def test_never_below_the_exact_p_value_up_to_0_1(gaps: Gaps, size: int) -> None:
    _, exact, got = gaps[size]
    low = exact <= 0.1
    assert low.sum() > 10
    assert np.all(got[low] >= exact[low] - 1e-12)


def test_the_gap_shrinks_with_the_size(gaps: Gaps) -> None:
    worst = [float(np.max(np.abs(gaps[s][2] - gaps[s][1]))) for s in (25, 96, 1_000)]
    assert worst[0] > worst[1] > worst[2]
    assert worst[2] < 3e-5


def test_the_grid_would_catch_stephens_form(gaps: Gaps) -> None:
    """The same grid rejects the cheaper correction the bound was chosen against."""
    d, exact, _ = gaps[96]
    stephens = special.kolmogorov(d * (math.sqrt(96) + 0.12 + 0.11 / math.sqrt(96)))
    assert np.max(np.abs(stephens - exact)) > 10 * P_VALUE_ABS_BOUND


@pytest.mark.parametrize("size", [1, 2, 5, 13, EXACT_BELOW - 1])
def test_small_effective_sizes_are_exact(size: int) -> None:
    n, m = (2 * size, 2 * size)
    for d in np.linspace(0.01, 0.99, 25):
        assert p_value(float(d), n, m) == stats.kstwo.sf(d, size)


def test_effective_size_is_rounded_like_scipys_asymptotic_two_sample_p_value() -> None:
    rng = np.random.default_rng(11)
    x, y = rng.normal(0, 1, 30), rng.normal(0.3, 1, 40)  # en = 17.1: the exact branch
    res = stats.ks_2samp(x, y, method="asymp")
    assert p_value(float(res.statistic), 30, 40) == pytest.approx(res.pvalue, rel=1e-12)
    x, y = rng.normal(0, 1, 100), rng.normal(0.3, 1, 2_400)  # en = 96: the corrected branch
    res = stats.ks_2samp(x, y, method="asymp")
    got = p_value(float(res.statistic), 100, 2_400)
    assert got == pytest.approx(res.pvalue, abs=P_VALUE_ABS_BOUND)
    assert got != res.pvalue


def test_edges_and_monotone_in_d() -> None:
    assert p_value(0.0, 100, 100) == 1.0
    assert p_value(-0.1, 100, 100) == 1.0
    assert p_value(1.0, 100, 100) == 0.0
    assert p_value(1.0, 3, 3) == 0.0
    for n, m in ((60, 60), (100, 2_400), (30_000, 40_000)):
        ps = [p_value(float(d), n, m) for d in np.linspace(0.001, 0.999, 400)]
        assert all(0.0 <= p <= 1.0 for p in ps)
        assert all(a >= b for a, b in itertools.pairwise(ps))
        assert ps[0] > 0.99
        assert ps[-1] < 1e-12
