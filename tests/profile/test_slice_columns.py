"""String and boolean columns measured once for many slices (`vigil.profile.slice_columns`) give
each slice the profile `StringColumn.of` and `BooleanColumn.of` give it alone, to the byte."""

from __future__ import annotations

import itertools

import msgpack
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.profile.columns import BooleanColumn, StringColumn
from vigil.profile.slice_columns import (
    boolean_columns,
    never_text,
    string_parts,
    takes_strings,
    with_kind,
)
from vigil.schema import ColumnKind, looks_like_text

WORDS = ["Oslo", "Lyon", "", "ä ö", "month-to-month", "a long value with spaces " * 3, "x" * 250]


def _state(column: StringColumn | BooleanColumn) -> bytes:
    return msgpack.packb(column.to_state())  # type: ignore[no-any-return]


def _tiles(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    points = sorted({c % n for c in cuts if c % n > 0} | {0, n}) if n else []
    return [(a, b - a) for a, b in itertools.pairwise(points)]


strings = st.lists(
    st.one_of(st.none(), st.sampled_from(WORDS), st.text(max_size=12)), min_size=1, max_size=150
)


@settings(max_examples=80, deadline=None)
@given(values=strings, cuts=st.lists(st.integers(0, 10_000), max_size=12), large=st.booleans())
def test_string_slices_are_profiled_as_each_slice_alone(
    values: list[str | None], cuts: list[int], large: bool
) -> None:
    array = pa.array(values, pa.large_string() if large else pa.string())
    slices = _tiles(len(values), cuts)
    assert takes_strings(array)
    parts = string_parts(array, slices)
    for (offset, length), part in zip(slices, parts, strict=True):
        alone = array.slice(offset, length)
        for kind in (ColumnKind.CATEGORICAL, ColumnKind.TEXT):
            assert _state(with_kind(part, kind)) == _state(StringColumn.of(alone, kind))
        if never_text(array):
            assert not looks_like_text(alone)


def test_many_distinct_values_past_the_exact_counts() -> None:
    rng = np.random.default_rng(0)
    array = pa.array([f"v{v}" for v in rng.integers(0, 3000, 5000)])
    slices = [(0, 1700), (1700, 3000), (4700, 300)]
    for (offset, length), part in zip(slices, string_parts(array, slices), strict=True):
        alone = array.slice(offset, length)
        assert _state(with_kind(part, ColumnKind.CATEGORICAL)) == _state(
            StringColumn.of(alone, ColumnKind.CATEGORICAL)
        )


def test_only_plain_valid_strings_are_taken() -> None:
    assert not takes_strings(pa.array(["a"]).dictionary_encode())
    assert not takes_strings(pa.array([b"a"]))
    bad = pa.Array.from_buffers(
        pa.string(), 1, [None, pa.py_buffer(b"\0\0\0\0\1\0\0\0"), pa.py_buffer(b"\xff")]
    )
    assert not takes_strings(bad)


def test_text_is_ruled_out_only_when_no_slice_can_be_text() -> None:
    assert never_text(pa.array(["short one", None]))
    assert never_text(pa.array(["x" * 60, None]))
    assert never_text(pa.array([None], pa.string()))
    assert not never_text(pa.array(["a sentence " * 5, "x"]))


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.booleans()), min_size=1, max_size=100),
    cuts=st.lists(st.integers(0, 1000), max_size=8),
)
def test_boolean_slices_are_profiled_as_each_slice_alone(
    values: list[bool | None], cuts: list[int]
) -> None:
    array = pa.array(values, pa.bool_())
    slices = _tiles(len(values), cuts)
    for (offset, length), column in zip(slices, boolean_columns(array, slices), strict=True):
        assert column == BooleanColumn.of(array.slice(offset, length))
