"""Change-point onsets (`vigil.analysis.onset`): the Nile's 1898 dam, least squares against a
brute-force split, binary segmentation against ruptures, and the interval's coverage measured
over many seeds."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import ruptures  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.datasets import nile  # type: ignore[import-untyped]

from vigil.analysis.onset import (
    MAX_POINTS,
    Onset,
    binary_segmentation,
    estimate_onset,
    mean_shift_costs,
    noise_scale,
)
from vigil.errors import InvalidInputError

DAYS = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i) for i in range(2000)]


def _brute_costs(y: np.ndarray) -> np.ndarray:
    return np.array([np.var(y[:k]) * k + np.var(y[k:]) * (y.size - k) for k in range(1, y.size)])


def _interval(onset: Onset) -> tuple[dt.datetime, dt.datetime]:
    assert onset.low is not None
    assert onset.high is not None
    return onset.low, onset.high


def test_the_nile_drops_after_1898() -> None:
    """Nile flow at Aswan, 1871-1970 (statsmodels ships it): the dam begun in 1898; the flow's
    low level starts in 1899, the least-squares estimate in the literature (Cobb 1978)."""
    data = nile.load_pandas().data
    years = [int(y) for y in data["year"]]
    flow = data["volume"].to_numpy()
    onset = estimate_onset([dt.datetime(y, 1, 1, tzinfo=dt.UTC) for y in years], list(flow))
    assert onset.start is not None
    assert onset.low is not None
    assert onset.high is not None
    assert onset.start.year == 1899
    assert onset.low.year <= 1898 <= onset.high.year
    assert onset.high.year - onset.low.year <= 4
    split = years.index(1899)
    assert onset.before == pytest.approx(flow[:split].mean())
    assert onset.after == pytest.approx(flow[split:].mean())
    assert onset.before == pytest.approx(1097.75)
    assert onset.p_value is not None
    assert onset.p_value <= 0.01
    assert onset.n_points == 100
    assert onset.sentence().startswith("most likely began at 1899-01-01 (between 18")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=60))
def test_split_costs_are_the_brute_force_least_squares(values: list[float]) -> None:
    y = np.array(values)
    scale = 1.0 + float(np.dot(y, y))
    np.testing.assert_allclose(mean_shift_costs(y), _brute_costs(y), atol=1e-9 * scale)


@pytest.mark.parametrize("seed", range(40))
def test_binary_segmentation_breaks_where_ruptures_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 150))
    x = rng.normal(size=n)
    for at in rng.integers(1, n, size=3):
        x[at:] += rng.normal() * 3
    penalty = float(rng.uniform(0.5, 12.0))
    expected = ruptures.Binseg(model="l2", min_size=1, jump=1).fit(x).predict(pen=penalty)
    assert binary_segmentation(x, penalty) == expected


@pytest.mark.parametrize("seed", range(20))
def test_one_step_is_found_at_the_brute_force_split(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 120))
    at = int(rng.integers(3, n - 3))
    x = rng.normal(size=n)
    x[at:] += 4.0
    onset = estimate_onset(DAYS[:n], list(x))
    best = int(np.argmin(_brute_costs(x))) + 1
    assert onset.start == DAYS[best]
    assert onset.before == pytest.approx(x[:best].mean())
    assert onset.after == pytest.approx(x[best:].mean())


def test_the_noise_scale_is_the_differences_mad() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(scale=2.0, size=4000)
    x[2000:] += 50.0  # one step barely moves it
    assert noise_scale(x) == pytest.approx(2.0, rel=0.05)
    d = np.diff(x)
    mad = np.median(np.abs(d - np.median(d))) / 0.6744897501960817
    assert noise_scale(x) == pytest.approx(mad / math.sqrt(2))


def _coverage(delta: float, n: int, seeds: int) -> tuple[float, float]:
    """(share of series with an onset, share of those whose interval holds the true step)."""
    found = covered = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        at = int(rng.integers(5, n - 4))
        x = rng.normal(size=n)
        x[at:] += delta
        onset = estimate_onset(DAYS[:n], list(x))
        if onset.low is not None and onset.high is not None:
            found += 1
            covered += onset.low <= DAYS[at] <= onset.high
    return found / seeds, covered / max(found, 1)


@pytest.mark.parametrize(
    ("delta", "n", "least_found", "least_coverage"),
    # Measured over these 300 seeds: found 0.99 / 1.0, coverage 0.966 / 0.977 (level 0.95).
    [(2.0, 60, 0.95, 0.94), (3.0, 60, 0.97, 0.95)],
)
def test_the_interval_holds_a_clear_step_at_about_its_level(
    delta: float, n: int, least_found: float, least_coverage: float
) -> None:
    found, coverage = _coverage(delta, n, 300)
    assert found >= least_found
    assert coverage >= least_coverage


def test_noise_alone_rarely_gives_an_onset() -> None:
    """At alpha 0.05; measured 0.067 (n=30) and 0.05 (n=60) over these seeds: the stretch is
    sometimes cut by a chance break, which makes the test a little optimistic."""
    for n in (30, 60):
        found = sum(
            estimate_onset(DAYS[:n], list(np.random.default_rng(s).normal(size=n))).found
            for s in range(300)
        )
        assert found / 300 <= 0.08


def test_a_weak_step_gives_a_wide_interval_or_none() -> None:
    x = np.random.default_rng(0).normal(size=60)
    x[30:] += 0.5
    onset = estimate_onset(DAYS[:60], list(x))
    if onset.found:
        low, high = _interval(onset)
        assert high - low >= dt.timedelta(days=10)


def test_the_latest_of_several_changes() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=120)
    x[20:50] += 5.0  # an earlier incident, over
    x[100:] += 5.0
    onset = estimate_onset(DAYS[:120], list(x))
    assert onset.start == DAYS[100]
    assert onset.before == pytest.approx(x[50:100].mean())


def test_gaps_are_skipped_and_counted() -> None:
    rng = np.random.default_rng(1)
    x = list(rng.normal(size=40))
    for i in range(20, 40):
        x[i] += 4.0
    gappy: list[float | None] = list(x)
    gappy[3], gappy[25], gappy[30] = None, math.nan, math.inf
    kept = [i for i in range(40) if i not in (3, 25, 30)]
    with_gaps = estimate_onset(DAYS[:40], gappy)
    without = estimate_onset([DAYS[i] for i in kept], [x[i] for i in kept])
    assert with_gaps.missing == 3
    assert with_gaps.n_points == 37
    assert with_gaps.start == without.start == DAYS[20]
    assert (with_gaps.low, with_gaps.high) == (without.low, without.high)


def test_order_of_the_input_does_not_matter() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=30)
    x[18:] += 3.0
    order = rng.permutation(30)
    shuffled = estimate_onset([DAYS[i] for i in order], [float(x[i]) for i in order])
    assert shuffled == estimate_onset(DAYS[:30], list(x))


def test_at_most_the_latest_max_points_are_read() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=1500)
    x[:200] += 10.0  # outside the latest 500: not seen
    x[1400:] += 4.0
    onset = estimate_onset(DAYS[:1500], list(x))
    assert onset.n_points == MAX_POINTS
    assert onset.start == DAYS[1400]
    assert onset.before == pytest.approx(x[1000:1400].mean())


def test_short_and_constant_series_have_no_onset_and_say_why() -> None:
    short = estimate_onset(DAYS[:3], [1.0, 5.0, 9.0])
    assert not short.found
    assert short.reason == "3 values; an onset needs at least 4"
    assert short.sentence() == "no clear onset: 3 values; an onset needs at least 4"
    gappy = estimate_onset(DAYS[:6], [1.0, None, None, math.nan, 2.0, 3.0])
    assert not gappy.found
    assert gappy.n_points == 3
    assert gappy.missing == 3
    constant = estimate_onset(DAYS[:50], [0.25] * 50)
    assert not constant.found
    assert constant.reason == "the series is constant"
    assert estimate_onset([], []).reason == "0 values; an onset needs at least 4"


def test_a_noiseless_step_is_exact() -> None:
    onset = estimate_onset(DAYS[:10], [0.0] * 6 + [1.0] * 4)
    assert (onset.start, onset.low, onset.high) == (DAYS[6], DAYS[6], DAYS[6])
    assert (onset.before, onset.after) == (0.0, 1.0)
    assert dt.datetime.fromisoformat(onset.to_dict()["start"]) == DAYS[6]


def test_bad_input_is_refused_with_the_value() -> None:
    with pytest.raises(InvalidInputError, match="3 time stamps for 2 values"):
        estimate_onset(DAYS[:3], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="level must be between 0 and 1.*1.5"):
        estimate_onset(DAYS[:3], [1.0, 2.0, 3.0], level=1.5)
    with pytest.raises(InvalidInputError, match="alpha must be between 0 and 1.*0"):
        estimate_onset(DAYS[:3], [1.0, 2.0, 3.0], alpha=0.0)
    with pytest.raises(InvalidInputError, match="appears twice"):
        estimate_onset([DAYS[0], DAYS[0]], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="max_points must be at least 4, got 2"):
        estimate_onset(DAYS[:3], [1.0, 2.0, 3.0], max_points=2)


def test_a_wider_level_gives_a_wider_interval() -> None:
    x = np.random.default_rng(9).normal(size=80)
    x[40:] += 1.5
    narrow = estimate_onset(DAYS[:80], list(x), level=0.5)
    wide = estimate_onset(DAYS[:80], list(x), level=0.99)
    (wide_low, wide_high), (narrow_low, narrow_high) = _interval(wide), _interval(narrow)
    assert wide_low <= narrow_low
    assert narrow_high <= wide_high
    assert (wide_high - wide_low) > (narrow_high - narrow_low)


def test_importing_it_loads_neither_scipy_nor_ruptures() -> None:
    code = (
        "import sys, vigil.analysis.onset\n"
        "print(sorted(m for m in ('scipy', 'ruptures') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_its_json_reads_back() -> None:
    x = np.random.default_rng(5).normal(size=40)
    x[25:] += 3.0
    onset = estimate_onset(DAYS[:40], list(x))
    assert onset.found
    assert Onset.model_validate(json.loads(json.dumps(onset.to_dict()))) == onset
    none = estimate_onset(DAYS[:3], [1.0, 2.0, 3.0])
    assert Onset.model_validate(none.to_dict()) == none


def test_a_lone_last_value_gives_way_to_the_change_before_it() -> None:
    """Drift shares 0, then 1/3 from window 10, then 2/3 in the last window alone: one value
    cannot confirm a change, so the onset is the step at window 10."""
    onset = estimate_onset(DAYS[:26], [0.0] * 10 + [1 / 3] * 15 + [2 / 3])
    assert (onset.start, onset.low, onset.high) == (DAYS[10], DAYS[10], DAYS[10])
    assert onset.before == 0.0
    assert onset.after == pytest.approx((15 / 3 + 2 / 3) / 16)
