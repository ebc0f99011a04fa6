"""Every supported input gives the same profile; files stream in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import vigil
from tests.conftest import mixed_table


def _exact_part(profile: vigil.DatasetProfile) -> dict[str, object]:
    """The profile without sketch-based quantiles (KLL compaction is randomised), floats to 10
    significant digits (merging batches in another order moves the last bits)."""
    body = profile.to_dict()
    for column in body["columns"].values():
        column.pop("quantiles", None)
    return _round(body)  # type: ignore[no-any-return]


def _round(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def test_all_inputs_agree(tmp_path: Path) -> None:
    table = mixed_table(3_000).drop_columns(["ts"])
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=700)
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table.slice(0, 1_000), folder / "a.parquet")
    pq.write_table(table.slice(1_000), folder / "b.parquet")
    finite = table.drop_columns(["x"])  # CSV and pandas read NaN and inf their own way
    pacsv.write_csv(finite, tmp_path / "t.csv")
    expected = _exact_part(vigil.profile(table))
    sources = [
        table,
        table.combine_chunks().to_batches()[0],
        tmp_path / "t.parquet",
        str(tmp_path / "t.parquet"),
        folder,
        {name: table.column(name).to_numpy(zero_copy_only=False) for name in ("ints",)},
    ]
    for source in sources[:5]:
        assert _exact_part(vigil.profile(source)) == expected, source
    assert _exact_part(vigil.profile(sources[5]))["columns"]["ints"] == expected["columns"]["ints"]  # type: ignore[index]
    from_csv = _exact_part(vigil.profile(tmp_path / "t.csv"))
    assert from_csv["columns"]["cat"] == expected["columns"]["cat"]  # type: ignore[index]
    assert from_csv["columns"]["ints"] == expected["columns"]["ints"]  # type: ignore[index]


def test_pandas_and_polars() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, None, 3.0], "c": pd.Categorical(["x", "y", "x"]), "b": [True, False, True]}
    )
    p = vigil.profile(frame)
    assert p.columns["a"].null_count == 1  # pandas NaN means missing
    assert p.columns["c"].categories.exact == {"x": 2, "y": 1}  # type: ignore[union-attr]
    q = vigil.profile(pl.from_pandas(frame))
    assert q.to_dict() == p.to_dict()
    assert vigil.profile(pl.from_pandas(frame).lazy()).n_rows == 3


def test_numpy_nan_is_kept_apart_from_null() -> None:
    p = vigil.profile({"a": np.array([1.0, np.nan])})
    assert (p.columns["a"].null_count, p.columns["a"].nan_count) == (0, 1)  # type: ignore[union-attr]


def test_streaming_keeps_memory_bounded() -> None:
    """80 MB of data pass through while Arrow never holds more than a few batches."""
    batch_rows = 100_000
    peak = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal peak
        rng = np.random.default_rng(0)
        for _ in range(100):
            peak = max(peak, pa.total_allocated_bytes())
            yield pa.record_batch({"v": rng.normal(size=batch_rows)})

    schema = pa.schema([("v", pa.float64())])
    reader = pa.RecordBatchReader.from_batches(schema, batches())
    start = pa.total_allocated_bytes()
    p = vigil.profile(reader)
    assert p.n_rows == 10_000_000
    assert peak - start < 8 * batch_rows * 8  # a handful of 800 KB batches, not 80 MB


def test_parquet_is_read_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(1)
    pq.write_table(pa.table({"v": rng.normal(size=400_000)}), path, row_group_size=50_000)
    from vigil.io import open_source

    source = open_source(path, batch_rows=10_000)
    sizes = [b.num_rows for b in source]
    assert max(sizes) <= 10_000
    assert sum(sizes) == 400_000
    assert sum(b.num_rows for b in source) == 400_000  # a file source can be read again


def test_profiling_loads_neither_scipy_nor_sklearn(tmp_path: Path) -> None:
    """Serving replicas and Spark executors only profile: they must not pay for the analysis
    stack. (pandas is out of Vigil's hands: pyarrow imports it lazily when it converts arrays.)"""
    import subprocess
    import sys

    path = tmp_path / "t.parquet"
    pq.write_table(mixed_table(1_000), path)
    code = (
        f"import sys, vigil; vigil.profile({str(path)!r}); "
        "print(sorted(m for m in ('scipy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    lazy = subprocess.run(
        [sys.executable, "-c", "import vigil; print(vigil.drift.__module__, vigil.Suite.__name__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert lazy.stdout.split() == ["vigil.analysis.drift.detect", "Suite"]
