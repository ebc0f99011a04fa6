"""`DatasetProfile.merge_all` merges in one pass per column, and equals `merge` folded in order.

Below KLL's first compaction (fewer than k=200 values a column) every block is deterministic, so
the n-way merge and the pairwise fold must give the same bytes: moments (same operations in the
same order), counts, category counts, CPC unions and the KLL sketches. Above it, KLL tosses coins
that no seed reaches: there the exact blocks must still agree bit for bit, and both sketches must
answer within the rank bound. Inputs are never changed (decoded profiles are shared by caches).
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
from typing import Any

import datasketches as ds
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sketch_bounds import assert_quantiles_within
from vigil.errors import SchemaConflictError
from vigil.profile import DatasetProfile, Window
from vigil.profile.columns import NumericColumn, StringColumn, profile_array
from vigil.schema import ColumnKind

settings.register_profile("vigil", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vigil")

DAY = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
MAX_ROWS = 20
"""Rows a part; at most 8 parts keep every column under KLL's first compaction (k=200)."""

floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -0.0]),
    st.none(),
)
words = st.one_of(st.none(), st.sampled_from(["red", "green", "blue", "ünïcødé", "", "x" * 300]))
stamps = st.one_of(st.none(), st.integers(min_value=-(10**16), max_value=2 * 10**17))
vectors = st.one_of(
    st.none(), st.lists(floats.filter(lambda v: v is not None), min_size=3, max_size=3)
)


def _values(draw: Any, kind: str, n: int) -> pa.Array:
    if kind == "num":
        return pa.array(draw(st.lists(floats, min_size=n, max_size=n)), type=pa.float64())
    if kind == "int":
        ints = st.one_of(st.none(), st.integers(min_value=-(2**40), max_value=2**40))
        return pa.array(draw(st.lists(ints, min_size=n, max_size=n)), type=pa.int64())
    if kind in ("cat", "text"):
        return pa.array(draw(st.lists(words, min_size=n, max_size=n)), type=pa.string())
    if kind == "flag":
        flags = st.one_of(st.none(), st.booleans())
        return pa.array(draw(st.lists(flags, min_size=n, max_size=n)), type=pa.bool_())
    if kind == "ts":
        tz = draw(st.sampled_from([None, "UTC", "Europe/Paris"]))
        micros = draw(st.lists(stamps, min_size=n, max_size=n))
        return pa.array(micros, type=pa.timestamp("us", tz=tz))
    if kind == "emb":
        rows = draw(st.lists(vectors, min_size=n, max_size=n))
        return pa.array(rows, type=pa.list_(pa.float64(), 3))
    return pa.nulls(n)


KINDS = {
    "num": ColumnKind.NUMERIC,
    "int": ColumnKind.NUMERIC,
    "cat": ColumnKind.CATEGORICAL,
    "text": ColumnKind.TEXT,
    "flag": ColumnKind.BOOLEAN,
    "ts": ColumnKind.DATETIME,
    "emb": ColumnKind.EMBEDDING,
    "null": ColumnKind.UNKNOWN,
}
# Each name keeps one kind across parts, except "s" (categorical in some parts, text in others)
# and "u" (no typed value in some parts: unknown, adopting the other parts' kind).
NAMES = {"n": ("num",), "i": ("int",), "c": ("cat",), "s": ("cat", "text"), "b": ("flag",)}
NAMES |= {"t": ("ts",), "e": ("emb",), "u": ("null", "num"), "z": ("null",)}


@st.composite
def parts(draw: Any) -> DatasetProfile:
    n = draw(st.integers(min_value=0, max_value=MAX_ROWS))
    chosen = draw(st.lists(st.sampled_from(sorted(NAMES)), unique=True, max_size=len(NAMES)))
    columns = {}
    for name in chosen:
        kind = draw(st.sampled_from(NAMES[name]))
        columns[name] = profile_array(_values(draw, kind, n), KINDS[kind])
    skipped = {
        name: draw(st.sampled_from(["a struct column", "a map column"]))
        for name in draw(st.lists(st.sampled_from(["n", "x", "y"]), unique=True, max_size=2))
        if name not in columns
    }
    window = None
    if draw(st.booleans()):
        start = DAY + dt.timedelta(hours=draw(st.integers(0, 48)))
        window = Window(start, start + dt.timedelta(hours=draw(st.integers(0, 3))))
    return DatasetProfile(columns, n, window, skipped)


