"""Queries of a `QuantileSketch` answered as NumPy arrays.

`QuantileSketch.quantiles`, `cdf` and `pmf` answer Python lists, rebuilt value by value; the
drift statistics turn each straight into an array, several times per column and tick (a KS grid
of ~800 points, 1,000 effect quantiles). These answer the same values, bit for bit, as a float64
array made from the native answer in one step:

    cdf(column.quantiles, points)  # == np.asarray(column.quantiles.cdf(points))

A sketch read many times (a window's column: the KS grid, its CDF on the grid, the effect size's
1,000 quantiles) is answered faster from its `SortedView`: the retained values in order with
their cumulative weights, read from the sketch's serialised form in one step, which the native
sketch answers its queries from too. Its answers are the same, bit for bit (the same rank
arithmetic on the same values; but a sketch holding both 0.0 and -0.0 may answer either, equal
as numbers, where the native one answers the other), without a Python list each way:

    view = sorted_view(column.quantiles)
    view.quantiles(qs)  # == quantiles(column.quantiles, qs)
    view.cdf(points)    # == cdf(column.quantiles, points)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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


# The KLL serialisation (DataSketches, all languages): byte 1 its version, byte 2 the sketch
# family (15), byte 3 flags, a single item after 8 bytes;
# else n (uint64) at 8, the number of levels (uint8) at 18, the levels' offsets (uint32 each)
# from 20, then the minimum, the maximum and the retained items, level 0 first.
_VERSION, _FAMILY, _FLAGS, _N, _LEVELS, _OFFSETS, _SINGLE_ITEM = 1, 2, 3, 8, 18, 20, 8
_KLL_FAMILY, _VERSIONS = 15, (1, 2)
_EMPTY_FLAG, _SINGLE_ITEM_FLAG = 1, 4
_DTYPES: dict[str, np.dtype[np.floating]] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}


@dataclass(frozen=True, slots=True)
class SortedView:
    """A non-empty sketch's retained values in order (its precision) and their cumulative
    weights (None: every weight 1, an exact sketch), over `n` values seen."""

    values: npt.NDArray[np.floating]
    cumulative: npt.NDArray[np.int64] | None
    n: int

    def quantiles(self, qs: Points) -> FloatArray:
        """`quantiles(sketch, qs)` for `qs` in [0, 1]: the first value whose cumulative weight
        exceeds floor(q * n), as the native sketch reads it (non-inclusive ranks)."""
        weights = (np.asarray(qs, dtype=np.float64) * float(self.n)).astype(np.uint64)
        if self.cumulative is None:
            index = np.minimum(weights, len(self.values) - 1)
        else:
            found = np.searchsorted(self.cumulative, weights.astype(np.int64), side="right")
            index = np.minimum(found, len(self.values) - 1)
        return self.values[index].astype(np.float64)

    def cdf(self, split_points: Points) -> FloatArray:
        """`cdf(sketch, split_points)` for finite, increasing points: the weight of the values
        <= each point (the point read in the sketch's precision) over n, and 1.0 appended."""
        points = np.asarray(split_points, dtype=np.float64).astype(self.values.dtype)
        found = np.searchsorted(self.values, points, side="right")
        if self.cumulative is None:
            below = found
        else:
            below = np.where(found > 0, self.cumulative[np.maximum(found - 1, 0)], 0)
        ranks: FloatArray = np.empty(len(points) + 1, dtype=np.float64)
        ranks[:-1] = below / float(self.n)
        ranks[-1] = 1.0
        return ranks


def sorted_view(sketch: QuantileSketch) -> SortedView:
    """The sorted view of a non-empty sketch (ValueError when empty)."""
    blob = sketch.native.serialize()
    dtype = _DTYPES[sketch.precision]
    if blob[_FAMILY] != _KLL_FAMILY or blob[_VERSION] not in _VERSIONS:
        raise ValueError(
            f"a KLL serialisation of family {blob[_FAMILY]}, version {blob[_VERSION]}: not the "
            f"layout this reads (family {_KLL_FAMILY}, versions {_VERSIONS}); has DataSketches "
            "changed it?"
        )
    flags = blob[_FLAGS]
    if flags & _EMPTY_FLAG:
        raise ValueError("an empty sketch has no sorted view")
    if flags & _SINGLE_ITEM_FLAG:
        return SortedView(np.frombuffer(blob, dtype=dtype, count=1, offset=_SINGLE_ITEM), None, 1)
    n = int.from_bytes(blob[_N : _N + 8], "little")
    levels = blob[_LEVELS]
    items = np.frombuffer(blob, dtype=dtype, offset=_OFFSETS + 4 * levels + 2 * dtype.itemsize)
    if levels == 1:  # level 0 only: every weight 1 (not sorted in the sketch)
        return SortedView(np.sort(items), None, n)
    offsets = np.frombuffer(blob, dtype="<u4", count=levels, offset=_OFFSETS).astype(np.int64)
    sizes = np.diff(np.append(offsets - offsets[0], len(items)))
    weights = np.repeat(np.left_shift(1, np.arange(levels, dtype=np.int64)), sizes)
    order = np.argsort(items, kind="stable")
    return SortedView(items[order], np.cumsum(weights[order]), n)
