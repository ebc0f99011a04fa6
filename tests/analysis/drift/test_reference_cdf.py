"""The KS test's reference CDF (`ks._reference_cdf`): an exact reference sketch is read from its
sorted view, memoised with the reference; an estimating one natively. Either way the answers are
bit for bit the native query's on the same points, with or without the memo, on a first use and
on a later one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from vigil.analysis.drift import ks
from vigil.analysis.drift.reference_memo import ReferenceMemo, nbytes
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray, QuantileSketch


def column(values: list[float] | FloatArray) -> NumericColumn:
    found = vigil.profile({"x": np.asarray(values, dtype=np.float64)}).columns["x"]
    assert isinstance(found, NumericColumn)
    return found


def native(ref: NumericColumn, points: FloatArray) -> bytes:
    return sketch_arrays.cdf(ref.quantiles, points.tolist()).tobytes()


def the_points(ref: NumericColumn, cur: NumericColumn) -> FloatArray:
    return ks.grid_points(ref, cur, cur_view=sketch_arrays.sorted_view(cur.quantiles))


numbers = st.integers(-5, 5) | st.floats(-1e6, 1e6) | st.sampled_from([0.0, -0.0])


@settings(max_examples=60, deadline=None)
@given(
    ref=st.lists(numbers, min_size=1, max_size=QuantileSketch.K),
    cur=st.lists(numbers, min_size=1, max_size=300),
)
def test_an_exact_reference_answers_the_native_cdf_and_is_memoised(
    ref: list[float], cur: list[float]
) -> None:
    reference, current = column(ref), column(cur)
    points = the_points(reference, current)
    expected = native(reference, points)
    assert ks._reference_cdf(reference, points).tobytes() == expected  # no memo
    memo = ReferenceMemo()
    with memo.active():
        first = ks._reference_cdf(reference, points).tobytes()
        hits = memo.hits
        again = ks._reference_cdf(reference, points).tobytes()
    assert first == again == expected
    assert memo.hits == hits + 1  # the second read came from the memo


def test_an_estimating_reference_is_asked_natively_and_not_kept() -> None:
    rng = np.random.default_rng(7)
    reference = column(rng.normal(0, 1, 5_000))
    current = column(rng.normal(0.1, 1, 300))
    assert reference.quantiles.n > QuantileSketch.K
    points = the_points(reference, current)
    memo = ReferenceMemo()
    with memo.active():
        found = ks._reference_cdf(reference, points).tobytes()
    assert found == native(reference, points)
    assert len(memo) == 0  # no sorted view kept for it


def test_the_ks_result_is_the_same_with_the_reference_read_natively() -> None:
    rng = np.random.default_rng(8)
    reference = column(rng.normal(0, 1, 150))
    for current in (column(rng.normal(0, 1, 90)), column(rng.normal(1, 2, 150))):
        points = the_points(reference, current)
        g = sketch_arrays.sorted_view(current.quantiles).cdf(points)[:-1]
        f = sketch_arrays.cdf(reference.quantiles, points.tolist())[:-1]
        with ReferenceMemo().active():
            for _ in range(2):
                assert ks.ks_from_profiles(reference, current).statistic == float(
                    np.max(np.abs(f - g))
                )


def test_a_sorted_view_is_counted_by_its_arrays() -> None:
    view = sketch_arrays.sorted_view(column(np.arange(150.0)).quantiles)
    assert nbytes(view) >= view.values.nbytes
    estimating = sketch_arrays.sorted_view(column(np.arange(50_000.0)).quantiles)
    assert estimating.cumulative is not None
    assert nbytes(estimating) >= estimating.values.nbytes + estimating.cumulative.nbytes
