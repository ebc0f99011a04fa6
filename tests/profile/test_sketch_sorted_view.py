"""`vigil.profile.sketch_arrays.sorted_view`: a sketch's quantiles and CDF read from its sorted
view are the native sketch's answers, bit for bit, for sketches exact and estimating, float32
and float64, one value, ties, merged, and any values (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.profile import sketch_arrays
from vigil.profile.sketches import FloatArray, QuantileSketch


def _sketches() -> dict[str, QuantileSketch]:
    rng = np.random.default_rng(11)
    normal = rng.normal(3.0, 2.0, 20_000)
    return {
        "one value": QuantileSketch.of(np.array([2.5]), "float32"),
        "one value float64": QuantileSketch.of(np.array([-0.0]), "float64"),
        "exact float32": QuantileSketch.of(rng.normal(0, 1, 150), "float32"),
        "exact full": QuantileSketch.of(rng.normal(0, 1, 200), "float32"),
        "just estimating": QuantileSketch.of(rng.normal(0, 1, 201), "float32"),
        "estimating float32": QuantileSketch.of(normal, "float32"),
        "estimating float64": QuantileSketch.of(normal * 1e6, "float64"),
        "integer ties": QuantileSketch.of(rng.integers(0, 4, 5_000).astype(float), "float32"),
        "merged": QuantileSketch.merge_all(
            [QuantileSketch.of(normal[i : i + 700], "float32") for i in range(0, 7_000, 700)]
        ),
        "merged exact": QuantileSketch.merge_all(
            [QuantileSketch.of(normal[i : i + 40], "float32") for i in range(0, 160, 40)]
        ),
    }


SKETCHES = _sketches()
QS = np.concatenate([(np.arange(1000) + 0.5) / 1000, [0.0, 1.0, 1e-12, 1 - 1e-12, 0.5]])


def same(got: FloatArray, want: FloatArray, *, zeros: bool = False) -> None:
    """Bit for bit; with `zeros`, a 0.0 may be a -0.0 (a sketch holding both: they are equal,
    and which of them sorts first among equals is the sort's choice, native or NumPy's)."""
    assert got.dtype == np.float64
    assert got.shape == want.shape
    if zeros:
        assert np.array_equal(got, want)
        got, want = got[want != 0], want[want != 0]
    assert got.tobytes() == want.tobytes()  # bits: every last digit


def _points(sketch: QuantileSketch, extra: FloatArray) -> list[float]:
    """Increasing split points: the sketch's own quantiles (its values), between and beyond."""
    own = sketch_arrays.quantiles(sketch, QS)
    mixed = np.concatenate([own, own + 1e-3, extra]).astype(np.float32).astype(np.float64)
    return sorted(set(mixed[np.isfinite(mixed)].tolist()))


@pytest.mark.parametrize("name", list(SKETCHES))
def test_the_native_answers(name: str) -> None:
    sketch = SKETCHES[name]
    view = sketch_arrays.sorted_view(sketch)
    assert view.n == sketch.n
    same(view.quantiles(QS), sketch_arrays.quantiles(sketch, QS))
    same(view.quantiles(tuple(QS.tolist())), sketch_arrays.quantiles(sketch, QS))
    points = _points(sketch, np.linspace(-10.0, 1e7, 50))
    same(view.cdf(points), sketch_arrays.cdf(sketch, points))
    same(view.cdf(np.asarray(points)), sketch_arrays.cdf(sketch, points))
    same(view.cdf([]), sketch_arrays.cdf(sketch, []))


def test_an_empty_sketch_has_none() -> None:
    with pytest.raises(ValueError, match="empty"):
        sketch_arrays.sorted_view(QuantileSketch.zero("float32"))


@settings(max_examples=80, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=400),
        min_size=1,
        max_size=4,
    ),
    precision=st.sampled_from(["float32", "float64"]),
    points=st.lists(st.floats(-2e6, 2e6, allow_nan=False, width=32), max_size=40),
    qs=st.lists(st.floats(0.0, 1.0), max_size=40),
)
def test_any_merged_sketch(
    parts: list[list[float]], precision: str, points: list[float], qs: list[float]
) -> None:
    """A merge of sketches of any values (ties, repeats, both precisions, estimating when they
    hold more than k values): the view answers as the sketch does (a zero's sign aside)."""
    sketch = QuantileSketch.merge_all(
        [QuantileSketch.of(np.asarray(p, dtype=np.float64), precision) for p in parts]  # type: ignore[arg-type]
    )
    view = sketch_arrays.sorted_view(sketch)
    same(view.quantiles(qs), sketch_arrays.quantiles(sketch, qs), zeros=True)
    split = _points(sketch, np.asarray(points, dtype=np.float64))
    same(view.cdf(split), sketch_arrays.cdf(sketch, split))
