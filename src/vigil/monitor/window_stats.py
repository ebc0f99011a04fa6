"""Per-window column statistics (mean, 5%/50%/95% quantiles, missing share) of a model, by hour
or by day, kept in small rows so the dashboard's feature page draws months of them without
decoding a profile.

A cell is the merge of the model's stored windows in one hour or day (every version, the whole
traffic), read through the monitors' `WindowReader`. It is recomputed when a window it covers
receives data later. Statistics describe the traffic; drift is what the monitors measured
(`vigil.monitor.reading.drift_cells`), never computed here.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.monitor.reader import StoredWindow, WindowReader
from vigil.profile import DatasetProfile, NumericColumn
from vigil.store.core import Store
from vigil.store.dashboard_tables import DriftCell, save_drift_cell
from vigil.store.repositories import ModelRepository
from vigil.windows import Grid

Granularity = Literal["hour", "day"]
GRANULARITY_SECONDS: dict[str, int] = {"hour": 3600, "day": 86_400}
STATS_KEY = "window-statistics"
"""The `reference` of statistics cells in `dashboard_drift_cells` (they compare with nothing)."""


def floor(value: dt.datetime, granularity: str) -> dt.datetime:
    """The start of the hour or day (UTC) holding `value`."""
    return Grid.parse(granularity).floor(value)


@dataclass(frozen=True)
class Bucket:
    """The stored windows of one hour or day (no blob read)."""

    start: dt.datetime
    n_rows: int
    last_arrival: dt.datetime
    parts: tuple[StoredWindow, ...]


@dataclass(frozen=True)
class StatsCell:
    start: dt.datetime
    n_rows: int
    source_arrival: dt.datetime
    stats: dict[str, Any]


def buckets(
    reader: WindowReader,
    model_id: int,
    granularity: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[Bucket]:
    """The model's stored windows (whole traffic, every version) by hour or day, oldest first.

    An hour or day that a stored window reaches beyond (retention rolled hours into a day, or
    days into a month) has no bucket: its figures would be the whole rolled window's."""
    first = start or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    last = end or dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
    span = dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    grouped: dict[dt.datetime, list[StoredWindow]] = {}
    rolled: set[dt.datetime] = set()
    for stored in reader.stored(model_id, None, first, last):
        key = floor(stored.start, granularity)
        grouped.setdefault(key, []).append(stored)
        if stored.end is not None and stored.end > key + span:
            rolled.add(key)
    return [
        Bucket(
            key,
            sum(p.n_rows for p in parts),
            max(p.last_arrival for p in parts),
            tuple(parts),
        )
        for key, parts in sorted(grouped.items())
        if key not in rolled
    ]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def column_stats(profile: DatasetProfile, columns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{column: {"mean", "q05", "q50", "q95", "missing"}} of numeric columns, {"missing"} of the
    others (columns the profile lacks are left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name in columns:
        column = profile.columns.get(name)
        if column is None:
            continue
        count = getattr(column, "count", 0) or 0
        if isinstance(column, NumericColumn):
            missing = column.missing_count / count if count else None
            has = column.finite_count > 0
            out[name] = {
                "mean": _finite(column.mean) if has else None,
                "q05": _finite(column.quantile(0.05)) if has else None,
                "q50": _finite(column.quantile(0.5)) if has else None,
                "q95": _finite(column.quantile(0.95)) if has else None,
                "missing": missing,
            }
        else:
            nulls = getattr(column, "null_count", 0) or 0
            out[name] = {"missing": nulls / count if count else None}
    return out


class WindowStatistics:
    """Fills and reads statistics cells. One instance per app: `refresh` runs under a lock so two
    requests (or the dashboard's warmer) never compute the same cells at once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()

    def _model(self, session: Session, model: str) -> tuple[int, list[str]]:
        row = ModelRepository(session).get(model)
        return row.id, [*row.features, *row.scores, *row.predictions]

    def cells(
        self, model: str, granularity: str, start: dt.datetime | None = None
    ) -> dict[dt.datetime, StatsCell]:
        """The stored cells by start."""
        with self.store.read_session() as session:
            try:
                model_id, _ = self._model(session, model)
                query = select(
                    DriftCell.start, DriftCell.n_rows, DriftCell.source_arrival, DriftCell.stats
                ).where(
                    DriftCell.model_id == model_id,
                    DriftCell.reference == STATS_KEY,
                    DriftCell.granularity == granularity,
                )
                if start is not None:
                    query = query.where(DriftCell.start >= start)
                rows = [tuple(row) for row in session.execute(query)]
            finally:
                session.rollback()
        return {row[0]: StatsCell(*row) for row in rows}

    def refresh(
        self,
        model: str,
        granularity: str,
        *,
        start: dt.datetime | None = None,
        budget_seconds: float | None = None,
        wait: bool = False,
    ) -> int:
        """Compute missing and stale cells, newest first, until done or out of time; returns how
        many are still missing (0: complete for this range; -1: another refresh is running)."""
        if not self._lock.acquire(blocking=wait):
            return -1
        try:
            return self._refresh(model, granularity, start, budget_seconds)
        finally:
            self._lock.release()

    def _refresh(
        self,
        model: str,
        granularity: str,
        start: dt.datetime | None,
        budget_seconds: float | None,
    ) -> int:
        began = time.monotonic()
        have = self.cells(model, granularity, start)
        # Read in a read session, each cell written in a short transaction of its own: on SQLite
        # the statistics are computed without the write lock, so uploads never wait for them.
        with self.store.read_session() as session, self.store.session() as writer:
            reader = WindowReader(session)
            model_id, columns = self._model(session, model)
            wanted = buckets(reader, model_id, granularity, start)
            session.rollback()
            todo = [
                b
                for b in wanted
                if b.start not in have
                or have[b.start].source_arrival < b.last_arrival
                or have[b.start].n_rows != b.n_rows
            ]
            done = 0
            for bucket in reversed(todo):
                # At least one cell per call, so a page that keeps asking always makes progress.
                late = budget_seconds is not None and time.monotonic() - began > budget_seconds
                if done and late:
                    break
                stats = column_stats(reader.merged(bucket.parts), columns)
                session.rollback()  # the next bucket reads the last commit
                reader.forget(bucket.parts)
                self._write(writer, model_id, granularity, bucket, stats)
                done += 1
        return len(todo) - done

    @staticmethod
    def _write(
        session: Session, model_id: int, granularity: str, bucket: Bucket, stats: dict[str, Any]
    ) -> None:
        save_drift_cell(
            session,
            model_id=model_id,
            reference=STATS_KEY,
            granularity=granularity,
            start=bucket.start,
            n_rows=bucket.n_rows,
            source_arrival=bucket.last_arrival,
            stats=stats,
        )
