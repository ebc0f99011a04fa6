"""Drift per calendar period (hour, day, week, month, quarter, year, in a time zone) for the
dashboard's heatmap, from the model's drift monitors.

A period that a drift monitor of exactly that grid watches is read as the monitor stored it
(`vigil.monitor.reading.drift_cells`): nothing is recomputed. Any other period is what the
model's drift monitors would measure with that grid: the same kind, columns, tests and baseline
(a fixed baseline, a profile or a period, is the monitor's own; a trailing one counts periods
of the new grid), on the
merge of the period's stored windows (sketches merged, never averaged). Those figures are kept
in `dashboard_drift_cells` under a key naming the monitor's definition and the grid, and are
measured again when a window of the period receives data later. A period whose data retention
rolled up into a coarser window (the hours of a rolled day) is not measured: its figures would be
the day's (`PeriodCells.rolled`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError, NotFoundError
from vigil.monitor.baselines import baseline_starts
from vigil.monitor.definitions import Monitor
from vigil.monitor.evaluate import MeasuredProfiles, runs_of
from vigil.monitor.kinds import Context
from vigil.monitor.monitor_run import MonitorRun
from vigil.monitor.reader import WindowReader
from vigil.monitor.reading import ColumnFigures, DriftCell, drift_cells, drift_monitors
from vigil.monitor.specs import (
    AnyBaseline,
    PeriodBaseline,
    ProfileBaseline,
    RegistryBaseline,
    SeasonalBaseline,
)
from vigil.profile import DatasetProfile
from vigil.store.core import Store
from vigil.store.dashboard_tables import DriftCell as DriftCellRow
from vigil.store.dashboard_tables import save_drift_cell
from vigil.store.repositories import ModelRepository, spec_of
from vigil.windows import EPOCH, Grid

_US = dt.timedelta(microseconds=1)
KEY_PREFIX = "period-drift:"
"""The `reference` of derived cells in `dashboard_drift_cells` (`STATS_KEY` rows are others)."""


@dataclass(frozen=True)
class Period:
    """One period of the grid with stored data: its rows and how much of it has data."""

    start: dt.datetime
    end: dt.datetime
    n_rows: int
    last_arrival: dt.datetime
    first_data: dt.datetime
    """The start of the period's first stored window."""
    data_end: dt.datetime
    """The end of the period's last stored window (a window of the model's own grid, or the day
    or month retention rolled windows up into)."""
    covered: float
    """The share of the period's time that stored windows cover (0..1)."""
    n_parts: int = 0
    """How many stored windows the period holds (what measuring it decodes and merges)."""

    @property
    def rolled(self) -> bool:
        """Whether one of its stored windows reaches beyond the period (retention rolled the
        windows up into a day or a month): the period alone can no longer be measured."""
        return self.data_end > self.end


@dataclass(frozen=True)
class PeriodCells:
    """A model's drift per period of one grid, over a range."""

    grid: Grid
    monitors: list[Monitor]
    """The drift monitors the figures are of (re-gridded when `derived`)."""
    cells: dict[dt.datetime, DriftCell] = field(default_factory=dict)
    periods: dict[dt.datetime, Period] = field(default_factory=dict)
    """Every period of the range with stored data, by start."""
    derived: bool = False
    """Whether the figures were measured here on merged periods (no monitor of this grid)."""
    pending: tuple[dt.datetime, ...] = ()
    """Periods with data whose figures are still to be measured (out of time budget)."""
    skipped: tuple[str, ...] = ()
    """Drift monitors that cannot be measured on this grid, with the reason."""
    deferred: tuple[dt.datetime, ...] = ()
    """Periods with more stored windows than the call's `max_parts`: left to a caller without
    that bound (the dashboard's background warmer)."""
    rolled: tuple[dt.datetime, ...] = ()
    """Periods not measured because their data lies in a coarser stored window (`Period.rolled`):
    a day's figures are not an hour's."""


def cache_key(monitor: Monitor, grid: Grid) -> str:
    """The `reference` of a monitor's derived cells on `grid`: a changed definition (other
    columns, tests or baseline) is a new key, so its stale figures are never read."""
    definition = monitor.model_dump(mode="json", exclude={"window", "channels", "severity"})
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:16]
    key = f"{KEY_PREFIX}{monitor.name}:{digest}:{grid.to_str()}"
    return key[:300]


def regridded(monitor: Monitor, grid: Grid) -> Monitor:
    """The monitor as it would be defined with `grid`'s windows (validated like a new one)."""
    body = monitor.model_dump(mode="json")
    body["window"] = grid.to_str()
    return Monitor.model_validate(body)


