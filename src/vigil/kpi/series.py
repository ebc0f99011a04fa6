"""A KPI's values per model version, aggregated per window of any `vigil.windows.Grid` (hours,
days, weeks, months, quarters, years, fixed lengths, custom periods, in a time zone): count, sum, mean, standard
deviation, min and max of the values logged in each window.

The database aggregates (GROUP BY version and window), so a series of millions of values moves a
row per version and window. Calendar windows (months, zoned days) are summed from the finest
fixed windows they are made of (days, hours, quarter hours or minutes) that the database groups
by. Sums are taken of the values minus their overall mean, so the variance does not lose its
digits to large values with small spread.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from vigil.analysis.kpi import KpiPoint, KpiSeries, Moments
from vigil.caps import MAX_WINDOWS
from vigil.errors import InvalidInputError
from vigil.store.models import Kpi
from vigil.store.repositories import ModelRepository, spec_of
from vigil.windows import EPOCH, Grid, GridLike
from vigil.windows.instants import utc

__all__ = ["KpiPoint", "KpiSeries", "Moments", "moments", "series"]


_FINE_GRIDS = tuple(Grid.parse(g) for g in ("day", "hour", "15m", "1m"))
"""Fixed windows the database groups by, for calendar windows made of them (finest last)."""


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _filtered(
    query: Any,
    name: str,
    model_id: int,
    versions: Sequence[str] | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> Any:
    query = query.where(Kpi.name == name, Kpi.model_id == model_id)
    if versions is not None:
        query = query.where(Kpi.version.in_(list(versions)))
    start, end = _utc(start), _utc(end)
    if start is not None:
        query = query.where(Kpi.timestamp >= start)
    if end is not None:
        query = query.where(Kpi.timestamp < end)
    return query


def _epoch_seconds(session: Session) -> Any:
    """Seconds since 1970 of the (naive UTC) timestamp column, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Kpi.timestamp)), BigInteger)
    return cast(func.strftime("%s", Kpi.timestamp), Integer)


def _fixed(grid: Grid) -> tuple[int, int]:
    """(length, offset of the windows' starts from the epoch), in seconds, of a fixed grid the
    database can group by: the calendar grid's own when it has one, else a finer one (seconds
    for a zone whose offset was not whole minutes, as Monrovia's until 1972)."""
    fine = (
        grid if grid.seconds is not None else next((g for g in _FINE_GRIDS if grid.nests(g)), None)
    )
    if fine is None or fine.seconds is None:
        return 1, 0
    return fine.seconds, int((fine.floor(EPOCH) - EPOCH).total_seconds()) % fine.seconds


def _count_windows(session: Session, grid: Grid, bucket: Any, query: Any) -> int:
    """How many windows of `grid` hold a value `query` selects (`bucket`: the fixed window the
    database groups by): counted by the database for a fixed grid, else from the distinct fine
    windows, each floored to its calendar window."""
    size, offset = _fixed(grid)
    if grid.seconds is not None:
        return int(session.scalar(query.with_only_columns(func.count(func.distinct(bucket)))))
    fine = session.scalars(query.with_only_columns(bucket).distinct()).all()
    micros = (np.array(fine, dtype=np.int64) * size + offset) * 1_000_000
    return len(np.unique(grid.floor_micros(micros)))


def _check_windows(
    session: Session,
    grid: Grid,
    name: str,
    bucket: Any,
    query: Any,
    span: tuple[dt.datetime, dt.datetime],
) -> None:
    """Refuse more than `MAX_WINDOWS` windows holding values (InvalidInputError naming the
    count and the cap); the windows from the first value to the last bound it cheaply first."""
    first, last = utc(span[0]), utc(span[1])
    if grid.count(first, last + dt.timedelta(microseconds=1)) <= MAX_WINDOWS:
        return
    count = _count_windows(session, grid, bucket, query)
    if count > MAX_WINDOWS:
        raise InvalidInputError(
            f"{count:,} {grid.to_str()} windows hold values of KPI {name!r} in this period; one "
            f"series holds at most {MAX_WINDOWS:,}: use a longer window (e.g. 'day', 'week' or "
            "'month') or a shorter period (start/end)",
            windows=count,
            limit=MAX_WINDOWS,
        )


