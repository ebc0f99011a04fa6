"""The profile path's KS p-value accounts for the sketches' rank error.

`ks_from_profiles` reads D from two KLL sketches; `sketch_p_value` takes a share of the estimating
sketches' error bound off D before reading `p_value`. Checked here: exact sketches (at most k
values) give `p_value(d, n, m)` on the raw D, bit for bit; under no drift at en = 5,000 the old
p-value (D as read) flags ~25% of pairs at 0.05 and the new one at most its nominal rate; a clear
shift is still found.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from vigil.analysis.drift.ks import (
    SHARE_AT,
    SHARE_PER_DECADE,
    SKETCH_ERROR_SHARE,
    error_share,
    ks_from_profiles,
    p_value,
    sketch_allowance,
    sketch_p_value,
)
from vigil.profile.columns.numeric import NumericColumn
from vigil.profile.sketches import QuantileSketch


def _col(x: np.ndarray) -> NumericColumn:
    return NumericColumn.of(pa.array(x))


def test_allowance_is_zero_exactly_while_the_kll_holds_every_value() -> None:
    rng = np.random.default_rng(1)
    k = QuantileSketch.K
    for n in (1, 50, k - 1, k, k + 1, 2_000):
        column = _col(rng.normal(size=n))
        # datasketches' own flag (the private sketch: QuantileSketch does not expose it)
        estimating = column.quantiles._sketch.is_estimation_mode()
        assert estimating == (n > k), n
        expected = error_share(n) * column.quantiles.pmf_error if estimating else 0.0
        assert sketch_allowance(column) == expected
    # 0.25 x the KLL k=200 PMF error (1.65%) at 10,000 values, 0.22 x at 5,000, 0.35 x at 100,000
    assert sketch_allowance(_col(rng.normal(size=5_000))) == pytest.approx(0.22 * 0.0165, abs=2e-4)
    big = _col(rng.normal(size=100_000))
    assert sketch_allowance(big) == pytest.approx(0.35 * big.quantiles.pmf_error, rel=1e-12)
    # merges: exact as long as the merged count is at most k
    for a, b in ((100, 100), (150, 60), (199, 1), (150, 150)):
        merged = QuantileSketch.of(rng.normal(size=a)).merge(QuantileSketch.of(rng.normal(size=b)))
        assert merged._sketch.is_estimation_mode() == (a + b > k), (a, b)


def test_exact_sketches_give_the_raw_statistic_and_p_value() -> None:
    rng = np.random.default_rng(2)
    for n, m, shift in ((30, 60, 0.0), (200, 150, 0.3), (120, 200, 1.0), (7, 200, 0.0)):
        x, y = rng.normal(size=n), rng.normal(shift, 1.0, size=m)
        got = ks_from_profiles(_col(x), _col(y))
        raw = stats.ks_2samp(x.astype(np.float32), y.astype(np.float32))
        assert got.statistic == pytest.approx(raw.statistic, abs=1e-12)
        assert got.p_value == p_value(got.statistic, n, m)
        assert got.p_value == pytest.approx(p_value(float(raw.statistic), n, m), rel=1e-12)


def test_one_exact_sketch_counts_only_the_other_ones_error() -> None:
    rng = np.random.default_rng(3)
    small, large = _col(rng.normal(size=150)), _col(rng.normal(0.5, 1.0, size=3_000))
    got = ks_from_profiles(small, large)
    allowance = error_share(3_000) * large.quantiles.pmf_error
    assert allowance == pytest.approx(0.198 * 0.0165, abs=2e-4)
    assert got.p_value == p_value(max(0.0, got.statistic - allowance), 150, 3_000)
    assert got.p_value > p_value(got.statistic, 150, 3_000)


def test_sketch_p_value_takes_the_allowance_off_d() -> None:
    for d, n, m in ((0.05, 1_000, 2_000), (0.02, 10_000, 10_000), (0.3, 40, 80)):
        assert sketch_p_value(d, n, m, 0.0) == p_value(d, n, m)
        assert sketch_p_value(d, n, m, 0.01) == p_value(d - 0.01, n, m)
        assert sketch_p_value(d, n, m, 0.01) > p_value(d, n, m)
    assert sketch_p_value(0.01, 10_000, 10_000, 0.01) == 1.0  # the whole gap is sketch error


def test_error_share_moves_by_a_tenth_per_decade_from_ten_thousand() -> None:
    assert error_share(SHARE_AT) == SKETCH_ERROR_SHARE == 0.25
    assert SHARE_PER_DECADE == 0.10
    assert error_share(1) == error_share(10) == 0.0  # floored (such sketches are exact anyway)
    for count, share in ((201, 0.08032), (1_000, 0.15), (100_000, 0.35), (1_000_000, 0.45)):
        assert error_share(count) == pytest.approx(share, abs=1e-5), count


def _rejections(shift: float, pairs: int, seed: int) -> tuple[int, int]:
    """Pairs of 10,000 x 10,000 rows (en = 5,000) flagged at 0.05: new p-value, D read as is."""
    new = old = 0
    for rep in range(pairs):
        rng = np.random.default_rng([seed, rep])
        x, y = _col(rng.normal(size=10_000)), _col(rng.normal(shift, 1.0, size=10_000))
        res = ks_from_profiles(x, y)
        assert res.p_value is not None
        new += res.p_value < 0.05
        old += p_value(res.statistic, 10_000, 10_000) < 0.05
    return new, old


PAIRS = 600
MAX_RATE = 0.10


def test_no_drift_false_alarms_are_nominal_at_en_5000() -> None:
    """600 independent no-drift pairs at en = 5,000. The new rate was measured at 1-3% (the raw
    D's: 5%); P(Binomial(600, 0.05) >= 60), the chance this fails were the true rate even 5%,
    is `stats.binom.sf(59, 600, 0.05)` = 4.2e-7. The old rate (D as read: 20-27% measured) is
    asserted above 12%: P(Binomial(600, 0.20) <= 72) = 1.4e-7, so the test tells them apart."""
    assert stats.binom.sf(PAIRS * MAX_RATE - 1, PAIRS, 0.05) < 1e-6
    assert stats.binom.cdf(PAIRS * 0.12, PAIRS, 0.20) < 1e-6
    new, old = _rejections(0.0, PAIRS, seed=29)
    assert new < PAIRS * MAX_RATE, (new, old)
    assert old > PAIRS * 0.12, (new, old)


def test_a_clear_shift_is_still_found_at_en_5000() -> None:
    """A shift of 0.1 sd (D ~ 0.04, twice the KS critical gap 0.019): measured power ~99%.
    Asserting 180 of 200: P(Binomial(200, 0.97) < 180) = 1e-7."""
    pairs = 200
    assert stats.binom.cdf(179, pairs, 0.97) < 1e-6
    new, _ = _rejections(0.1, pairs, seed=31)
    assert new >= 180, new


def test_the_allowance_covers_the_measured_sketch_error() -> None:
    """What the guarantee rests on, at one size: D_profile - D_raw <= the allowance (0.25 e) in
    at least 80 of 100 no-drift pairs of 10,000 rows. Measured: 94.3% of 900 pairs (largest
    0.41 e); P(Binomial(100, 0.943) < 80) = 1.7e-7. (Where it does not hold, D_raw is rarely
    near the critical gap: the false-alarm rate stays below 5%.)"""
    inside = 0
    for rep in range(100):
        rng = np.random.default_rng([37, rep])
        x, y = rng.normal(size=10_000), rng.normal(size=10_000)
        cx, cy = _col(x), _col(y)
        d = ks_from_profiles(cx, cy).statistic
        raw = stats.ks_2samp(x.astype(np.float32), y.astype(np.float32)).statistic
        allowance = sketch_allowance(cx) + sketch_allowance(cy)
        inside += d - raw <= allowance
    assert inside >= 80, inside
    assert math.isclose(allowance, 0.25 * 2 * 0.0165, abs_tol=3e-4)