def periods(
    session: Session, model: str, grid: Grid, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, Period]:
    """The periods of `grid` in [floor(start), end) holding stored windows (whole traffic, every
    version), without reading a profile (the windows' starts floored at once, vectorised).

    A stored window covers its own time: one of the model's grid windows, or the whole day or
    month retention rolled it up into (its `end`), so a rolled day counts its 24 hours."""
    row = ModelRepository(session).get(model)
    fine = spec_of(row).grid
    stored = WindowReader(session).stored(row.id, None, grid.floor(start), end)
    if not stored:
        return {}
    micros = np.array([(w.start - EPOCH) // _US for w in stored], dtype=np.int64)
    keys = grid.floor_micros(micros).tolist()
    fine_starts = fine.floor_micros(micros).tolist()
    fine_ends = {f: fine.next(_at(f)) for f in set(fine_starts)}
    grouped: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        grouped.setdefault(key, []).append(i)
    out = {}
    for key, members in grouped.items():
        begin = _at(key)
        period_end = grid.next(begin)
        spans = {
            (
                _at(fine_starts[i]),
                max(stored[i].end or fine_ends[fine_starts[i]], fine_ends[fine_starts[i]]),
            )
            for i in members
        }
        out[begin] = Period(
            begin,
            period_end,
            sum(stored[i].n_rows for i in members),
            max(stored[i].last_arrival for i in members),
            min(a for a, _ in spans),
            max(b for _, b in spans),
            _covered(spans, begin, period_end),
            len(members),
        )
    return out


def _covered(
    spans: Iterable[tuple[dt.datetime, dt.datetime]], begin: dt.datetime, end: dt.datetime
) -> float:
    """The share of [begin, end) that the union of `spans` covers."""
    total = dt.timedelta(0)
    reach = begin
    for a, b in sorted(spans):
        a, b = max(a, reach), min(b, end)
        if b > a:
            total += b - a
            reach = b
    return min(total / max(end - begin, _US), 1.0)


def _at(micros: int) -> dt.datetime:
    return EPOCH + micros * _US


def period_drift(
    store: Store,
    model: str,
    grid: Grid,
    start: dt.datetime,
    end: dt.datetime,
    *,
    budget_seconds: float | None = None,
    max_parts: int | None = None,
) -> PeriodCells:
    """The model's drift per period of `grid` in [floor(start), end): stored results of a drift
    monitor of that grid, else measured (and kept) here, newest first, until `budget_seconds`
    is spent (at least one period per call, so repeated calls always progress). A period of
    more than `max_parts` stored windows is not measured here (`deferred`): a web request must
    not decode a quarter of hourly profiles.

    Its reads go in read sessions and each cell it keeps is written in a short transaction of its
    own: on SQLite the measuring happens without the write lock, so uploads never wait for it."""
    with store.read_session() as session:
        try:
            found = periods(session, model, grid, start, end)
            exact = drift_monitors(session, model, grid)
            if exact:
                stored = drift_cells(session, model, grid, grid.floor(start), end)
                return PeriodCells(grid, stored.monitors, stored.cells, found)
            bases, skipped = _bases(drift_monitors(session, model), grid)
        finally:
            session.rollback()
    if not bases:
        return PeriodCells(
            grid,
            [],
            {},
            found,
            True,
            (),
            tuple(skipped),
            rolled=tuple(s for s, p in found.items() if p.rolled),
        )
    began = time.monotonic()
    cells: dict[dt.datetime, DriftCell] = {}
    pending: list[dt.datetime] = []
    deferred: set[dt.datetime] = set()
    rolled: set[dt.datetime] = set()
    with store.read_session() as session, store.session() as writer:
        model_id = ModelRepository(session).get(model).id
        runs = _prepared_runs(store, session, bases, grid)
        done = 0
        for base, run, own in runs:
            key = cache_key(base, grid)
            kept = _kept(session, model_id, key, grid, grid.floor(start), end)
            session.rollback()
            for begin in sorted(found, reverse=True):
                period = found[begin]
                if period.rolled:
                    rolled.add(begin)
                    continue
                row = kept.get(begin)
                if row is None or row[0] != period.n_rows or row[1] < period.last_arrival:
                    if max_parts is not None and period.n_parts > max_parts:
                        deferred.add(begin)
                        continue
                    late = budget_seconds is not None and time.monotonic() - began > budget_seconds
                    if done and late:
                        pending.append(begin)
                        continue
                    figures = _measure(run, own, begin)  # its read ended before measuring
                    _write(writer, model_id, key, grid, period, figures)
                    done += 1
                else:
                    figures = row[2]
                cell = cells.setdefault(begin, DriftCell(begin, {}, {}))
                for name, values in figures.items():
                    if name not in cell.columns and isinstance(values, dict):
                        cell.columns[name] = ColumnFigures.of(values)
                        cell.monitors[name] = base.name
    return PeriodCells(
        grid,
        [run.monitor for _, run, _ in runs],
        cells,
        found,
        True,
        tuple(sorted(set(pending))),
        tuple(skipped),
        tuple(sorted(deferred)),
        tuple(sorted(rolled)),
    )


def _bases(monitors: Sequence[Monitor], grid: Grid) -> tuple[list[Monitor], list[str]]:
    """The drift monitors measurable on `grid`, one per distinct definition (first by name)."""
    bases, skipped, seen = [], [], set()
    for monitor in monitors:
        if isinstance(monitor.effective_baseline(), SeasonalBaseline) and grid.unit not in (
            "hour",
            "day",
        ):
            skipped.append(
                f"{monitor.name}: a seasonal baseline (the same window in earlier weeks) has no "
                f"{grid.unit}ly meaning"
            )
            continue
        digest = cache_key(monitor, grid).split(":")[2]
        if digest not in seen:
            seen.add(digest)
            bases.append(monitor)
    return bases, skipped


def _prepared_runs(
    store: Store, session: Session, bases: Sequence[Monitor], grid: Grid
) -> list[tuple[Monitor, MonitorRun, MonitorRun]]:
    """(monitor, its evaluation run with `grid`'s windows, its own run) of the base monitors
    (nothing is recorded)."""
    reader = WindowReader(session)
    runs = {
        run.monitor.name: run for run in runs_of(store, session, [m.name for m in bases], reader)
    }
    out = []
    for base in bases:
        run = runs.get(base.name)
        if run is None:
            continue
        if not grid.nests(run.model.grid):
            raise InvalidInputError(
                f"model {run.model.name!r} stores {run.model.grid} windows, which {grid} "
                f"periods are not made of; choose a period its windows fit in",
                window=grid.to_str(),
            )
        out.append(
            (base, replace(run, monitor=regridded(base, grid), windows={}, references={}), run)
        )
    return out


def _fixed(baseline: AnyBaseline) -> bool:
    """Whether the baseline is the same for every window (a profile, a version, a period)."""
    return isinstance(baseline, PeriodBaseline | ProfileBaseline | RegistryBaseline)


def _reference(run: MonitorRun, base: MonitorRun, start: dt.datetime) -> DatasetProfile | None:
    """The profile the period at `start` is compared with: a fixed baseline (a profile, a
    registered version, a period) is the monitor's own, read on its own grid; a trailing one is
    the periods of the new grid before this one."""
    baseline = run.monitor.effective_baseline()
    source = base if _fixed(baseline) else run
    return source.reference(tuple(baseline_starts(baseline, start, source.monitor.grid)))


def _measure(run: MonitorRun, base: MonitorRun, start: dt.datetime) -> dict[str, object]:
    """The per-column figures the run's kind measures on the period at `start` ({} when it
    measured nothing, e.g. the baseline has no data)."""
    (window,) = run.prepare([start])
    reference = _reference(run, base, start)
    run.session.rollback()
    if reference is None:
        return {}
    context = Context(run.monitor, run.model, reference, run.first_data, run.store)
    measurement = run.kind.measure(context, window)
    run.reader.forget(getattr(window, "parts", ()))
    run.windows.pop(start, None)
    columns = measurement.details.get("columns") or {}
    return dict(columns) if isinstance(columns, dict) else {}


def _kept(
    session: Session,
    model_id: int,
    key: str,
    grid: Grid,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[dt.datetime, tuple[int, dt.datetime, dict[str, object]]]:
    rows = session.execute(
        select(
            DriftCellRow.start,
            DriftCellRow.n_rows,
            DriftCellRow.source_arrival,
            DriftCellRow.scores,
        ).where(
            DriftCellRow.model_id == model_id,
            DriftCellRow.reference == key,
            DriftCellRow.granularity == grid.unit,
            DriftCellRow.start >= start,
            DriftCellRow.start < end,
        )
    )
    return {s: (n, at, dict(scores or {})) for s, n, at, scores in rows}


def _write(
    session: Session,
    model_id: int,
    key: str,
    grid: Grid,
    period: Period,
    figures: dict[str, object],
) -> None:
    save_drift_cell(
        session,
        model_id=model_id,
        reference=key,
        granularity=grid.unit,
        start=period.start,
        n_rows=period.n_rows,
        source_arrival=period.last_arrival,
        scores=figures,
    )


def period_profiles(store: Store, monitor: str, grid: Grid, start: dt.datetime) -> MeasuredProfiles:
    """The profiles a drift cell of `grid` compares: the period's merged stored windows and the
    monitor's baseline on that grid (for the cell's distribution chart)."""
    with store.read_session() as session:
        try:
            runs = runs_of(store, session, [monitor])
            if not runs:
                raise NotFoundError(f"no enabled monitor {monitor!r} with a model", monitor=monitor)
            own = runs[0]
            run = replace(own, monitor=regridded(own.monitor, grid), windows={}, references={})
            begin = grid.floor(start)
            (window,) = run.prepare([begin])
            reference = _reference(run, own, begin)
            window.profile  # noqa: B018 - decoded while the session is open
        finally:
            session.rollback()
    return MeasuredProfiles(window, reference)
