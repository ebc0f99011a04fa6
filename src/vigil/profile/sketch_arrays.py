"""Queries of a `QuantileSketch` answered as NumPy arrays.

`QuantileSketch.quantiles`, `cdf` and `pmf` answer Python lists, rebuilt value by value; the
drift statistics turn each straight into an array, several times per column and tick (a KS grid
of ~800 points, 1,000 effect quantiles). These answer the same values, bit for bit, as a float64
array made from the native answer in one step:

    cdf(column.quantiles, points)  # == np.asarray(column.quantiles.cdf(points))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vigil.profile.sketches import FloatArray, QuantileSketch

Points = Sequence[float] | FloatArray
"""Quantile ranks or split points: a list (passed as it is), a tuple or a float array."""


def quantiles(sketch: QuantileSketch, qs: Points) -> FloatArray:
    """`np.asarray(sketch.quantiles(qs), dtype=np.float64)`: NaN for each q when empty."""
    if sketch.is_empty:
        return np.full(len(qs), np.nan)
    return np.asarray(sketch.native.get_quantiles(_as_list(qs)), dtype=np.float64)


def cdf(sketch: QuantileSketch, split_points: Points) -> FloatArray:
    """`np.asarray(sketch.cdf(split_points), dtype=np.float64)`: the share of values <= each
    point, and 1.0 appended."""
    return np.asarray(sketch.native.get_cdf(_as_list(split_points), True), dtype=np.float64)


def pmf(sketch: QuantileSketch, split_points: Points) -> FloatArray:
    """`np.asarray(sketch.pmf(split_points), dtype=np.float64)`: the shares of the
    len(split_points) + 1 intervals (-inf, p0], (p0, p1], ..., (p_last, inf)."""
    return np.asarray(sketch.native.get_pmf(_as_list(split_points), True), dtype=np.float64)


def _as_list(values: Points) -> list[float]:
    if isinstance(values, list):
        return values
    if isinstance(values, np.ndarray):
        listed: list[float] = values.tolist()
        return listed
    return list(values)
