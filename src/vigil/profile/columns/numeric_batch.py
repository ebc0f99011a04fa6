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
    return (
        array.type.id in _BATCHABLE_TYPES
        and array.null_count == 0
        and 0 < len(array) <= MAX_BATCH_ROWS
    )


_BATCHABLE_TYPES = frozenset(
    t.id
    for t in (
        *(pa.int8(), pa.int16(), pa.int32(), pa.int64()),
        *(pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()),
        *(pa.float32(), pa.float64()),
    )
)
"""The type ids of integers and 32- and 64-bit floats (a dictionary or decimal has its own)."""


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
    out: list[NumericColumn | None] = [None] * len(arrays)
    if np.isfinite(matrix).all():  # the usual case: one check for all the rows
        rows = list(range(len(arrays)))
        values = matrix
    else:
        finite = np.isfinite(matrix).all(axis=1)
        for index in np.flatnonzero(~finite).tolist():
            out[index] = NumericColumn.of(arrays[index])
        rows = np.flatnonzero(finite).tolist()
        values = matrix[finite] if len(rows) < len(arrays) else matrix
    if rows:
        # As `Moments.of`: the mean (np.mean's sum, then its division), then the pairwise sum of
        # squared deviations, per row; the ufuncs' reductions are what the methods call.
        sums = np.add.reduce(values, axis=1)
        means = np.true_divide(sums, n, out=sums)
        centred = values - means[:, None]
        m2 = np.add.reduce(np.square(centred, out=centred), axis=1).tolist()
        lows = np.minimum.reduce(values, axis=1).tolist()
        highs = np.maximum.reduce(values, axis=1).tolist()
        if min(lows) >= -FLOAT32_MAX and max(highs) <= FLOAT32_MAX:
            narrow = values.astype(np.float32)  # clipping would change nothing
        else:
            narrow = np.clip(values, -FLOAT32_MAX, FLOAT32_MAX).astype(np.float32)
        for position, (index, mean) in enumerate(zip(rows, means.tolist(), strict=True)):
            sketch = ds.kll_floats_sketch(KLL_K)
            sketch.update(narrow[position])
            out[index] = NumericColumn(
                n,
                0,
                0,
                0,
                0,
                Moments(n, mean, m2[position]),
                lows[position],
                highs[position],
                QuantileSketch(sketch, "float32"),
                pa.types.is_integer(arrays[index].type),
            )
    done = [column for column in out if column is not None]
    assert len(done) == len(arrays)
    return done
