"""Kind inference from Arrow types and data, and schema overrides."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

import vigil
from vigil import ColumnKind
from vigil.profile import DatetimeColumn, EmbeddingColumn, StringColumn


def test_inferred_kinds() -> None:
    n = 50
    table = pa.table(
        {
            "i": pa.array(range(n)),
            "f": pa.array(np.linspace(0, 1, n)),
            "dec": pa.array([1] * n, pa.decimal128(5, 2)),
            "dur": pa.array([dt.timedelta(seconds=s) for s in range(n)]),
            "s": pa.array(["a", "b"] * (n // 2)),
            "dict": pa.array(["x", "y"] * (n // 2)).dictionary_encode(),
            "b": pa.array([True, False] * (n // 2)),
            "t": pa.array([dt.datetime(2026, 1, 1) + dt.timedelta(hours=h) for h in range(n)]),
            "d": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=h) for h in range(n)]),
            "text": pa.array(["the quick brown fox jumps over the lazy dog again"] * n),
            "emb": pa.FixedSizeListArray.from_arrays(pa.array(np.ones(n * 4)), 4),
            "emb_list": pa.array([[0.0, 1.0, 2.0]] * n),
            "null": pa.nulls(n),
        }
    )
    kinds = {name: c.kind for name, c in vigil.profile(table).columns.items()}
    assert kinds == {
        "i": ColumnKind.NUMERIC,
        "f": ColumnKind.NUMERIC,
        "dec": ColumnKind.NUMERIC,
        "dur": ColumnKind.NUMERIC,
        "s": ColumnKind.CATEGORICAL,
        "dict": ColumnKind.CATEGORICAL,
        "b": ColumnKind.BOOLEAN,
        "t": ColumnKind.DATETIME,
        "d": ColumnKind.DATETIME,
        "text": ColumnKind.TEXT,
        "emb": ColumnKind.EMBEDDING,
        "emb_list": ColumnKind.EMBEDDING,
        "null": ColumnKind.UNKNOWN,
    }


def test_duration_is_profiled_in_seconds() -> None:
    p = vigil.profile({"d": pa.array([dt.timedelta(minutes=1), dt.timedelta(minutes=3)])})
    assert p.columns["d"].mean == 120.0  # type: ignore[union-attr]


def test_schema_overrides() -> None:
    data = {
        "zip": [1001, 1002, 1001],
        "score": ["0.5", "1.5", None],
        "when": ["2026-01-01", None, "2026-02-01"],
    }
    p = vigil.profile(data, schema={"zip": "categorical", "score": "numeric", "when": "datetime"})
    zip_col = p.columns["zip"]
    assert isinstance(zip_col, StringColumn)
    assert zip_col.categories.exact == {"1001": 2, "1002": 1}
    assert p.columns["score"].mean == 1.0  # type: ignore[union-attr]
    when = p.columns["when"]
    assert isinstance(when, DatetimeColumn)
    assert when.min == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    forced = vigil.profile({"s": ["x", "y"]}, schema=vigil.Schema({"s": ColumnKind.TEXT}))
    assert forced.columns["s"].kind is ColumnKind.TEXT


def test_datetime_statistics_keep_microseconds_and_timezone() -> None:
    tz = pa.timestamp("us", tz="Europe/Oslo")
    base = dt.datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    values = [base + dt.timedelta(seconds=s) for s in range(101)]
    column = vigil.profile({"t": pa.array(values, tz)}).columns["t"]
    assert isinstance(column, DatetimeColumn)
    assert column.min == base
    assert column.max == base + dt.timedelta(seconds=100)
    assert column.timezone == "Europe/Oslo"
    median = column.quantile(0.5)
    assert median is not None
    assert abs((median - (base + dt.timedelta(seconds=50))).total_seconds()) <= 2


def test_embeddings_from_a_2d_array() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(2_000, 16)) + np.arange(16)
    column = vigil.profile({"e": matrix}).columns["e"]
    assert isinstance(column, EmbeddingColumn)
    assert column.dim == 16
    np.testing.assert_allclose(column.mean, matrix.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(column.moments.variance, matrix.var(axis=0, ddof=1), rtol=1e-10)
    norms = np.linalg.norm(matrix, axis=1)
    assert column.norm_moments.mean == pytest.approx(norms.mean(), rel=1e-12)


def test_string_lengths_and_patterns() -> None:
    p = vigil.profile(
        {"email": ["a@x.io", "bob@y.org", "nope", None]}, patterns={"email": [r"^\S+@\S+\.\w+$"]}
    )
    column = p.columns["email"]
    assert isinstance(column, StringColumn)
    assert (column.min_length, column.max_length) == (4, 9)
    assert column.pattern_share(r"^\S+@\S+\.\w+$") == pytest.approx(2 / 3)
    with pytest.raises(vigil.VigilError, match="was not counted"):
        column.pattern_share("other")
