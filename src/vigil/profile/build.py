"""`vigil.profile(data)`: check the arguments, then profile a large Parquet file or folder on
every core (`parallel`) or anything else batch by batch in this process (`stream`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil.errors import InvalidInputError
from vigil.io import DEFAULT_BATCH_ROWS, PARQUET_SUFFIXES
from vigil.profile.parallel import choose_workers, plan, profile_parallel
from vigil.profile.parts import Window, to_window
from vigil.profile.profile import DatasetProfile
from vigil.profile.stream import profile_batches
from vigil.schema import ColumnKind, Schema


def profile(
    data: Any,
    *,
    schema: Schema | Mapping[str, str | ColumnKind] | None = None,
    patterns: Mapping[str, Sequence[str]] | None = None,
    window: Window | tuple[Any, Any] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    workers: int | None = None,
    progress: bool | None = None,
) -> DatasetProfile:
    """Profile a table: a pandas or polars DataFrame, a pyarrow Table or RecordBatch, a dict of
    arrays, or the path of a Parquet file, Parquet folder or CSV file (read in batches).

    `schema` overrides inferred kinds, e.g. ``{"zip": "categorical"}``. `patterns` names regular
    expressions whose match counts are kept per string column, e.g. ``{"email": [r"^\\S+@\\S+$"]}``.
    `window` records the time span the data covers. A Parquet file or folder with several row
    groups is profiled by `workers` processes (default: every core once there are 2M+ rows).
    A bar of the rows profiled shows on stderr when a person is watching (`vigil.progress`:
    a terminal, unless `progress=False` or `VIGIL_PROGRESS=0`).
    """
    parsed = Schema.coerce(schema)
    wanted_patterns = _check_patterns(patterns)
    if workers is not None and workers < 1:
        raise InvalidInputError(f"workers must be at least 1, got {workers}")
    if workers != 1 and _is_parquet_path(data):
        units = plan(Path(data))
        chosen = choose_workers(units, workers) if units else 1
        if chosen > 1:
            result = profile_parallel(
                units,
                chosen,
                schema={name: kind.value for name, kind in parsed.kinds.items()},
                patterns=wanted_patterns,
                batch_rows=batch_rows,
                progress=progress,
            )
            return (
                result
                if window is None
                else DatasetProfile(
                    result.columns, result.n_rows, to_window(window), result.skipped
                )
            )
    return profile_batches(
        data, parsed, wanted_patterns, window=window, batch_rows=batch_rows, progress=progress
    )


def _is_parquet_path(data: Any) -> bool:
    if not isinstance(data, str | os.PathLike):
        return False
    path = Path(data)
    if path.is_dir():
        return True
    return path.is_file() and path.name.lower().endswith(PARQUET_SUFFIXES)


def _check_patterns(patterns: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    checked: dict[str, tuple[str, ...]] = {}
    for column, items in (patterns or {}).items():
        if isinstance(items, str):
            items = [items]
        for pattern in items:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InvalidInputError(
                    f"pattern {pattern!r} for column {column!r} is not a valid regular "
                    f"expression: {exc}",
                    column=column,
                    pattern=pattern,
                ) from None
        checked[str(column)] = tuple(items)
    return checked
