"""`vigil.profile.sketch_arrays`: the same values as `QuantileSketch`'s list queries, bit for bit
(dtype float64, NaN where they give NaN), for sketches exact and estimating, float32 and float64,
with ties, one value, none, and for points given as a list, a tuple or an array."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.profile import sketch_arrays
from vigil.profile.sketches import FloatArray, QuantileSketch


def _sketches() -> dict[str, QuantileSketch]:
    rng = np.random.default_rng(7)
    normal = rng.normal(3.0, 2.0, 20_000)
    return {
        "empty": QuantileSketch.zero("float32"),
        "one value": QuantileSketch.of(np.array([2.5]), "float32"),
        "exact float32": QuantileSketch.of(rng.normal(0, 1, 150), "float32"),
        "estimating float32": QuantileSketch.of(normal, "float32"),
        "estimating float64": QuantileSketch.of(normal * 1e6, "float64"),
        "integer ties": QuantileSketch.of(rng.integers(0, 4, 5_000).astype(float), "float32"),
        "merged": QuantileSketch.of(normal[:9_000], "float32").merge(
            QuantileSketch.of(normal[9_000:], "float32")
        ),
    }


SKETCHES = _sketches()
QS = tuple(((np.arange(400) + 0.5) / 400).tolist())
POINTS = tuple(np.linspace(-6.0, 12.0, 801).astype(np.float32).astype(np.float64).tolist())


def same(got: FloatArray, expected: list[float]) -> None:
    want = np.asarray(expected, dtype=np.float64)
    assert got.dtype == np.float64
    assert got.shape == want.shape
    assert got.tobytes() == want.tobytes()  # bits: -0.0, NaN and every last digit


def _forms(values: Sequence[float]) -> list[sketch_arrays.Points]:
    return [tuple(values), list(values), np.asarray(values, dtype=np.float64)]


@pytest.mark.parametrize("name", list(SKETCHES))
def test_quantiles_are_the_lists_values(name: str) -> None:
    sketch = SKETCHES[name]
    for qs in _forms(QS):
        same(sketch_arrays.quantiles(sketch, qs), sketch.quantiles(QS))
    same(sketch_arrays.quantiles(sketch, ()), sketch.quantiles(()))


@pytest.mark.parametrize("name", [n for n in SKETCHES if n != "empty"])
@pytest.mark.parametrize("query", ["cdf", "pmf"])
def test_cdf_and_pmf_are_the_lists_values(name: str, query: str) -> None:
    sketch = SKETCHES[name]
    listed: Callable[[Sequence[float]], list[float]] = getattr(sketch, query)
    arrayed = getattr(sketch_arrays, query)
    for points in _forms(POINTS):
        same(arrayed(sketch, points), listed(POINTS))
    same(arrayed(sketch, []), listed([]))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=600),
    points=st.lists(st.floats(-2e6, 2e6, allow_nan=False, width=32), max_size=50),
    qs=st.lists(st.floats(0.0, 1.0), max_size=50),
)
def test_any_sketch_any_points(values: list[float], points: list[float], qs: list[float]) -> None:
    sketch = QuantileSketch.of(np.asarray(values, dtype=np.float64), "float32")
    points = sorted(set(points))
    same(sketch_arrays.quantiles(sketch, qs), sketch.quantiles(qs))
    same(sketch_arrays.cdf(sketch, points), sketch.cdf(points))
    same(sketch_arrays.pmf(sketch, points), sketch.pmf(points))