def moments(
    session: Session,
    name: str,
    model: str,
    *,
    versions: Sequence[str] | None = None,
    window: GridLike | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    capped: bool = False,
) -> dict[tuple[str, dt.datetime | None], Moments]:
    """The KPI's moments per version, and per window start when `window` is given; `capped`
    refuses more than `MAX_WINDOWS` windows holding values before grouping them."""
    grid = Grid.of(window) if window is not None else None
    model_id = ModelRepository(session).get(model).id
    overall = select(func.avg(Kpi.value), func.min(Kpi.timestamp), func.max(Kpi.timestamp))
    shift, *span = session.execute(_filtered(overall, name, model_id, versions, start, end)).one()
    if shift is None:
        return {}
    shift = float(shift)
    centred = Kpi.value - literal(shift)
    columns: list[Any] = [
        Kpi.version,
        func.count(),
        func.sum(centred),
        func.sum(centred * centred),
        func.min(Kpi.value),
        func.max(Kpi.value),
    ]
    groups: list[Any] = [Kpi.version]
    size = offset = 0
    if grid is not None:
        size, offset = _fixed(grid)
        bucket = (_epoch_seconds(session) - offset) // size
        if capped:
            counted = _filtered(select(bucket), name, model_id, versions, start, end)
            _check_windows(session, grid, name, bucket, counted, (span[0], span[1]))
        columns.append(bucket)
        groups.append(bucket)
    query = _filtered(select(*columns), name, model_id, versions, start, end)
    rows = session.execute(query.group_by(*groups)).all()
    starts: list[dt.datetime | None] = [None] * len(rows)
    if grid is not None and rows:
        fine = np.array([int(r[6]) * size + offset for r in rows], dtype=np.int64) * 1_000_000
        starts = [EPOCH + dt.timedelta(microseconds=us) for us in grid.floor_micros(fine).tolist()]
    sums: dict[tuple[str, dt.datetime | None], tuple[int, float, float, float, float]] = {}
    for row, when in zip(rows, starts, strict=True):
        version, n, s1, s2, low, high = row[:6]
        n, s1, s2, low, high = int(n), float(s1), float(s2), float(low), float(high)
        if (version, when) in sums:  # fine windows of one calendar window
            m, t1, t2, lo, hi = sums[(version, when)]
            n, s1, s2, low, high = n + m, s1 + t1, s2 + t2, min(low, lo), max(high, hi)
        sums[(version, when)] = (n, s1, s2, low, high)
    out: dict[tuple[str, dt.datetime | None], Moments] = {}
    for key, (n, s1, s2, low, high) in sums.items():
        variance = max(s2 - s1 * s1 / n, 0.0) / (n - 1) if n > 1 else None
        out[key] = Moments(
            count=n,
            sum=s1 + shift * n,
            mean=shift + s1 / n,
            variance=variance,
            min=low,
            max=high,
        )
    return out


def series(
    session: Session,
    name: str,
    model: str,
    *,
    version: str | None = None,
    window: GridLike = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> KpiSeries:
    """The KPI per version (or one `version`) and window in [start, end). A window named
    without a time zone (`"month"`, a period `"2026-01-01/2026-04-01"`) is read in the
    model's zone, as performance reports read it. More than `MAX_WINDOWS` windows holding
    values are refused (InvalidInputError naming the count and the cap)."""
    if isinstance(window, str):
        zone = spec_of(ModelRepository(session).get(model)).grid.tz
        grid = Grid.parse(window, default_tz=zone)
    else:
        grid = Grid.of(window)
    found = moments(
        session,
        name,
        model,
        versions=None if version is None else [version],
        window=grid,
        start=start,
        end=end,
        capped=True,
    )
    points = []
    for (v, when), m in sorted(found.items(), key=lambda item: (item[0][0], item[0][1])):
        assert when is not None
        std = math.sqrt(m.variance) if m.variance is not None else None
        points.append(
            KpiPoint(
                version=v,
                start=when,
                end=grid.next(when),
                count=m.count,
                sum=m.sum,
                mean=m.mean,
                std=std,
                min=m.min,
                max=m.max,
            )
        )
    return KpiSeries(name, model, grid.to_str(), tuple(points))
