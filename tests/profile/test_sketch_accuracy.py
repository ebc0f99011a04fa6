"""Sketch answers stay within the error bounds the sketches state, on several distributions."""

from __future__ import annotations

import numpy as np
import pytest

import vigil
from vigil.profile import NumericColumn, StringColumn
from vigil.profile.sketches import EXACT_COUNT_LIMIT, QuantileSketch

N = 200_000
QS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def _distributions() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    return {
        "normal": rng.normal(0, 1, N),
        "lognormal": rng.lognormal(0, 2, N),
        "uniform": rng.uniform(-5, 5, N),
        "bimodal": np.concatenate([rng.normal(-3, 0.5, N // 2), rng.normal(4, 1, N - N // 2)]),
        "pareto": rng.pareto(1.5, N),
        "discrete": rng.integers(0, 7, N).astype(np.float64),
    }


@pytest.mark.parametrize("name", list(_distributions()))
def test_quantile_rank_error_within_bound(name: str) -> None:
    values = _distributions()[name]
    column = vigil.profile({"v": values}).columns["v"]
    assert isinstance(column, NumericColumn)
    ordered = np.sort(values)
    bound = column.quantiles.rank_error
    for q in QS:
        answer = column.quantile(q)
        # The answer's true rank range (ties make it an interval) must come within the bound of q.
        low = np.searchsorted(ordered, answer, side="left") / N
        high = np.searchsorted(ordered, answer, side="right") / N
        gap = 0.0 if low <= q <= high else min(abs(low - q), abs(high - q))
        assert gap <= bound, (name, q, low, high, bound)


def test_stated_rank_error_matches_datasketches_k200() -> None:
    sketch = QuantileSketch.of(np.arange(10_000, dtype=np.float64), "float32")
    assert sketch.rank_error == pytest.approx(0.0133, abs=5e-4)
    assert sketch.pmf_error == pytest.approx(0.0165, abs=5e-4)


def test_histogram_counts_add_up_and_follow_the_data() -> None:
    values = _distributions()["uniform"]
    column = vigil.profile({"v": values}).columns["v"]
    assert isinstance(column, NumericColumn)
    hist = column.histogram(10)
    assert len(hist.edges) == 11
    assert sum(hist.counts) == pytest.approx(N, rel=1e-9)
    exact, _ = np.histogram(values, bins=np.array(hist.edges))
    assert np.max(np.abs(np.array(hist.counts) - exact)) / N <= column.quantiles.pmf_error


@pytest.mark.parametrize("cardinality", [5, 999, 5_000, 120_000])
def test_distinct_counts_exact_then_within_cpc_bounds(cardinality: int) -> None:
    rng = np.random.default_rng(cardinality)
    values = np.concatenate([np.arange(cardinality), rng.integers(0, cardinality, 50_000)])
    column = vigil.profile({"c": values.astype(str)}).columns["c"]
    assert isinstance(column, StringColumn)
    if cardinality <= EXACT_COUNT_LIMIT:
        assert column.distinct_is_exact
        assert column.distinct == cardinality
    else:
        assert not column.distinct_is_exact
        low, high = column.distinct_sketch.bounds(3)
        assert low <= cardinality <= high
        assert abs(column.distinct - cardinality) / cardinality < 0.05


def test_frequent_items_find_heavy_hitters_beyond_exact_limit() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    tail = rng.integers(0, 50_000, n).astype(str)
    heavy = np.array(["HEAVY"] * 20_000 + ["MEDIUM"] * 8_000)
    values = np.concatenate([tail, heavy])
    column = vigil.profile({"c": values}).columns["c"]
    assert isinstance(column, StringColumn)
    assert not column.categories.is_exact
    top = column.categories.top(2)
    assert [item.value for item in top] == ["HEAVY", "MEDIUM"]
    total = values.size
    for item, truth in zip(top, (20_000, 8_000), strict=True):
        assert item.lower <= truth <= item.upper
        assert abs(item.count - truth) <= column.categories.epsilon * total
