"""Per-window drift scores and feature statistics, computed once and kept in
`dashboard_drift_cells`, so the heatmap and the feature pages read a few small rows.

A cell is one hour or one day of a model (the merge of its stored windows, every version, the
whole traffic) compared with the model's reference: the training profile of the registered
version at @production (or the latest version with a profile), else the model's first week.
Cells are recomputed when a window they cover receives data later (late arrivals) and when the
reference changes (its key is part of the cell's key).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.errors import VigilError
from vigil.monitor.windows import floor_window
from vigil.profile import DatasetProfile, NumericColumn
from vigil.server.dashboard.loaders import latest_start
from vigil.store.core import Store
from vigil.store.dashboard_tables import DriftCell
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.stored_profiles import merge_stored, tally_of

logger = logging.getLogger("vigil.server.dashboard")

Granularity = Literal["hour", "day"]
GRANULARITY_SECONDS: dict[str, int] = {"hour": 3600, "day": 86_400}
REFERENCE_DAYS = 7
"""Without a registered training profile, the model's first week is its reference."""


@dataclass(frozen=True)
class Reference:
    key: str
    label: str
    profile: DatasetProfile


@dataclass(frozen=True)
class Cell:
    """A stored cell (see DriftCell)."""

    start: dt.datetime
    n_rows: int
    source_arrival: dt.datetime
    scores: dict[str, Any]
    stats: dict[str, Any]


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    n_rows: int
    last_arrival: dt.datetime
    window_ids: tuple[int, ...]


def floor(value: dt.datetime, granularity: str) -> dt.datetime:
    return floor_window(value, GRANULARITY_SECONDS[granularity])


def buckets(
    session: Session, model_id: int, granularity: str, start: dt.datetime | None = None
) -> list[Bucket]:
    """The model's stored windows grouped by hour or day, oldest first (no profile is read)."""
    query = select(
        ProfileWindow.id, ProfileWindow.start, ProfileWindow.n_rows, ProfileWindow.last_arrival
    ).where(ProfileWindow.model_id == model_id, ProfileWindow.segment == "")
    if start is not None:
        query = query.where(ProfileWindow.start >= start)
    grouped: dict[dt.datetime, tuple[int, dt.datetime, list[int]]] = {}
    for window_id, window_start, n_rows, arrival in session.execute(query):
        key = floor(window_start, granularity)
        rows, latest, ids = grouped.get(key, (0, arrival, []))
        ids.append(window_id)
        grouped[key] = (rows + n_rows, max(latest, arrival), ids)
    return [
        Bucket(key, rows, latest, tuple(ids))
        for key, (rows, latest, ids) in sorted(grouped.items())
    ]


def merged_windows(session: Session, window_ids: Sequence[int]) -> DatasetProfile:
    # In time order, so the same windows always merge to the same sketch (KLL compaction is
    # randomised but seeded; the order of merges still matters).
    windows = session.scalars(
        select(ProfileWindow)
        .where(ProfileWindow.id.in_(window_ids))
        .order_by(ProfileWindow.start, ProfileWindow.version)
    )
    return merge_stored(windows, tally_of(session))


ProfileCache = dict[str, DatasetProfile]
"""Reference profiles by key: decoding a training profile (or merging a first week of windows)
costs more than the rest of a page, and a key names one profile for good."""
PROFILE_CACHE_SIZE = 16


def _cached(
    cache: ProfileCache | None, key: str, load: Callable[[], DatasetProfile | None]
) -> DatasetProfile | None:
    if cache is not None and key in cache:
        return cache[key]
    profile = load()
    if cache is not None and profile is not None:
        if len(cache) >= PROFILE_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = profile
    return profile


def reference_of(
    store: Store, model: MonitoredModel, cache: ProfileCache | None = None
) -> Reference | None:
    """The profile the model's windows are compared with (see the module docstring)."""
    if model.registry_model:
        from vigil.registry.service import Registry

        registry = Registry(store)
        registered = model.registry_model
        try:
            info = registry.get_model(registered)
            candidates: list[int] = []
            if "production" in info.aliases:
                candidates.append(info.aliases["production"])
            versions = registry.list_versions(registered)
            candidates += [v.version for v in reversed(versions) if v.has_profile]
            for version in candidates:
                key = f"registry:{registered}:{version}"
                profile = _cached(
                    cache, key, partial(registry.training_profile, registered, version)
                )
                if profile is not None:
                    return Reference(key, f"training data of {registered} v{version}", profile)
        except VigilError:
            pass  # the registered model is gone: fall back to the first week
    with store.session() as session:
        try:
            first = session.scalar(
                select(func.min(ProfileWindow.start)).where(
                    ProfileWindow.model_id == model.id, ProfileWindow.segment == ""
                )
            )
        finally:
            session.rollback()
    if first is None:
        return None
    key = f"first-week:{first.isoformat()}"

    def first_week() -> DatasetProfile:
        end = first + dt.timedelta(days=REFERENCE_DAYS)
        with store.session() as session:
            try:
                ids = session.scalars(
                    select(ProfileWindow.id).where(
                        ProfileWindow.model_id == model.id,
                        ProfileWindow.segment == "",
                        ProfileWindow.start < end,
                    )
                ).all()
                return merged_windows(session, ids)
            finally:
                session.rollback()

    profile = _cached(cache, key, first_week)
    assert profile is not None
    return Reference(
        key, f"the first {REFERENCE_DAYS} days of traffic from {first:%Y-%m-%d}", profile
    )


