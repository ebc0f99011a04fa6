"""The KS test and the effect size read the current window's sketch from its sorted view
(`vigil.profile.sketch_arrays.sorted_view`); their reports are bit for bit those of the native
queries on the same profiles, for every profile-path method, with and without the reference
memo, charts included (the sketches' coins do not enter: the same objects both ways)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import vigil
from tests.analysis.drift.test_reference_memo import (
    PROFILE_METHODS,
    fingerprint,
    profiles,
    reports_both_ways,
)
from vigil.analysis.drift import drift
from vigil.profile import sketch_arrays
from vigil.profile.sketches import FloatArray, QuantileSketch


class _NativeView:
    """A stand-in for the sorted view that asks the native sketch each query."""

    def __init__(self, sketch: QuantileSketch) -> None:
        self.sketch = sketch
        self.used = 0

    def quantiles(self, qs: sketch_arrays.Points) -> FloatArray:
        self.used += 1
        return sketch_arrays.quantiles(self.sketch, qs)

    def cdf(self, points: sketch_arrays.Points) -> FloatArray:
        self.used += 1
        return sketch_arrays.cdf(self.sketch, points)


@pytest.mark.parametrize("method", PROFILE_METHODS)
@pytest.mark.parametrize(("n_ref", "n_cur"), [(2_400, 100), (20_000, 2_000), (150, 40)])
def test_reports_equal_those_of_the_native_queries(
    method: str | None, n_ref: int, n_cur: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, currents = profiles(n_ref, n_cur)
    options: dict[str, Any] = {"method": method} if method else {}

    viewed = reports_both_ways(reference, currents, options)
    made: list[_NativeView] = []

    def native_view(sketch: QuantileSketch) -> Any:
        made.append(_NativeView(sketch))
        return made[-1]

    with monkeypatch.context() as patched:
        patched.setattr(sketch_arrays, "sorted_view", native_view)
        native = reports_both_ways(reference, currents, options)
    assert viewed == native
    if method is None:  # the default KS test and effect size read through the view
        assert made
        assert all(v.used for v in made)


def test_a_window_of_zeros_of_both_signs() -> None:
    """A current window holding 0.0 and -0.0: the statistics do not depend on which of the two
    the view sorts first."""
    rng = np.random.default_rng(5)
    reference = {"x": rng.normal(0, 1, 3_000)}
    current = {"x": np.concatenate([np.zeros(40), -np.zeros(40), rng.normal(0, 1, 40)])}
    ref, cur = vigil.profile(reference), vigil.profile(current)
    viewed = fingerprint(drift(ref, cur))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sketch_arrays, "sorted_view", _NativeView)
        assert fingerprint(drift(ref, cur)) == viewed
