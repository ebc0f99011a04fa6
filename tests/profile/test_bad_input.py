"""Awkward and broken input gives a clear VigilError or a documented, sensible profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.errors import InvalidInputError, SchemaConflictError, UnsupportedFormatError
from vigil.profile import NumericColumn, StringColumn, UnknownColumn


def test_empty_table_profiles_to_zero_counts() -> None:
    table = pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.string())})
    p = vigil.profile(table)
    assert p.n_rows == 0
    assert p.columns["a"].count == 0
    assert p.columns["a"].to_dict()["mean"] is None
    assert p.columns["b"].to_dict()["distinct"] == 0
    assert "0 rows" in p.summary()


def test_empty_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), path)
    p = vigil.profile(path)
    assert (p.n_rows, p.columns["a"].kind) == (0, vigil.ColumnKind.NUMERIC)


def test_table_with_no_columns() -> None:
    assert vigil.profile({}).columns == {}


def test_all_null_columns() -> None:
    p = vigil.profile(
        {
            "none": pa.nulls(10),
            "typed": pa.array([None] * 10, pa.float64()),
            "words": pa.array([None] * 10, pa.string()),
        }
    )
    assert isinstance(p.columns["none"], UnknownColumn)
    assert p.columns["none"].null_count == 10
    typed = p.columns["typed"]
    assert isinstance(typed, NumericColumn)
    assert (typed.null_count, typed.finite_count, typed.to_dict()["mean"]) == (10, 0, None)
    assert p.columns["words"].null_count == 10


def test_object_column_of_mixed_types_is_profiled_as_strings() -> None:
    frame = pd.DataFrame({"mixed": [1, "two", 3.5, None, b"\xff"], "ok": [1, 2, 3, 4, 5]})
    p = vigil.profile(frame)
    mixed = p.columns["mixed"]
    assert isinstance(mixed, StringColumn)
    assert mixed.null_count == 1
    assert mixed.categories.exact == {"1": 1, "two": 1, "3.5": 1, "\\xff": 1}


def test_nan_and_infinities_are_counted_not_averaged() -> None:
    p = vigil.profile({"v": np.array([1.0, np.nan, np.inf, -np.inf, 3.0])})
    v = p.columns["v"]
    assert isinstance(v, NumericColumn)
    assert (v.nan_count, v.posinf_count, v.neginf_count, v.finite_count) == (1, 1, 1, 2)
    assert (v.mean, v.min, v.max) == (2.0, 1.0, 3.0)
    assert v.missing_count == 1


def test_only_infinities() -> None:
    v = vigil.profile({"v": np.array([np.inf, -np.inf])}).columns["v"]
    assert isinstance(v, NumericColumn)
    assert v.finite_count == 0
    assert v.to_dict()["min"] is None


def test_nested_types_are_skipped_with_a_reason_or_read_as_text_when_asked() -> None:
    table = pa.table(
        {
            "s": pa.array([{"a": 1}, {"a": 2}, None]),
            "m": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
            "v": [1.0, 2.0, 3.0],
        }
    )
    p = vigil.profile(table)
    assert set(p.columns) == {"v"}
    assert "struct" in p.skipped["s"]
    assert "schema=" in p.skipped["s"]
    assert "skipped" in p.summary()
    as_text = vigil.profile(table, schema={"s": "text"})
    assert as_text.columns["s"].kind is vigil.ColumnKind.TEXT
    assert as_text.columns["s"].null_count == 1


def test_ragged_embedding_lists_are_rejected_clearly() -> None:
    with pytest.raises(InvalidInputError, match="column 'e'.*different lengths"):
        vigil.profile({"e": pa.array([[1.0, 2.0], [1.0]])})


def test_huge_strings_keep_the_profile_small() -> None:
    huge = ["a" * 1_000_000 + str(i) for i in range(20)]
    p = vigil.profile({"h": huge})
    column = p.columns["h"]
    assert isinstance(column, StringColumn)
    assert column.distinct == 20  # distinct values stay distinct after their keys are bounded
    assert column.max_length == 1_000_002
    assert len(p.to_bytes()) < 20_000


def test_non_utf8_bytes(tmp_path: Path) -> None:
    binary = vigil.profile({"b": pa.array([b"ok", b"\xff\xfe", None], pa.binary())})
    column = binary.columns["b"]
    assert isinstance(column, StringColumn)
    assert column.categories.exact == {"ok": 1, "\\xff\\xfe": 1}
    csv = tmp_path / "latin1.csv"
    csv.write_bytes(b"name,n\ncaf\xe9,1\nok,2\n")
    from_csv = vigil.profile(csv)
    assert from_csv.columns["name"].categories.exact == {"caf\\xe9": 1, "ok": 1}  # type: ignore[union-attr]


def test_millions_of_distinct_values_stay_bounded() -> None:
    values = pa.array(np.arange(1_200_000).astype(str))
    p = vigil.profile({"id": values})
    column = p.columns["id"]
    assert isinstance(column, StringColumn)
    assert abs(column.distinct - 1_200_000) / 1_200_000 < 0.05
    assert len(p.to_bytes()) < 16_000


def test_ragged_csv_row(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInputError, match="ragged.csv.*malformed.*as many fields"):
        vigil.profile(path)


def test_csv_whose_type_changes_late_suggests_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    # Past the reader's first block (8 MB), where types were inferred.
    path.write_text("code\n" + "7\n" * 5_000_000 + "A12\n")
    with pytest.raises(InvalidInputError, match="schema"):
        vigil.profile(path)
    p = vigil.profile(path, schema={"code": "categorical"})
    assert p.columns["code"].kind is vigil.ColumnKind.CATEGORICAL
    assert p.n_rows == 5_000_001


def test_missing_path() -> None:
    with pytest.raises(InvalidInputError, match="no such file or folder: '/no/such.parquet'"):
        vigil.profile("/no/such.parquet")


def test_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(UnsupportedFormatError, match="fake.parquet.*not a readable Parquet"):
        vigil.profile(path)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(UnsupportedFormatError, match="neither a Parquet file"):
        vigil.profile(other)


def test_unsupported_object() -> None:
    with pytest.raises(UnsupportedFormatError, match="builtins.int"):
        vigil.profile(42)


def test_conflicting_kinds_raise_a_clear_error() -> None:
    a = vigil.profile({"c": [1.0, 2.0]})
    b = vigil.profile({"c": ["x", "y"]})
    with pytest.raises(SchemaConflictError, match="'c' is numeric in one profile and categorical"):
        a.merge(b)


def test_schema_errors_name_the_problem() -> None:
    with pytest.raises(InvalidInputError, match="unknown column kind 'numbr' for column 'a'"):
        vigil.profile({"a": [1]}, schema={"a": "numbr"})
    with pytest.raises(InvalidInputError, match=r"\['zz'\].*columns are \['a'\]"):
        vigil.profile({"a": [1]}, schema={"zz": "numeric"})
    with pytest.raises(InvalidInputError, match="column 'a'.*cannot be read as numbers.*'x'"):
        vigil.profile({"a": ["1", "x"]}, schema={"a": "numeric"})
    with pytest.raises(InvalidInputError, match="not a valid regular expression"):
        vigil.profile({"a": ["x"]}, patterns={"a": ["("]})


def test_mismatched_column_lengths() -> None:
    with pytest.raises(InvalidInputError, match="different lengths"):
        vigil.profile({"a": [1, 2], "b": [1]})


def test_duplicate_pandas_columns() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="duplicated column names"):
        vigil.profile(frame)
