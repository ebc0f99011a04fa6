"""The drift statistics read sketches through `vigil.profile.sketch_arrays`; their reports are
bit for bit those of the list queries they replaced (`np.asarray(sketch.cdf(points))` and
the like), for every profile-path method, with and without the reference memo, charts included.
The same profile objects are compared both ways, so the KLL sketches' coins do not enter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from tests.analysis.drift.test_reference_memo import (
    PROFILE_METHODS,
    profiles,
    reports_both_ways,
)
from vigil.profile import sketch_arrays
from vigil.profile.sketches import FloatArray, QuantileSketch


def _listed_quantiles(sketch: QuantileSketch, qs: Sequence[float]) -> FloatArray:
    return np.asarray(sketch.quantiles(qs), dtype=np.float64)


def _listed_cdf(sketch: QuantileSketch, points: Sequence[float]) -> FloatArray:
    return np.asarray(sketch.cdf(points))


def _listed_pmf(sketch: QuantileSketch, points: Sequence[float]) -> FloatArray:
    return np.asarray(sketch.pmf(points), dtype=np.float64)


@pytest.mark.parametrize("method", PROFILE_METHODS)
@pytest.mark.parametrize(("n_ref", "n_cur"), [(2_400, 100), (20_000, 2_000), (150, 40)])
def test_reports_equal_those_of_the_list_queries(
    method: str | None, n_ref: int, n_cur: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, currents = profiles(n_ref, n_cur)
    options: dict[str, Any] = {"method": method} if method else {}

    arrays = reports_both_ways(reference, currents, options)
    with monkeypatch.context() as patched:
        patched.setattr(sketch_arrays, "quantiles", _listed_quantiles)
        patched.setattr(sketch_arrays, "cdf", _listed_cdf)
        patched.setattr(sketch_arrays, "pmf", _listed_pmf)
        lists = reports_both_ways(reference, currents, options)
    assert arrays == lists
