"""A small upload's rows are written with snappy, a large one's with zstd; readers see the same
rows either way."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN
from vigil.store.artifacts import LocalArtifactStore
from vigil.store.predictions import TIMESTAMP_TYPE, ZSTD_FROM_ROWS, PredictionStore

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def _rows(n: int, prefix: str) -> pa.Table:
    return pa.table(
        {
            ID_COLUMN: [f"{prefix}{i}" for i in range(n)],
            TIMESTAMP_COLUMN: pa.array(
                [T0 + dt.timedelta(seconds=i) for i in range(n)], TIMESTAMP_TYPE
            ),
            "proba": [i / max(n, 1) for i in range(n)],
        }
    )


def _codec(store: PredictionStore, key: str) -> str:
    metadata = pq.ParquetFile(io.BytesIO(store.artifacts.get(key))).metadata
    return str(metadata.row_group(0).column(0).compression).lower()


def test_small_files_are_snappy_large_ones_zstd_and_both_read_back(tmp_path: Path) -> None:
    store = PredictionStore(LocalArtifactStore(tmp_path))
    small, large = _rows(10, "s"), _rows(ZSTD_FROM_ROWS, "l")
    [small_key] = store.append("predictions", 1, "small", small)
    [large_key] = store.append("predictions", 1, "large", large)
    assert _codec(store, small_key) == "snappy"
    assert _codec(store, large_key) == "zstd"
    read = store.read(1)
    assert read.num_rows == 10 + ZSTD_FROM_ROWS
    assert sorted(read[ID_COLUMN].to_pylist()) == sorted(
        small[ID_COLUMN].to_pylist() + large[ID_COLUMN].to_pylist()
    )
