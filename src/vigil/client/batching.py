"""Turning a log call's data into what is sent: rows in one Arrow table, times, window profiles,
and batches that stay under the server's body limit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vigil.api.specs import IngestResult, KpiOut, ModelSpec
from vigil.api.wire import LogBatch, new_batch_id, table_to_ipc
from vigil.errors import InvalidInputError
from vigil.io import DEFAULT_BATCH_ROWS, read_table
from vigil.profile import profile
from vigil.profile.groups import window_of
from vigil.profile.keyed import profile_by_key, sliceable
from vigil.profile.stream import profile_slices
from vigil.windows import Grid, GridLike

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
MAX_SEGMENT_VALUES = 100
"""Per call, a segment column's most frequent values get their own windows; the rest are left to
the whole-traffic windows (a warning says so), so an id-like column cannot explode the store."""
MAX_SEGMENT_VALUE_LENGTH = 200

logger = logging.getLogger("vigil.client")


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def query_params(**values: str | dt.datetime | None) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if isinstance(value, dt.datetime):
            out[key] = utc(value).isoformat()
        elif value is not None:
            out[key] = value
    return out


def as_table(data: Any) -> pa.Table:
    return read_table(data)


def row_times(spec: ModelSpec, table: pa.Table, timestamp: dt.datetime | None) -> pa.Array:
    n = table.num_rows
    if timestamp is not None:
        return pa.array([utc(timestamp)] * n, TIMESTAMP_TYPE)
    column = spec.timestamp_column
    if column and column in table.schema.names:
        chunked = table[column]
        values = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
        if not pa.types.is_timestamp(values.type):
            raise InvalidInputError(
                f"timestamp column {column!r} has type {values.type}, not a timestamp; "
                "convert it, or pass timestamp=",
                column=column,
            )
        if values.null_count:
            raise InvalidInputError(
                f"timestamp column {column!r} has {values.null_count} null(s); every row needs a time"
            )
        if values.type.tz is None:
            values = pc.assume_timezone(values, "UTC")
        # Nanosecond times (pandas' default) keep their microsecond: windows are cut in µs.
        return (
            values if values.type == TIMESTAMP_TYPE else pc.cast(values, TIMESTAMP_TYPE, safe=False)
        )
    return pa.array([dt.datetime.now(dt.UTC)] * n, TIMESTAMP_TYPE)


def window_profiles(table: pa.Table, times: pa.Array, grid: GridLike) -> list[bytes]:
    """One profile per window of `grid` (the model's: `ModelSpec.grid`) the rows fall in, each
    carrying its window, cut as `vigil.windows` cuts them.

    The rows are grouped once (`vigil.profile.keyed`); the bytes are those of
    `window_profiles_per_group`, which profiles each window's rows filtered out of the table."""
    if table.num_rows == 0:
        return []
    if not sliceable(table):
        return window_profiles_per_group(table, times, grid)
    cut = Grid.of(grid)
    starts, index = _window_index(times, cut)
    if len(starts) == 1 and table.num_rows <= DEFAULT_BATCH_ROWS:
        # One window of one batch (the usual small call): `profile_by_key`'s one group, as it
        # profiles it, without the keys (the table was checked `sliceable`: one batch).
        [batch] = table.to_batches()
        [item] = profile_slices(batch, [(0, table.num_rows, window_of(starts[0], cut))])
        return [item.to_bytes()]
    grouped = profile_by_key(table, index, lambda key: window_of(starts[key], cut))
    return [item.to_bytes() for _, item in grouped]


def window_profiles_per_group(table: pa.Table, times: pa.Array, grid: GridLike) -> list[bytes]:
    """`window_profiles`, one `vigil.profile` call on each window's rows (filtered out of the
    table): the reference `window_profiles` is held to, and its way for tables of several chunks."""
    if table.num_rows == 0:
        return []
    cut = Grid.of(grid)
    micros = times.view(pa.int64()).to_numpy(zero_copy_only=False)  # no nulls: checked
    starts = cut.floor_micros(micros)
    distinct = np.unique(starts).tolist()
    blobs = []
    for start in distinct:
        window = window_of(start, cut)
        # Rows of one window only (the usual small call): the table itself, without a copy.
        part = table if len(distinct) == 1 else table.filter(pa.array(starts == start))
        blobs.append(profile(part, window=window, progress=False).to_bytes())
    return blobs


def _window_index(times: pa.Array, cut: Grid) -> tuple[list[int], npt.NDArray[np.int64]]:
    """The distinct window starts of `times` (ascending) and each row's position among them."""
    micros = times.view(pa.int64()).to_numpy(zero_copy_only=False)  # no nulls: checked
    floored = cut.floor_micros(micros)
    low = int(floored.min())
    if low == int(floored.max()):  # one window: the usual small call
        return [low], np.zeros(len(floored), np.int64)
    starts, index = np.unique(floored, return_inverse=True)
    return starts.tolist(), index.astype(np.int64).reshape(-1)


def segment_key(column: str, value: str) -> str:
    """The key of one segment's windows: `"<column>=<value>"`."""
    return f"{column}={value}"


def segment_profiles(
    table: pa.Table,
    times: pa.Array,
    grid: GridLike,
    segment_columns: Sequence[str],
) -> list[tuple[str, bytes]]:
    """Per segment column and value, one profile per window of `grid` (`(segment key, profile bytes)`).

    Rows whose segment value is null are only in the whole-traffic windows. Each column is
    segmented on its own (country, and device; not country x device). The rows are grouped once
    per column (`vigil.profile.keyed`); the bytes are those of `segment_profiles_per_group`.
    """
    out: list[tuple[str, bytes]] = []
    if table.num_rows == 0:
        return out
    if not sliceable(table):
        return segment_profiles_per_group(table, times, grid, segment_columns)
    cut = Grid.of(grid)
    starts, index = _window_index(times, cut)
    width = len(starts)
    for column in segment_columns:
        if column not in table.column_names:
            continue
        values = pc.cast(table[column], pa.string()).combine_chunks()
        chosen = sorted(_segment_values(column, values))
        if not chosen:
            continue
        # One key per (value, window), in the order the per-group way makes them.
        position = pc.index_in(values, value_set=pa.array(chosen, pa.string()))
        codes = position.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        keys = np.where(codes >= 0, codes * width + index, -1)
        grouped = profile_by_key(table, keys, lambda key: window_of(starts[key % width], cut))
        out.extend(
            (segment_key(column, chosen[key // width]), item.to_bytes()) for key, item in grouped
        )
    return out


def segment_profiles_per_group(
    table: pa.Table,
    times: pa.Array,
    grid: GridLike,
    segment_columns: Sequence[str],
) -> list[tuple[str, bytes]]:
    """`segment_profiles`, each segment's rows filtered out of the table and split by window
    (`window_profiles_per_group`): the reference, and the way for tables of several chunks."""
    out: list[tuple[str, bytes]] = []
    if table.num_rows == 0:
        return out
    for column in segment_columns:
        if column not in table.column_names:
            continue
        values = pc.cast(table[column], pa.string()).combine_chunks()
        for value in sorted(_segment_values(column, values)):
            mask = pc.fill_null(pc.equal(values, value), False)
            blobs = window_profiles_per_group(table.filter(mask), times.filter(mask), grid)
            out.extend((segment_key(column, value), blob) for blob in blobs)
    return out


def _segment_values(column: str, values: pa.Array) -> list[str]:
    """The values of a segment column that get segment windows in this call (warned about the
    rest): at most MAX_SEGMENT_VALUES, the most frequent, each of at most
    MAX_SEGMENT_VALUE_LENGTH characters."""
    counts = pc.value_counts(values.drop_null()).to_pylist()
    counts.sort(key=lambda item: (-item["counts"], item["values"]))
    kept: list[str] = [c["values"] for c in counts if len(c["values"]) <= MAX_SEGMENT_VALUE_LENGTH]
    if len(kept) < len(counts):
        logger.warning(
            "segment column %r has values longer than %d characters; they get no segment windows",
            column,
            MAX_SEGMENT_VALUE_LENGTH,
        )
    if len(kept) > MAX_SEGMENT_VALUES:
        logger.warning(
            "segment column %r has %d values in one call; the %d most frequent get segment "
            "windows, the rest are only in the whole-traffic windows",
            column,
            len(kept),
            MAX_SEGMENT_VALUES,
        )
        kept = kept[:MAX_SEGMENT_VALUES]
    return kept


def split_log(
    version: str,
    profiles: list[bytes],
    rows: pa.Table | None,
    limit: int,
    segments: Sequence[str] = (),
) -> list[LogBatch]:
    """One log batch, or several when it would pass `limit` bytes (profiles and row slices are
    spread over batches with ids `<id>-0`, `<id>-1`..., each applied once on its own).

    `segments`, when given, holds each profile's segment key ("" for the whole traffic)."""
    half = max(limit // 2, 1)
    keys = list(segments) or [""] * len(profiles)
    groups: list[list[tuple[str, bytes]]] = [[]]
    size = 0  # of the profiles in groups[-1]
    for key, blob in zip(keys, profiles, strict=True):
        if groups[-1] and size + len(blob) > half:
            groups.append([])
            size = 0
        groups[-1].append((key, blob))
        size += len(blob)
    slices: list[pa.Table | None] = [rows]
    if rows is not None and rows.nbytes > half:
        step = max(1, rows.num_rows * half // rows.nbytes)
        slices = [rows.slice(i, step) for i in range(0, rows.num_rows, step)]
    count = max(len(groups), len(slices))
    base = new_batch_id()
    return [
        LogBatch(
            version=version,
            profiles=[blob for _, blob in groups[i]] if i < len(groups) else [],
            segments=[key for key, _ in groups[i]] if i < len(groups) and any(keys) else [],
            rows=table_to_ipc(part) if (part := slices[i] if i < len(slices) else None) else None,
            batch_id=base if count == 1 else f"{base}-{i}",
        )
        for i in range(count)
    ]


def combined(results: list[IngestResult | None], n_rows: int) -> IngestResult | None:
    """The result of a log call sent as one or several batches (None if any was spooled)."""
    if any(r is None for r in results):
        return None
    done = [r for r in results if r is not None]
    if len(done) == 1:
        return done[0]
    return IngestResult(
        batch_id=done[0].batch_id.rsplit("-", 1)[0],
        duplicate=all(r.duplicate for r in done),
        n_rows=n_rows,
        n_profiles=sum(r.n_profiles for r in done),
        windows=sorted({w for r in done for w in r.windows}),
    )


def ingested(result: IngestResult | KpiOut | None) -> IngestResult | None:
    assert result is None or isinstance(result, IngestResult)
    return result
