"""pandas -> Arrow (`vigil.io`): the fast path over a column's values gives exactly the table the
Series-by-Series conversion gave, for every kind of column pandas holds."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.io import _series_to_arrow, _stringify, _values_to_arrow, open_source, read_table


def by_series(frame: pd.DataFrame) -> pa.Table:
    """The conversion as it was: one Series at a time (the reference)."""
    arrays = []
    for _, series in frame.items():
        try:
            arrays.append(_series_to_arrow(series))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
            arrays.append(_stringify(series.tolist(), is_null=series.isna().tolist()))
    return pa.Table.from_arrays(arrays, names=[str(n) for n in frame.columns])


def converted(frame: pd.DataFrame) -> pa.Table:
    source = open_source(frame)
    return pa.Table.from_batches(list(source), schema=source.schema)


def same(frame: pd.DataFrame) -> None:
    want = by_series(frame)
    gathered = converted(frame)
    for got in (gathered, read_table(frame)):
        assert got.schema.equals(want.schema, check_metadata=True), (got.schema, want.schema)
        assert got.equals(want)
        for name in got.column_names:  # NaN and null apart, value by value
            assert got[name].is_null().to_pylist() == want[name].is_null().to_pylist()
            # in the same chunks (they decide how a table is profiled)
            assert got[name].chunks == gathered[name].chunks


def every_kind(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    floats = rng.normal(size=n)
    floats[: n // 3] = np.nan
    if n > 2:
        floats[1], floats[2] = np.inf, -np.inf
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="s")
    words = rng.choice(["Oslo", "Lyon", "Rome"], n).astype(object)
    words[::4] = None
    return pd.DataFrame(
        {
            "float64": floats,
            "float32": floats.astype(np.float32),
            "int64": rng.integers(-5, 5, n),
            "int8": rng.integers(-5, 5, n).astype(np.int8),
            "uint64": rng.integers(0, 2**63, n, dtype=np.uint64),
            "bool": rng.random(n) > 0.5,
            "Int64": pd.array([None if i % 3 == 0 else i for i in range(n)], dtype="Int64"),
            "boolean": pd.array([None if i % 3 == 0 else i % 2 == 0 for i in range(n)], "boolean"),
            "Float64": pd.array([None if i % 2 else 0.5 * i for i in range(n)], dtype="Float64"),
            "str": pd.array(words, dtype="str"),
            "string_python": pd.array(words, dtype="string[python]"),
            "string_pyarrow": pd.array(words, dtype="string[pyarrow]"),
            "arrow_int": pd.array(list(range(n)), dtype="int32[pyarrow]"),
            "object_str": words,
            "object_mixed": pd.Series(
                [[1, "a", 2.5, None, b"\xff"][i % 5] for i in range(n)], dtype=object
            ),
            "object_bytes": pd.Series([b"ab" if i % 2 else None for i in range(n)], dtype=object),
            "object_decimal": pd.Series([decimal.Decimal(i) for i in range(n)], dtype=object),
            "object_dates": pd.Series(
                [dt.date(2026, 1, 1 + i % 28) for i in range(n)], dtype=object
            ),
            "category": pd.Categorical(rng.choice(["x", "y"], n)),
            "naive_ns": times.as_unit("ns"),
            "naive_us": times.as_unit("us"),
            "utc_us": times.tz_localize("UTC").as_unit("us"),
            "oslo_ns": times.tz_localize("Europe/Oslo").as_unit("ns"),
            "oslo_s": times.tz_localize("Europe/Oslo").as_unit("s"),
            "timedelta": pd.to_timedelta(rng.integers(0, 100, n), unit="s"),
            "period": pd.period_range("2026-01", periods=n, freq="M"),
            "interval": pd.interval_range(0, n) if n else pd.IntervalIndex([]),
            "lists": pd.Series([[i, i + 1] for i in range(n)], dtype=object),
        }
    )


@pytest.mark.parametrize("n", [0, 1, 3, 10, 200])
def test_every_kind_of_column_converts_as_before(n: int) -> None:
    same(every_kind(n))


def test_a_sliced_or_reordered_frame_converts_as_before() -> None:
    frame = every_kind(50)
    same(frame.iloc[5:40:3])
    same(frame[frame.columns[::-1]])
    same(frame.set_index("int64"))
    both = pd.concat([frame, frame], ignore_index=True)
    same(both)


def test_columns_that_are_not_strings_are_named_by_their_string() -> None:
    frame = pd.DataFrame({1: [1.0, 2.0], ("a", "b"): ["x", "y"]})
    table = converted(frame)
    assert table.column_names == ["1", "('a', 'b')"]
    same(frame)


def test_nan_is_null_and_zoned_times_keep_their_zone() -> None:
    frame = every_kind(10)
    table = converted(frame)
    assert table["float64"].null_count == 1  # rows 1 and 2 hold inf and -inf
    assert table["oslo_ns"].type == pa.timestamp("ns", tz="Europe/Oslo")
    assert table["utc_us"].type == pa.timestamp("us", tz="UTC")
    assert table["object_mixed"].type == pa.string()


column_values: Any = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4),
    st.lists(st.integers(-(2**62), 2**62), min_size=4, max_size=4),
    st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=4, max_size=4),
    st.lists(st.one_of(st.none(), st.booleans()), min_size=4, max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3)), min_size=4, max_size=4),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(column_values, min_size=1, max_size=5), st.sampled_from(["str", None]))
def test_random_frames_convert_as_before(columns: list[list[Any]], strings: str | None) -> None:
    data = {}
    for i, values in enumerate(columns):
        is_text = any(isinstance(v, str) for v in values)
        only_text = all(v is None or isinstance(v, str) for v in values)
        dtype = strings if is_text and only_text else None
        data[f"c{i}"] = pd.Series(values, dtype=dtype)
    same(pd.DataFrame(data))


def test_the_common_kinds_take_the_fast_path() -> None:
    """Numbers, strings and zoned times are converted from their values, not through a Series."""
    frame = every_kind(10)
    fast = {"float64", "float32", "int64", "int8", "uint64", "bool", "str", "string_pyarrow"}
    fast |= {"utc_us", "oslo_ns", "oslo_s", "arrow_int"}
    if frame["object_str"].dtype != object:  # pandas 3 infers its str dtype for them
        fast.add("object_str")
    for index, name in enumerate(frame.columns):
        values = frame._get_column_array(index)
        assert (_values_to_arrow(values) is not None) == (name in fast), name


def test_zoned_times_with_missing_values_or_strides_convert_as_before() -> None:
    times = pd.Series(pd.date_range("2026-03-29", periods=6, freq="37min", tz="Europe/Oslo"))
    micros = pd.date_range("2026-03-29", periods=6, freq="37min", tz="Europe/Oslo", unit="us")
    frame = pd.DataFrame({"t": times, "t_us": micros, "x": range(6)})
    frame.loc[2, "t"] = pd.NaT
    same(frame)
    assert read_table(frame)["t"].null_count == 1
    same(frame.iloc[::2])
    same(pd.DataFrame({"a": times, "b": times}).T.T)  # one 2-D block of times


def test_read_table_gathers_what_open_source_reads(tmp_path: Any) -> None:
    frame = every_kind(30)
    assert read_table(frame, batch_rows=7).equals(converted(frame))
    assert read_table(frame, batch_rows=7)["float64"].num_chunks == 5  # as the batches came
    path = tmp_path / "t.parquet"
    table = pa.table({"a": [1, 2, 3]})
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    assert read_table(path).equals(table)
    assert read_table(table).equals(table)
