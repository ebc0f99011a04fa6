"""Distributed profiling on Spark: one profile per partition (and window and segment), built with
`mapInArrow` where the data lives, merged on the driver. No pandas is needed on the executors.

>>> from vigil import spark as vspark
>>> prof = vspark.profile(spark.read.parquet("s3://bucket/events/"))
>>> hourly = vspark.profile(df, window_column="ts", window="hour", segment_columns=["country"])

The result equals `vigil.profile` of the same rows: counts, moments, extremes and exact category
counts exactly (moments to floating-point rounding), quantiles and distinct counts within the
sketches' bounds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import pyarrow as pa

from vigil.errors import InvalidInputError
from vigil.profile.build import profile as local_profile
from vigil.profile.groups import ProfileKey, WindowSize, split_batch
from vigil.profile.profile import DatasetProfile
from vigil.schema import ColumnKind, Schema
from vigil.windows import Grid

DEFAULT_COLUMN_BATCH = 500
"""Columns profiled per Spark pass; wider tables take several passes over the data."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_OUTPUT_SCHEMA = "window_start long, segment string, profile binary"


@overload
def profile(
    df: Any,
    *,
    window_column: None = None,
    window: WindowSize = "hour",
    segment_columns: None = None,
    schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    column_batch: int = DEFAULT_COLUMN_BATCH,
) -> DatasetProfile: ...


@overload
def profile(
    df: Any,
    *,
    window_column: str | None = None,
    window: WindowSize = "hour",
    segment_columns: Sequence[str] | None = None,
    schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    column_batch: int = DEFAULT_COLUMN_BATCH,
) -> DatasetProfile | dict[ProfileKey, DatasetProfile]: ...


def profile(
    df: Any,
    *,
    window_column: str | None = None,
    window: WindowSize = "hour",
    segment_columns: Sequence[str] | None = None,
    schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    column_batch: int = DEFAULT_COLUMN_BATCH,
) -> DatasetProfile | dict[ProfileKey, DatasetProfile]:
    """Profile a Spark DataFrame.

    Without `window_column` and `segment_columns`, returns one DatasetProfile. With either, returns
    a profile per (window, segment) key, each carrying its window, from one pass over the data.
    `window` is any `vigil.windows.Grid` ("hour", "month", "day@Europe/Oslo", a timedelta, ...).
    """
    segments = list(segment_columns or [])
    names = list(df.columns)
    grid = Grid.of(window)
    if column_batch < 1:
        raise InvalidInputError(f"column_batch must be at least 1, got {column_batch}")
    for column in [c for c in [window_column, *segments] if c is not None]:
        if column not in names:
            raise InvalidInputError(
                f"no column {column!r} to group by; the DataFrame has {names}", column=column
            )
    parsed = Schema.coerce(schema)
    key_columns = [c for c in [window_column, *segments] if c is not None]
    grouped = bool(key_columns)
    results: dict[ProfileKey, DatasetProfile] = {}
    for start in range(0, max(len(names), 1), column_batch):
        chunk = names[start : start + column_batch]
        selected = list(dict.fromkeys([*key_columns, *chunk]))
        part = _profile_pass(df.select(*selected), chunk, window_column, grid, segments, parsed)
        for key, prof in part.items():
            results[key] = _join_columns(results[key], prof) if key in results else prof
    if not grouped:
        return results.get(ProfileKey(None), DatasetProfile.empty())
    return dict(sorted(results.items(), key=lambda kv: kv[0].sort_key))


def _profile_pass(
    df: Any,
    profiled: list[str],
    window_column: str | None,
    window: Grid,
    segments: list[str],
    schema: Schema,
) -> dict[ProfileKey, DatasetProfile]:
    kinds = {name: kind for name, kind in schema.kinds.items() if name in profiled}

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        profiles: dict[ProfileKey, DatasetProfile] = {}
        for batch in batches:
            for key, rows in split_batch(batch, window_column, window, segments):
                part = local_profile(rows.select(profiled), schema=kinds, progress=False)
                profiles[key] = profiles[key].merge(part) if key in profiles else part
        if not profiles:
            return
        starts, segment_json, blobs = [], [], []
        for key, prof in profiles.items():
            starts.append(
                None
                if key.window_start is None
                else (key.window_start - _EPOCH) // dt.timedelta(microseconds=1)
            )
            segment_json.append(json.dumps(list(key.segment)))
            blobs.append(prof.to_bytes())
        yield pa.record_batch(
            {
                "window_start": pa.array(starts, pa.int64()),
                "segment": pa.array(segment_json, pa.string()),
                "profile": pa.array(blobs, pa.binary()),
            }
        )

    merged: dict[ProfileKey, DatasetProfile] = {}
    for row in df.mapInArrow(per_partition, _OUTPUT_SCHEMA).toLocalIterator():
        start_us = row["window_start"]
        key = ProfileKey(
            None if start_us is None else _EPOCH + dt.timedelta(microseconds=start_us),
            tuple((str(n), v) for n, v in json.loads(row["segment"])),
        )
        prof = DatasetProfile.from_bytes(bytes(row["profile"]))
        merged[key] = merged[key].merge(prof) if key in merged else prof
    return {key: key.apply_window(prof, window) for key, prof in merged.items()}


def _join_columns(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile:
    """Profiles of different columns of the same rows, side by side."""
    return DatasetProfile(
        {**a.columns, **b.columns}, a.n_rows, a.window, {**a.skipped, **b.skipped}
    )


def local_session(master: str = "local[*]", app_name: str = "vigil") -> Any:
    """A Spark session for profiling on this machine (UI off, UTC, executors on this Python)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInputError(
            "profiling on Spark needs pyspark: pip install 'vigil[spark]' (and Java 17)"
        ) from None
    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
