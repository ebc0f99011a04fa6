"""A small upload's rows are written plainly (no compression, dictionary or statistics), a large
one's with zstd, dictionaries and statistics; readers see the same rows either way."""

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


def _column(store: PredictionStore, key: str) -> pq.ColumnChunkMetaData:
    metadata = pq.ParquetFile(io.BytesIO(store.artifacts.get(key))).metadata
    return metadata.row_group(0).column(0)


def test_small_files_are_plain_large_ones_zstd_and_both_read_back(tmp_path: Path) -> None:
    store = PredictionStore(LocalArtifactStore(tmp_path))
    small, large = _rows(10, "s"), _rows(ZSTD_FROM_ROWS, "l")
    [small_key] = store.append("predictions", 1, "small", small)
    [large_key] = store.append("predictions", 1, "large", large)
    plain, packed = _column(store, small_key), _column(store, large_key)
    assert str(plain.compression).lower() == "uncompressed"
    assert not plain.has_dictionary_page
    assert not plain.is_stats_set
    assert str(packed.compression).lower() == "zstd"
    assert packed.has_dictionary_page
    assert packed.is_stats_set
    read = store.read(1)
    assert read.num_rows == 10 + ZSTD_FROM_ROWS
    assert read.schema == store.read_files([small_key]).schema  # types kept (UTC timestamps)
    assert sorted(read[ID_COLUMN].to_pylist()) == sorted(
        small[ID_COLUMN].to_pylist() + large[ID_COLUMN].to_pylist()
    )
