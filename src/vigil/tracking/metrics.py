"""A run's metric points: written in bulk (the history, its summaries, the latest value per key),
and read back whole or thinned to about `max_points` for a chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from vigil.api.tracking import MetricPoint, nan_to_none
from vigil.errors import InvalidInputError
from vigil.store.sql import insert_for
from vigil.store.tracking_tables import LatestMetric, RunMetric
from vigil.tracking import metric_summary
from vigil.tracking.checks import Point


def write_points(session: Session, run_id: str, points: Sequence[Point]) -> None:
    """Append the points to the run's history (a COPY or one executemany), update the metrics'
    summaries, and move each key's latest value forward (never back to an older step)."""
    if not points:  # an empty executemany is an error on SQLite (every point already recorded)
        return
    latest: dict[str, Point] = {}
    rows = []
    for point in points:
        key, value, step, stamp = point
        value = float(value)
        rows.append((run_id, key, None if math.isnan(value) else value, step, stamp))
        best = latest.get(key)
        if best is None or (step, stamp) >= (best[2], best[3]):
            latest[key] = (key, value, step, stamp)
    # The DB-API's executemany straight away: building 100k ORM or Core parameter dicts costs
    # more than the insert itself.
    connection = session.connection()
    columns = "run_id, key, value, step, timestamp_ms"
    if connection.dialect.name == "postgresql":
        # COPY: several times faster than a multi-row INSERT, in the same transaction.
        driver: Any = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {RunMetric.__tablename__} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(
            f"INSERT INTO {RunMetric.__tablename__} ({columns}) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    by_key: dict[str, tuple[list[float | None], list[int], list[int]]] = {}
    for _, key, stored, step, stamp in rows:
        columns_of = by_key.setdefault(key, ([], [], []))
        columns_of[0].append(stored)
        columns_of[1].append(step)
        columns_of[2].append(stamp)
    for key, (values, steps, stamps) in by_key.items():
        metric_summary.add_points(connection, run_id, key, values, steps, stamps)
    for key, value, step, stamp in latest.values():
        stmt = insert_for(session, LatestMetric).values(
            run_id=run_id,
            key=key,
            value=nan_to_none(value),
            step=step,
            timestamp_ms=stamp,
        )
        current = LatestMetric.__table__.c
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={
                "value": stmt.excluded.value,
                "step": stmt.excluded.step,
                "timestamp_ms": stmt.excluded.timestamp_ms,
            },
            where=or_(
                stmt.excluded.step > current.step,
                and_(
                    stmt.excluded.step == current.step,
                    stmt.excluded.timestamp_ms >= current.timestamp_ms,
                ),
            ),
        )
        session.execute(stmt)


def unrecorded(session: Session, run_id: str, points: Sequence[Point]) -> list[Point]:
    """`points` without those already in the run's history (the same key, step, timestamp and
    value, NaN equal to NaN) and without repeats: a client that sends points again (MLflow re-sends
    a run's points to link them to the model it logged) does not double them. One indexed query
    per chunk of 500 points."""
    fresh: list[Point] = []
    seen: set[tuple[str, float | None, int, int]] = set()
    for start in range(0, len(points), 500):
        chunk = points[start : start + 500]
        rows = session.execute(
            select(RunMetric.key, RunMetric.value, RunMetric.step, RunMetric.timestamp_ms).where(
                RunMetric.run_id == run_id,
                RunMetric.key.in_({p[0] for p in chunk}),
                RunMetric.step.in_({p[2] for p in chunk}),
                RunMetric.timestamp_ms.in_({p[3] for p in chunk}),
            )
        )
        seen.update((k, v, s, t) for k, v, s, t in rows)
        for key, value, step, stamp in chunk:
            identity = (key, None if math.isnan(value) else float(value), step, stamp)
            if identity not in seen:
                seen.add(identity)
                fresh.append((key, value, step, stamp))
    return fresh


def history_rows(
    connection: Connection, run_id: str, key: str, max_points: int | None
) -> list[tuple[float | None, int, int]]:
    """One metric's points as (value, step, timestamp_ms), NaN as None, by step then timestamp;
    with `max_points`, at most about that many (see `TrackingService.metric_history`)."""
    if max_points is not None:
        if max_points < 2:
            raise InvalidInputError(f"max_points must be at least 2, got {max_points}")
        summary = metric_summary.downsampled(connection, run_id, key, max_points)
        if summary is not None:
            return [(v, s, t) for v, s, t in summary]
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    # The driver's tuples straight away: SQLAlchemy's row processing costs seconds on
    # a history of a million points.
    cursor = connection.exec_driver_sql(
        f"SELECT value, step, timestamp_ms FROM {RunMetric.__tablename__} "
        f"WHERE run_id = {mark} AND key = {mark} ORDER BY step, timestamp_ms, id",
        (run_id, key),
    )
    rows: list[Any] = list(cursor.cursor.fetchall()) if cursor.cursor else []
    cursor.close()
    if max_points is not None and len(rows) > max_points:
        values = np.fromiter(
            (np.nan if r[0] is None else r[0] for r in rows), dtype=np.float64, count=len(rows)
        )
        rows = [rows[i] for i in downsample_indices(values, max_points)]
    return rows


def downsample_indices(values: npt.NDArray[np.float64], max_points: int) -> list[int]:
    """Indices of at most about `max_points` of `values` for a chart: the values are cut into
    `max_points // 2` buckets of consecutive points, and each bucket keeps its lowest and
    highest value (in their order), so spikes survive where averaging or striding would hide
    them. A bucket of only NaN keeps its first point."""
    if max_points < 2:
        raise InvalidInputError(f"max_points must be at least 2, got {max_points}")
    n = len(values)
    if n <= max_points:
        return list(range(n))
    n_buckets = max_points // 2
    edges = np.linspace(0, n, n_buckets + 1).astype(np.int64)
    starts = edges[:-1]
    nonempty = edges[1:] > starts
    starts = starts[nonempty]
    filled_low = np.where(np.isnan(values), np.inf, values)
    filled_high = np.where(np.isnan(values), -np.inf, values)
    kept: list[int] = []
    lows = np.minimum.reduceat(filled_low, starts)
    highs = np.maximum.reduceat(filled_high, starts)
    stops = np.append(starts[1:], n)
    for start, stop, low, high in zip(starts, stops, lows, highs, strict=True):
        if np.isinf(low) and np.isinf(high) and low > 0:  # only NaN in this bucket
            kept.append(int(start))
            continue
        chunk_low = filled_low[start:stop]
        chunk_high = filled_high[start:stop]
        i_low = int(start + np.argmin(chunk_low))
        i_high = int(start + np.argmax(chunk_high))
        kept.extend(sorted({i_low, i_high}))
    return kept


def downsample(points: list[MetricPoint], max_points: int) -> list[MetricPoint]:
    """`points` thinned by `downsample_indices`."""
    values = np.array([p.value for p in points], dtype=np.float64)
    return [points[i] for i in downsample_indices(values, max_points)]