def pairwise(profiles: list[DatasetProfile]) -> DatasetProfile:
    return functools.reduce(DatasetProfile.merge, profiles, DatasetProfile.empty())


def _same(a: DatasetProfile, b: DatasetProfile) -> None:
    """Bit for bit: the bytes, and what the bytes may not say (order of names, the window)."""
    assert a.to_bytes() == b.to_bytes()
    assert list(a.columns) == list(b.columns)
    assert list(a.skipped.items()) == list(b.skipped.items())
    assert (a.n_rows, a.window) == (b.n_rows, b.window)


@given(st.lists(parts(), max_size=8))
@settings(max_examples=150)
def test_merge_all_equals_the_pairwise_fold_bit_for_bit(profiles: list[DatasetProfile]) -> None:
    before = [p.to_bytes() for p in profiles]
    merged = DatasetProfile.merge_all(profiles)
    assert [p.to_bytes() for p in profiles] == before  # no input changed
    _same(merged, pairwise(profiles))
    _round_trips(merged)


def _round_trips(profile: DatasetProfile) -> None:
    """Its bytes read back say the same, and encode to the same bytes from then on. (Not the
    first bytes: a KLL query sorts the sketch's level zero in place, and decoding checks a
    datetime sketch's extremes with a query.)"""
    again = DatasetProfile.from_bytes(profile.to_bytes())
    assert again.to_dict() == profile.to_dict()
    assert list(again.columns) == list(profile.columns)
    assert list(again.skipped.items()) == list(profile.skipped.items())
    blob = again.to_bytes()
    assert DatasetProfile.from_bytes(blob).to_bytes() == blob


@given(st.lists(parts(), max_size=8))
@settings(max_examples=60)
def test_merge_all_of_decoded_profiles_leaves_them_unchanged(
    profiles: list[DatasetProfile],
) -> None:
    """As the compactor and readers merge them: decoded from bytes, sketches held as bytes."""
    blobs = [p.to_bytes() for p in profiles]
    decoded = [DatasetProfile.from_bytes(b) for b in blobs]
    before = [p.to_bytes() for p in decoded]  # (decoding may sort a KLL level: see above)
    merged = DatasetProfile.merge_all(decoded)
    assert [p.to_bytes() for p in decoded] == before
    _same(merged, pairwise([DatasetProfile.from_bytes(b) for b in blobs]))
    # Merging the same inputs again gives the same: nothing of them was a merge target.
    _same(DatasetProfile.merge_all(decoded), merged)


@given(parts())
@settings(max_examples=40)
def test_one_profile_merges_to_itself(profile: DatasetProfile) -> None:
    merged = DatasetProfile.merge_all([profile])
    _same(merged, profile.merge(DatasetProfile.empty()))
    assert merged.to_bytes() == profile.to_bytes()


def test_no_profiles_merge_to_the_empty_one() -> None:
    merged = DatasetProfile.merge_all([])
    assert merged.is_empty
    assert merged.to_bytes() == DatasetProfile.empty().to_bytes()
    assert DatasetProfile.merge_all(iter([DatasetProfile.empty()])).is_empty


def test_columns_skipped_windows_follow_the_pairwise_rules() -> None:
    def num(values: list[float]) -> NumericColumn:
        column = profile_array(pa.array(values), ColumnKind.NUMERIC)
        assert isinstance(column, NumericColumn)
        return column

    hour = dt.timedelta(hours=1)
    a = DatasetProfile({"x": num([1.0])}, 1, Window(DAY + 5 * hour, DAY + 6 * hour), {"s": "one"})
    b = DatasetProfile({"y": num([2.0])}, 1, None, {"s": "two", "x": "skipped here"})
    c = DatasetProfile({"x": num([3.0]), "s": num([4.0])}, 1, Window(DAY, DAY + hour), {"t": "3"})
    merged = DatasetProfile.merge_all([a, b, c])
    assert list(merged.columns) == ["x", "y", "s"]
    assert dict(merged.skipped) == {"t": "3"}  # "s" and "x" were profiled somewhere
    assert merged.window == Window(DAY, DAY + 6 * hour)
    assert merged.columns["x"].count == 2
    assert merged.n_rows == 3
    only_skips = DatasetProfile.merge_all([b, DatasetProfile({}, 0, None, {"s": "three"})])
    assert list(only_skips.skipped.items()) == [("s", "two"), ("x", "skipped here")]