def compared_columns(model: MonitoredModel) -> list[str]:
    return [*model.features, *model.scores, *model.predictions]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def column_stats(profile: DatasetProfile, columns: Iterable[str]) -> dict[str, dict[str, Any]]:
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


def score_window(
    reference: DatasetProfile, current: DatasetProfile, columns: Sequence[str]
) -> dict[str, list[float]]:
    """{column: [severity, drifted]} of the columns both profiles have (severity 1 = the bar)."""
    from vigil.analysis.drift import drift

    compared = [c for c in columns if c in reference.columns and c in current.columns]
    if not compared or current.n_rows == 0:
        return {}
    report = drift(reference, current, columns=compared)
    return {
        name: [round(col.severity, 4), 1.0 if col.drifted else 0.0]
        for name, col in report.columns.items()
        if col.method != "skipped"
    }


class DriftCache:
    """Fills and reads cells. One instance per app; `refresh` runs under a lock so two requests
    (or the warmer) never compute the same cells at once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._profiles: ProfileCache = {}

    def reference(self, model: MonitoredModel) -> Reference | None:
        """`reference_of(model)`, its profile kept in memory between pages."""
        return reference_of(self.store, model, self._profiles)

    def cells(
        self,
        model_id: int,
        reference: str,
        granularity: str,
        start: dt.datetime | None = None,
        *,
        scores: bool = True,
        stats: bool = False,
    ) -> dict[dt.datetime, Cell]:
        """The stored cells by start; their scores and statistics only when asked (each is a
        JSON document per cell, the costly part of reading them)."""
        columns = [DriftCell.start, DriftCell.n_rows, DriftCell.source_arrival]
        columns += [DriftCell.scores] if scores else []
        columns += [DriftCell.stats] if stats else []
        query = select(*columns).where(
            DriftCell.model_id == model_id,
            DriftCell.reference == reference,
            DriftCell.granularity == granularity,
        )
        if start is not None:
            query = query.where(DriftCell.start >= start)
        with self.store.session() as session:
            try:
                rows = session.execute(query).all()
            finally:
                session.rollback()
        out = {}
        for row in rows:
            values = list(row)
            out[values[0]] = Cell(
                start=values[0],
                n_rows=values[1],
                source_arrival=values[2],
                scores=values[3] if scores else {},
                stats=values[-1] if stats else {},
            )
        return out

    def refresh(
        self,
        model: MonitoredModel,
        reference: Reference,
        granularity: str,
        *,
        start: dt.datetime | None = None,
        budget_seconds: float | None = None,
        wait: bool = False,
        wanted: list[Bucket] | None = None,
    ) -> int:
        """Compute missing and stale cells, newest first, until done or out of time; returns how
        many are still missing (0: the cache is complete for this range)."""
        if not self._lock.acquire(blocking=wait):
            return -1
        try:
            return self._refresh(model, reference, granularity, start, budget_seconds, wanted)
        finally:
            self._lock.release()

    def _refresh(
        self,
        model: MonitoredModel,
        reference: Reference,
        granularity: str,
        start: dt.datetime | None,
        budget_seconds: float | None,
        wanted: list[Bucket] | None,
    ) -> int:
        began = time.monotonic()
        columns = compared_columns(model)
        if wanted is None:
            with self.store.session() as session:
                wanted = buckets(session, model.id, granularity, start)
                session.rollback()
        have = self.cells(model.id, reference.key, granularity, start, scores=False)
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
            if done and budget_seconds is not None and time.monotonic() - began > budget_seconds:
                break
            with self.store.session() as session:
                current = merged_windows(session, bucket.window_ids)
                scores = score_window(reference.profile, current, columns)
                stats = column_stats(current, columns)
                row = session.scalars(
                    select(DriftCell).where(
                        DriftCell.model_id == model.id,
                        DriftCell.reference == reference.key,
                        DriftCell.granularity == granularity,
                        DriftCell.start == bucket.start,
                    )
                ).one_or_none()
                if row is None:
                    row = DriftCell(
                        model_id=model.id,
                        reference=reference.key,
                        granularity=granularity,
                        start=bucket.start,
                    )
                    session.add(row)
                row.n_rows = bucket.n_rows
                row.source_arrival = bucket.last_arrival
                row.scores = scores
                row.stats = stats
                try:
                    session.commit()
                except IntegrityError:  # another process wrote it first: theirs is as good
                    session.rollback()
            done += 1
        return len(todo) - done


class Warmer:
    """A background thread that keeps every model's daily cells (and the last week's hourly
    ones) computed, so a page rarely waits for drift statistics."""

    def __init__(self, cache: DriftCache, interval: float) -> None:
        self.cache = cache
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="vigil-dashboard-warmer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def warm_once(self) -> None:
        with self.cache.store.session() as session:
            models = session.scalars(select(MonitoredModel)).all()
            session.expunge_all()
        for model in models:
            if self._stop.is_set():
                return
            reference = self.cache.reference(model)
            if reference is None:
                continue
            self.cache.refresh(model, reference, "day", wait=True)
            week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            with self.cache.store.session() as session:
                last = latest_start(session, model.id)
                session.rollback()
            if last is not None:
                week = min(week, last - dt.timedelta(days=7))
            self.cache.refresh(model, reference, "hour", start=week, wait=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm_once()
            except Exception:  # keep warming other rounds; a page computes what it needs itself
                logger.exception("dashboard cache warm-up failed")
            self._stop.wait(self.interval)
