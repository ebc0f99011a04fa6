"""Profiles per time window and segment, in one pass over the data.

Used wherever rows must be split before profiling: a serving client's batches (hourly windows),
each Spark partition, a backfill. Windows are those of `vigil.windows.Grid`: hours and days on
the clock, weeks on Mondays, months, quarters and years on the calendar (optionally in a time
zone), other lengths on multiples of the length since the epoch.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError
from vigil.io import DEFAULT_BATCH_ROWS, open_source
from vigil.profile.build import profile
from vigil.profile.profile import DatasetProfile, Window
from vigil.progress import bar
from vigil.schema import ColumnKind, Schema
from vigil.windows import Grid, GridLike

WindowSize = GridLike
"""A window grid, or what `Grid.of` reads as one: `"hour"`, `"day"`, `"week"`, `"month"`,
`"quarter"`, `"year"`, `"15m"`, `"day@Europe/Oslo"`, a `datetime.timedelta`."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True, order=True)
class ProfileKey:
    """Which window and segment a grouped profile covers (None/() when not grouped by it)."""

    window_start: dt.datetime | None
    segment: tuple[tuple[str, str | None], ...] = ()

    def segment_dict(self) -> dict[str, str | None]:
        return dict(self.segment)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        """Windows in time order (no window last), then segments by value (None last)."""
        return (
            self.window_start is None,
            self.window_start or _EPOCH,
            tuple((n, v is None, v or "") for n, v in self.segment),
        )

    def apply_window(self, profile: DatasetProfile, window: WindowSize) -> DatasetProfile:
        """`profile` carrying this key's window of `window` (unchanged without a window)."""
        if self.window_start is None:
            return profile
        start, end = Grid.of(window).window_of(self.window_start)
        return profile.with_window(start, end)


def floor_micros(micros: npt.NDArray[np.int64], window: WindowSize) -> npt.NDArray[np.int64]:
    """Window starts (microseconds since the epoch, UTC) of timestamps given in the same unit."""
    return Grid.of(window).floor_micros(micros)


def window_of(start_us: int, window: WindowSize) -> Window:
    """The window of `window` holding the time `start_us` (microseconds since the epoch)."""
    start, end = Grid.of(window).window_of(_EPOCH + dt.timedelta(microseconds=start_us))
    return Window(start, end)


def profile_groups(
    data: Any,
    *,
    window_column: str | None = None,
    window: WindowSize = "hour",
    segment_columns: Sequence[str] = (),
    schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    patterns: Mapping[str, Sequence[str]] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> dict[ProfileKey, DatasetProfile]:
    """One profile per (window, segment) found in the data, each carrying its window; a bar of
    the rows read shows when a person is watching (`vigil.progress`).

    Rows whose timestamp is null are grouped under a key with `window_start=None`. Segment values
    are compared as strings (null stays None).
    """
    window = Grid.of(window)
    source = open_source(data, batch_rows=batch_rows)
    names = source.schema.names
    for column in [c for c in [window_column, *segment_columns] if c is not None]:
        if column not in names:
            raise InvalidInputError(
                f"no column {column!r} to group by; the data has {names}", column=column
            )
    if window_column is not None:
        t = source.schema.field(window_column).type
        if not (pa.types.is_timestamp(t) or pa.types.is_date(t)):
            raise InvalidInputError(
                f"window column {window_column!r} must hold timestamps, it is {t}",
                column=window_column,
            )
    groups: dict[ProfileKey, DatasetProfile] = {}
    with bar(
        total=source.total_rows, desc=f"profiling {source.name}", unit="rows", progress=progress
    ) as shown:
        for batch in source:
            for key, rows in split_batch(batch, window_column, window, segment_columns):
                whole = profile(
                    rows, schema=schema, patterns=patterns, batch_rows=batch_rows, progress=False
                )
                part = key.apply_window(whole, window)
                groups[key] = groups[key].merge(part) if key in groups else part
            shown.update(batch.num_rows)
    return dict(sorted(groups.items(), key=lambda kv: kv[0].sort_key))


def split_batch(
    batch: pa.RecordBatch,
    window_column: str | None,
    window: WindowSize,
    segment_columns: Sequence[str],
) -> list[tuple[ProfileKey, pa.Table]]:
    """Split one batch into the rows of each (window, segment) key."""
    table = pa.Table.from_batches([batch])
    if window_column is None and not segment_columns:
        return [(ProfileKey(None), table)]
    key_columns: dict[str, pa.Array] = {}
    if window_column is not None:
        key_columns["__window"] = _window_starts(table.column(window_column), window)
    for name in segment_columns:
        key_columns[f"__segment_{name}"] = pc.cast(table.column(name), pa.string())
    keys = pa.table(key_columns)
    # Sort rows by key so that each key's rows are one contiguous slice.
    order = pc.sort_indices(keys, sort_keys=[(n, "ascending") for n in keys.column_names])
    keys = keys.take(order)
    table = table.take(order)
    codes = np.column_stack([_codes(keys.column(n)) for n in keys.column_names])
    change = np.ones(len(keys), dtype=bool)
    change[1:] = (np.diff(codes, axis=0) != 0).any(axis=1)
    starts = np.flatnonzero(change).tolist()
    bounds = [*starts, len(keys)]
    out = []
    for begin, end in itertools.pairwise(bounds):
        first = keys.slice(begin, 1).to_pylist()[0]
        micros = first.get("__window")
        start = _EPOCH + dt.timedelta(microseconds=micros) if micros is not None else None
        segment = tuple((name, first[f"__segment_{name}"]) for name in segment_columns)
        out.append((ProfileKey(start, segment), table.slice(begin, end - begin)))
    return out


def _codes(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Integer codes equal exactly where the key values are equal (nulls get their own code)."""
    values = column.combine_chunks()
    if pa.types.is_integer(values.type):
        filled = values.fill_null(np.iinfo(np.int64).min)
    else:
        filled = pc.dictionary_encode(values).indices.fill_null(-1)
    codes: npt.NDArray[np.int64] = np.asarray(filled.to_numpy(zero_copy_only=False), np.int64)
    return codes


def _window_starts(column: pa.ChunkedArray, window: WindowSize) -> pa.Array:
    grid = Grid.of(window)
    values = column.combine_chunks()
    if pa.types.is_date(values.type):
        values = values.cast(pa.timestamp("us"))
    tz = values.type.tz
    micros = pc.cast(values, pa.timestamp("us", tz=tz), safe=False).cast(pa.int64())
    mask = micros.is_null().to_numpy(zero_copy_only=False)
    raw = micros.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return pa.array(grid.floor_micros(raw), mask=mask, type=pa.int64())
