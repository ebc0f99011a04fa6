"""Profiles of a table's rows grouped by a key per row, in one pass: the rows sorted once by key
(stably, so each group keeps its rows' order) and each group profiled as a slice of that one
batch, without filtering the table per group or setting up a `vigil.profile` call per group.

A serving client's call splits its rows by window and by segment: a day of traffic in hourly
windows with five segment values is 144 groups, and a small group's profile cost more in the
per-group set-up than in its values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from vigil.io import DEFAULT_BATCH_ROWS
from vigil.profile.build import profile
from vigil.profile.parts import Window
from vigil.profile.profile import DatasetProfile
from vigil.profile.stream import profile_slices


def sliceable(table: pa.Table) -> bool:
    """Whether `profile_by_key` takes `table`: one chunk per column (what a single pandas frame,
    Arrow batch or small file gives), at least one column, no name twice."""
    names = table.schema.names
    return (
        len(names) > 0
        and len(set(names)) == len(names)
        and all(table.column(i).num_chunks == 1 for i in range(len(names)))
    )


def profile_by_key(
    table: pa.Table,
    keys: npt.NDArray[np.int64],
    window: Callable[[int], Window | None],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> list[tuple[int, DatasetProfile]]:
    """For each distinct key of at least 0, ascending, `(key, profile)` where the profile is,
    to the byte, `vigil.profile(rows, window=window(key), batch_rows=batch_rows, progress=False)`
    of `rows = table.filter(keys == key)`. Rows with a negative key are in no group.

    `table` must be `sliceable`.
    """
    if not sliceable(table):
        raise ValueError("profile_by_key takes a table of single-chunk columns, names unique")
    n = table.num_rows
    if len(keys) != n:
        raise ValueError(f"one key per row: {len(keys)} keys for {n} rows")
    if n == 0:
        return []
    batch = table.to_batches()[0]
    low, high = int(keys.min()), int(keys.max())
    if low == high:  # one group, or none
        if low < 0:
            return []
        groups, begins, ends = [low], [0], [n]
    else:
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        first = int(np.searchsorted(ordered, 0))
        if first == n:
            return []
        cuts = (np.flatnonzero(ordered[first + 1 :] != ordered[first:-1]) + 1).tolist()
        begins = [0, *cuts]
        ends = [*cuts, n - first]
        if first or np.any(order[1:] < order[:-1]):
            batch = batch.take(pa.array(order[first:]))
        groups = ordered[first:][begins].tolist()
    out: list[tuple[int, DatasetProfile]] = []
    pending: list[tuple[int, tuple[int, int, Window | None]]] = []

    def flush() -> None:
        done = profile_slices(batch, [part for _, part in pending])
        out.extend(zip([key for key, _ in pending], done, strict=True))
        pending.clear()

    for key, begin, end in zip(groups, begins, ends, strict=True):
        if end - begin <= batch_rows:
            pending.append((key, (begin, end - begin, window(key))))
            continue
        # A group of several batches: as `vigil.profile` reads it (one chunk, cut in batches).
        flush()
        rows = pa.Table.from_batches([batch.slice(begin, end - begin)])
        out.append((key, profile(rows, window=window(key), batch_rows=batch_rows, progress=False)))
    flush()
    return out
