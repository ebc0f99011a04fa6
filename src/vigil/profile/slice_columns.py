"""The string and boolean column profiles of many slices of one batch, computed together.

`profile_slices` profiles a log call's (window, segment) groups as slices of one sorted batch.
A string column's profile (`StringColumn.of`) costs about fifteen Arrow and NumPy calls, whatever
the slice's length; here the column is encoded, measured and counted once for every slice, and
each slice only gathers its share: the values in the order they first appear in the slice with
their counts (what `pc.value_counts` gives), its nulls, and its lengths' moments, computed as
`Moments.of` computes them (a mean of whole numbers is exact in any order; the sum of squared
deviations is NumPy's pairwise sum over the slice's contiguous lengths, as in `Moments.of`).
The profiles are, to the byte, those of `StringColumn.of` and `BooleanColumn.of` on each slice
(tests/profile/test_slice_columns.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile.columns import BooleanColumn, StringColumn
from vigil.profile.sketches import CategoryCounts, DistinctSketch, Moments
from vigil.schema import TEXT_MIN_MEAN_LENGTH, ColumnKind

Slices = Sequence[tuple[int, int]]
"""(offset, length) of each slice, none empty."""


def with_kind(column: StringColumn, kind: ColumnKind) -> StringColumn:
    """`column` (from `string_parts`, categorical) as a column of `kind` (categorical or text,
    chosen per slice): the same measurements."""
    return column if column.kind is kind else replace(column, kind=kind)


def takes_strings(array: pa.Array) -> bool:
    """Plain strings of valid UTF-8 (what `StringColumn.of` profiles as they are)."""
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return False
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def never_text(array: pa.Array) -> bool:
    """True when no slice of `array` can read as text (`schema.looks_like_text`): no value holds
    a space, or none is as long as text's least mean length."""
    values = array.drop_null()
    if len(values) == 0:
        return True
    longest = pc.max(pc.utf8_length(values)).as_py() or 0
    return bool(
        longest < TEXT_MIN_MEAN_LENGTH or not pc.any(pc.match_substring(values, " ")).as_py()
    )


def string_parts(array: pa.Array, slices: Slices) -> list[StringColumn]:
    """`StringColumn.of(array.slice(offset, length), ColumnKind.CATEGORICAL)` for each slice (the
    kind is chosen per slice: `with_kind`); `array` must be `takes_strings`."""
    dictionary, codes, lengths = _encoded(array)
    sizes = np.array([length for _, length in slices], dtype=np.int64)
    # Every slice's rows, slice after slice, and which slice each is of; then those with a value.
    starts = np.array([offset for offset, _ in slices], dtype=np.int64)
    firsts = np.cumsum(sizes) - sizes
    rows = np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(starts - firsts, sizes)
    owner = np.repeat(np.arange(len(slices), dtype=np.int64), sizes)
    keep = codes[rows] >= 0
    rows, owner = rows[keep], owner[keep]
    present = np.bincount(owner, minlength=len(slices))
    # Each slice's values in the order they first appear in it, with their counts.
    width = max(len(dictionary), 1)
    found, first, counts = np.unique(
        owner * width + codes[rows], return_index=True, return_counts=True
    )
    order = np.lexsort((first, found // width))
    found, counts = found[order], counts[order]
    bounds = np.searchsorted(found // width, np.arange(len(slices) + 1)).tolist()
    value_codes = (found % width).tolist()
    value_counts = counts.tolist()
    # Lengths: a slice's mean is its whole total over its count (as np.mean finds it, exactly);
    # the squared deviations are summed per slice, contiguous, as Moments.of sums them.
    values = lengths[rows]
    ends = np.cumsum(present)
    begins = ends - present
    totals = np.concatenate([[0], np.cumsum(values)])
    means = (totals[ends] - totals[begins]) / np.maximum(present, 1)
    squares = values.astype(np.float64) - np.repeat(means, present)
    np.square(squares, out=squares)
    has = present > 0
    lows = np.zeros(len(slices), np.int64)
    highs = np.zeros(len(slices), np.int64)
    if has.any():
        lows[has] = np.minimum.reduceat(values, begins[has])
        highs[has] = np.maximum.reduceat(values, begins[has])
    out = []
    for index, (_, length) in enumerate(slices):
        n = int(present[index])
        if n == 0:
            out.append(_no_values(length))
            continue
        keys = [dictionary[c] for c in value_codes[bounds[index] : bounds[index + 1]]]
        begin = int(begins[index])
        out.append(
            StringColumn(
                kind=ColumnKind.CATEGORICAL,
                count=length,
                null_count=length - n,
                categories=CategoryCounts.of(keys, value_counts[bounds[index] : bounds[index + 1]]),
                distinct_sketch=DistinctSketch.of(keys),
                lengths=Moments(n, float(means[index]), float(squares[begin : begin + n].sum())),
                min_length=int(lows[index]),
                max_length=int(highs[index]),
                patterns={},
            )
        )
    return out


def _encoded(array: pa.Array) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct values, each row's code among them (-1 for null) and each row's length."""
    encoded = pc.dictionary_encode(array)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    lengths = pc.utf8_length(array).fill_null(0).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), codes, lengths.astype(np.int64)


def _no_values(length: int) -> StringColumn:
    whole = StringColumn.of(pa.array([], pa.string()), ColumnKind.CATEGORICAL)
    return replace(whole, count=length, null_count=length)


def boolean_columns(array: pa.Array, slices: Slices) -> list[BooleanColumn]:
    """`BooleanColumn.of(array.slice(offset, length))` for each slice."""
    nulls = np.concatenate(
        [[0], np.cumsum(array.is_null().to_numpy(zero_copy_only=False), dtype=np.int64)]
    )
    trues = pc.fill_null(array, False).to_numpy(zero_copy_only=False)
    true_sums = np.concatenate([[0], np.cumsum(trues, dtype=np.int64)])
    return [
        BooleanColumn(
            length,
            int(nulls[offset + length] - nulls[offset]),
            int(true_sums[offset + length] - true_sums[offset]),
        )
        for offset, length in slices
    ]
