"""Pre-aggregated metric histories, so a chart of a million points is read from a few hundred rows.

Each metric's points, in the order they were logged, are numbered 0, 1, 2, ... At level L
(0..LEVELS-1) point n falls in bucket `n // (BASE * 4**L)`; each bucket row keeps its count, its
first point's step and time, and its lowest and highest point (NaN ignored). Writing a batch of
m points upserts about m / 48 rows; reading `max_points` of a history of N points reads the
finest level with at most `2 * max_points` buckets and merges neighbours down to
`max_points // 2` buckets, each giving its lowest and highest point: spikes survive.

Points logged before the summary existed (a store migrated from an older version) are folded in
the first time the metric is written again; until then `metric_history` reads every point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Connection

from vigil.store.tracking_tables import MetricSummary, RunMetric

BASE = 64
LEVELS = 8
TOP = LEVELS - 1
_TABLE = MetricSummary.__tablename__
_COLUMNS = (
    "run_id, key, level, bucket, count, first_step, first_ms, "
    "min_value, min_step, min_ms, max_value, max_step, max_ms"
)


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _width(level: int) -> int:
    return BASE << (2 * level)


def logged_count(connection: Connection, run_id: str, key: str) -> int:
    """How many points of the metric the summary holds (0 when it has none)."""
    mark = _mark(connection)
    cursor = connection.exec_driver_sql(
        f"SELECT COALESCE(SUM(count), 0) FROM {_TABLE} "
        f"WHERE run_id = {mark} AND key = {mark} AND level = {TOP}",
        (run_id, key),
    )
    row = cursor.fetchone()
    return int(row[0]) if row is not None else 0


def _stored_count(connection: Connection, run_id: str, key: str) -> int:
    mark = _mark(connection)
    cursor = connection.exec_driver_sql(
        f"SELECT COUNT(*) FROM {RunMetric.__tablename__} WHERE run_id = {mark} AND key = {mark}",
        (run_id, key),
    )
    row = cursor.fetchone()
    return int(row[0]) if row is not None else 0


def _existing_points(connection: Connection, run_id: str, key: str) -> list[Any]:
    mark = _mark(connection)
    cursor = connection.exec_driver_sql(
        f"SELECT value, step, timestamp_ms FROM {RunMetric.__tablename__} "
        f"WHERE run_id = {mark} AND key = {mark} ORDER BY id",
        (run_id, key),
    )
    return list(cursor.fetchall())


def _segments_arg(
    filled: npt.NDArray[np.float64], starts: npt.NDArray[np.int64], targets: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """For each segment (beginning at `starts`), the index of its first value equal to its
    target (the segment's min or max)."""
    sizes = np.diff(np.append(starts, len(filled)))
    hits = np.flatnonzero(filled == np.repeat(targets, sizes))
    return hits[np.searchsorted(hits, starts)]


def add_points(
    connection: Connection,
    run_id: str,
    key: str,
    values: Sequence[float | None],
    steps: Sequence[int],
    stamps: Sequence[int],
) -> None:
    """Fold a batch of one metric's points (in logging order, already inserted in
    `run_metrics`) into its summary. A metric whose summary is empty but which had points
    before this batch (logged before summaries existed) has those folded in first."""
    start = logged_count(connection, run_id, key)
    if start == 0 and _stored_count(connection, run_id, key) > len(values):
        old = _existing_points(connection, run_id, key)
        old = old[: len(old) - len(values)]  # this batch's rows are the last ones
        values = [r[0] for r in old] + list(values)
        steps = [r[1] for r in old] + list(steps)
        stamps = [r[2] for r in old] + list(stamps)
    n = len(values)
    if n == 0:
        return
    array = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    step_array = np.asarray(steps, dtype=np.int64)
    stamp_array = np.asarray(stamps, dtype=np.int64)
    nan = np.isnan(array)
    low = np.where(nan, np.inf, array)
    high = np.where(nan, -np.inf, array)
    index = np.arange(start, start + n, dtype=np.int64)
    rows: list[tuple[Any, ...]] = []
    for level in range(LEVELS):
        buckets = index // _width(level)
        starts = np.flatnonzero(np.diff(buckets, prepend=buckets[0] - 1))
        counts = np.diff(np.append(starts, n))
        mins = np.minimum.reduceat(low, starts)
        maxs = np.maximum.reduceat(high, starts)
        i_min = _segments_arg(low, starts, mins)
        i_max = _segments_arg(high, starts, maxs)
        for b, s, c, lo, hi, a, z in zip(
            buckets[starts].tolist(),
            starts.tolist(),
            counts.tolist(),
            mins.tolist(),
            maxs.tolist(),
            i_min.tolist(),
            i_max.tolist(),
            strict=True,
        ):
            empty = math.isinf(lo) and lo > 0  # only NaN in this bucket
            rows.append(
                (
                    run_id,
                    key,
                    level,
                    b,
                    c,
                    int(step_array[s]),
                    int(stamp_array[s]),
                    None if empty else lo,
                    None if empty else int(step_array[a]),
                    None if empty else int(stamp_array[a]),
                    None if empty else hi,
                    None if empty else int(step_array[z]),
                    None if empty else int(stamp_array[z]),
                )
            )
    mark = _mark(connection)
    t = _TABLE
    lower = f"({t}.min_value IS NULL OR (excluded.min_value IS NOT NULL AND excluded.min_value < {t}.min_value))"
    higher = f"({t}.max_value IS NULL OR (excluded.max_value IS NOT NULL AND excluded.max_value > {t}.max_value))"
    connection.exec_driver_sql(
        f"INSERT INTO {t} ({_COLUMNS}) VALUES ({', '.join([mark] * 13)}) "
        "ON CONFLICT (run_id, key, level, bucket) DO UPDATE SET "
        f"count = {t}.count + excluded.count, "
        f"min_value = CASE WHEN {lower} THEN excluded.min_value ELSE {t}.min_value END, "
        f"min_step = CASE WHEN {lower} THEN excluded.min_step ELSE {t}.min_step END, "
        f"min_ms = CASE WHEN {lower} THEN excluded.min_ms ELSE {t}.min_ms END, "
        f"max_value = CASE WHEN {higher} THEN excluded.max_value ELSE {t}.max_value END, "
        f"max_step = CASE WHEN {higher} THEN excluded.max_step ELSE {t}.max_step END, "
        f"max_ms = CASE WHEN {higher} THEN excluded.max_ms ELSE {t}.max_ms END",
        rows,
    )


Row = tuple[float | None, int, int]
"""(value, step, timestamp in ms); value None for NaN."""


def downsampled(connection: Connection, run_id: str, key: str, max_points: int) -> list[Row] | None:
    """At most `max_points` points of the metric for a chart, by step; None when the summary
    cannot answer (it is empty, or the history is short enough to read whole, which is then
    as fast and exact)."""
    total = logged_count(connection, run_id, key)
    n_buckets = max_points // 2
    if total <= max_points or n_buckets < 1:
        return None
    level = next(
        (lv for lv in range(LEVELS) if math.ceil(total / _width(lv)) <= 2 * max_points), TOP
    )
    if total // _width(level) < n_buckets // 2 and level == 0:
        return None  # fewer than ~BASE * max_points points: read them all
    mark = _mark(connection)
    cursor = connection.exec_driver_sql(
        "SELECT bucket, first_step, first_ms, min_value, min_step, min_ms, "
        f"max_value, max_step, max_ms FROM {_TABLE} "
        f"WHERE run_id = {mark} AND key = {mark} AND level = {level} ORDER BY bucket",
        (run_id, key),
    )
    rows = list(cursor.fetchall())
    if not rows:
        return None
    groups = np.arange(len(rows)) * n_buckets // len(rows)
    kept: dict[tuple[int, int], Row] = {}
    best: dict[int, list[Any]] = {}
    for group, (_, first_step, first_ms, lo, lo_step, lo_ms, hi, hi_step, hi_ms) in zip(
        groups.tolist(), rows, strict=True
    ):
        current = best.get(group)
        if current is None:
            current = best[group] = [None, None, None, (None, first_step, first_ms)]
        if lo is not None and (current[0] is None or lo < current[0][0]):
            current[0] = (lo, lo_step, lo_ms)
        if hi is not None and (current[1] is None or hi > current[1][0]):
            current[1] = (hi, hi_step, hi_ms)
    for current in best.values():
        picks = [p for p in (current[0], current[1]) if p is not None] or [current[3]]
        for point in picks:
            kept[(point[1], point[2])] = point
    return [kept[k] for k in sorted(kept)]
