"""The profiles of several numeric columns of one small batch at once.

A 10-row log call profiles a handful of numeric columns; `NumericColumn.of` runs about fifteen
NumPy calls per column, each costing microseconds of per-call overhead on a 10-value array. Here
the columns without nulls are stacked into one matrix and each step runs once over all of them,
row by row along the contiguous axis, so every figure is the one `NumericColumn.of` computes on
the column alone, to the bit (tests/profile/test_numeric_batch.py checks that, profile bytes
included). A column holding NaN or infinities takes `NumericColumn.of`.
"""

from __future__ import annotations

from collections.abc import Sequence

import datasketches as ds
import numpy as np
import pyarrow as pa

from vigil.profile.columns.numeric import NumericColumn
from vigil.profile.sketches import FLOAT32_MAX, KLL_K, Moments, QuantileSketch

MAX_BATCH_ROWS = 4_096
"""Above this many rows, the per-call overhead this saves is lost in the work on the values."""


def batchable(array: pa.Array) -> bool:
    """True for an array `numeric_columns` takes: integers or 32- and 64-bit floats (not
    dictionary-encoded, not decimals or durations), without nulls, at most MAX_BATCH_ROWS long and not empty."""
    t = array.type
    return (
        (pa.types.is_integer(t) or pa.types.is_float32(t) or pa.types.is_float64(t))
        and array.null_count == 0
        and 0 < len(array) <= MAX_BATCH_ROWS
    )


def numeric_columns(arrays: Sequence[pa.Array]) -> list[NumericColumn]:
    """`NumericColumn.of(a)` for each array, all `batchable` and of one length."""
    if not arrays:
        return []
    n = len(arrays[0])
    if any(len(a) != n or not batchable(a) for a in arrays):
        raise ValueError("numeric_columns takes batchable arrays of one length")
    matrix = np.empty((len(arrays), n), dtype=np.float64)
    for row, array in zip(matrix, arrays, strict=True):
        # Integers become float64 as `pc.cast(..., safe=False)` makes them (a C conversion).
        row[:] = array.to_numpy(zero_copy_only=False)
    finite = np.isfinite(matrix).all(axis=1)
    out: list[NumericColumn | None] = [None] * len(arrays)
    for index in np.flatnonzero(~finite).tolist():
        out[index] = NumericColumn.of(arrays[index])
    rows = np.flatnonzero(finite).tolist()
    if rows:
        values = matrix[finite] if len(rows) < len(arrays) else matrix
        # As `Moments.of`: the mean, then the pairwise sum of squared deviations, per row.
        means = np.mean(values, axis=1)
        centred = values - means[:, None]
        m2 = np.square(centred, out=centred).sum(axis=1)
        lows, highs = values.min(axis=1), values.max(axis=1)
        narrow = np.clip(values, -FLOAT32_MAX, FLOAT32_MAX).astype(np.float32)
        for position, index in enumerate(rows):
            sketch = ds.kll_floats_sketch(KLL_K)
            sketch.update(narrow[position])
            out[index] = NumericColumn(
                count=n,
                null_count=0,
                nan_count=0,
                posinf_count=0,
                neginf_count=0,
                moments=Moments(n, float(means[position]), float(m2[position])),
                min=float(lows[position]),
                max=float(highs[position]),
                quantiles=QuantileSketch(sketch, "float32"),
                integral=pa.types.is_integer(arrays[index].type),
            )
    done = [column for column in out if column is not None]
    assert len(done) == len(arrays)
    return done