def test_a_kind_conflict_raises_as_the_pairwise_fold_does() -> None:
    nums = DatasetProfile({"c": profile_array(pa.array([1.0]), ColumnKind.NUMERIC)}, 1)
    nulls = DatasetProfile({"c": profile_array(pa.nulls(2), ColumnKind.UNKNOWN)}, 2)
    text = DatasetProfile({"c": profile_array(pa.array(["a"]), ColumnKind.TEXT)}, 1)
    profiles = [nulls, nums, nulls, text]
    with pytest.raises(SchemaConflictError) as pairwise_error:
        pairwise(profiles)
    with pytest.raises(SchemaConflictError) as n_way_error:
        DatasetProfile.merge_all(profiles)
    assert str(n_way_error.value) == str(pairwise_error.value)
    with pytest.raises(Exception, match="DatasetProfiles"):
        DatasetProfile.merge_all([nums, "not a profile"])  # type: ignore[list-item]


def _moments(column: NumericColumn) -> bytes:
    m = column.moments
    return struct.pack("<qdd", m.count, m.mean, m.m2)


def _frequent_items(column: StringColumn) -> list[tuple[str, int, int, int]]:
    state = column.categories.to_state()
    assert "frequent" in state  # past the exact limit: the sketch path
    sketch = ds.frequent_strings_sketch.deserialize(state["frequent"])
    rows = sketch.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
    return sorted((str(v), int(e), int(lo), int(hi)) for v, e, lo, hi in rows)


def test_many_large_parts_agree_exactly_where_deterministic() -> None:
    """64 parts past KLL's compactions and the exact category limit (a busy window's fold)."""
    rng = np.random.default_rng(19)
    chunks = [rng.normal(i % 7, 1 + i % 3, 500) for i in range(64)]
    words = [rng.zipf(1.3, 500).astype(str) for _ in range(64)]
    profiles = [
        DatasetProfile(
            {
                "v": profile_array(pa.array(c), ColumnKind.NUMERIC),
                "w": profile_array(pa.array(w), ColumnKind.CATEGORICAL),
            },
            500,
        )
        for c, w in zip(chunks, words, strict=True)
    ]
    decoded = [DatasetProfile.from_bytes(p.to_bytes()) for p in profiles]
    before = [p.to_bytes() for p in decoded]
    merged = DatasetProfile.merge_all(decoded)
    folded = pairwise(profiles)
    assert [p.to_bytes() for p in decoded] == before
    v, fv = merged.columns["v"], folded.columns["v"]
    assert isinstance(v, NumericColumn)
    assert isinstance(fv, NumericColumn)
    assert _moments(v) == _moments(fv)
    assert (v.count, v.min, v.max, v.quantiles.n) == (fv.count, fv.min, fv.max, 64 * 500)
    everything = np.concatenate(chunks)
    assert_quantiles_within(v, everything, (0.01, 0.1, 0.5, 0.9, 0.99))
    assert_quantiles_within(fv, everything, (0.01, 0.1, 0.5, 0.9, 0.99))
    w, fw = merged.columns["w"], folded.columns["w"]
    assert isinstance(w, StringColumn)
    assert isinstance(fw, StringColumn)
    assert _frequent_items(w) == _frequent_items(fw)
    assert w.categories.total == fw.categories.total == 64 * 500
    assert w.distinct_sketch.to_bytes() == fw.distinct_sketch.to_bytes()
    assert struct.pack("<qdd", *_lengths(w)) == struct.pack("<qdd", *_lengths(fw))


def _lengths(column: StringColumn) -> tuple[int, float, float]:
    return column.lengths.count, column.lengths.mean, column.lengths.m2
