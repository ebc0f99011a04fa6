"""Evaluation: measure each closed window of each monitor, store the result, update its alert.

`evaluate_due` continues every monitor from where it stopped (windows that closed since) and
re-evaluates past windows that received data after they were evaluated (within the grace
period); `backfill` evaluates a given period. Both are what the scheduler and
`vigil monitors run` call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vigil import deadline
from vigil.api.specs import ModelSpec
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.monitor import alerts
from vigil.monitor.baselines import baseline_starts, fixed
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import Context, Measurement, MonitorKind, get_kind
from vigil.monitor.reader import WindowReader
from vigil.monitor.specs import LearnedThreshold, ProfileBaseline, RegistryBaseline
from vigil.monitor.targets import ResolvedTarget, resolve
from vigil.monitor.thresholds import Bounds, learned_bounds, static_bounds
from vigil.monitor.windows import Window
from vigil.profile import DatasetProfile
from vigil.progress import bar
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.store.models import ProfileWindow
from vigil.store.monitor_tables import MonitorResultRow, MonitorRow
from vigil.store.repositories import ModelRepository, spec_of, utcnow

logger = logging.getLogger("vigil.monitor")


@dataclass(frozen=True)
class WindowResult:
    """One monitor evaluated on one window."""

    monitor: str
    window_start: dt.datetime
    window_end: dt.datetime
    value: float | None
    lower: float | None
    upper: float | None
    breached: bool
    message: str


@dataclass
class _Run:
    """Caches of one monitor's evaluation run (loaded windows, references, baseline values);
    the windows come from the tick's reader, shared by every monitor of the tick."""

    store: Store
    session: Session
    reader: WindowReader
    row_id: int
    evaluated_until: dt.datetime | None
    monitor: Monitor
    model_id: int
    model: ModelSpec
    first_data: dt.datetime | None = None
    target: ResolvedTarget = field(default_factory=lambda: ResolvedTarget(None))
    windows: dict[dt.datetime, Window] = field(default_factory=dict)
    references: dict[tuple[dt.datetime, ...], DatasetProfile | None] = field(default_factory=dict)
    values: dict[tuple[tuple[dt.datetime, ...], dt.datetime], float | None] = field(
        default_factory=dict
    )

    @property
    def kind(self) -> MonitorKind:
        return get_kind(self.monitor.kind)

    def load(self, starts: Iterable[dt.datetime]) -> list[Window]:
        starts = list(starts)
        missing = [s for s in starts if s not in self.windows]
        self.windows.update(
            self.reader.load(
                self.model_id,
                self.target.version,
                missing,
                self.monitor.grid,
                segment=self.target.segment,
                profiles=self.kind.needs_profile or self.kind.needs_reference,
            )
        )
        return [self.windows[s] for s in starts]

    def reference(self, starts: tuple[dt.datetime, ...]) -> DatasetProfile | None:
        if not self.kind.needs_reference:
            return None
        if starts not in self.references:
            # Monitors of one tick often share a baseline: the reader loads each one once.
            baseline = self.monitor.effective_baseline()
            if isinstance(baseline, ProfileBaseline):
                artifact = baseline.artifact
                self.references[starts] = self.reader.shared(
                    f"artifact:{artifact}",
                    lambda: DatasetProfile.from_bytes(self.store.artifacts.get(artifact)),
                )
            elif isinstance(baseline, RegistryBaseline):
                self.references[starts] = self._registry_profile(baseline)
            else:
                key = (
                    f"windows:{self.model_id}:{self.target.version}:{self.target.segment}:"
                    f"{self.monitor.grid}:{','.join(s.isoformat() for s in starts)}"
                )
                self.references[starts] = self.reader.shared(key, lambda: self._merged(starts))
        return self.references[starts]

    def _merged(self, starts: tuple[dt.datetime, ...]) -> DatasetProfile | None:
        windows = [w for w in self.load(starts) if w.n_rows]
        return DatasetProfile.merge_all(w.profile for w in windows) if windows else None

    def _registry_profile(self, baseline: RegistryBaseline) -> DatasetProfile | None:
        name = baseline.model or self.model.registry_model
        if name is None:
            raise InvalidInputError(
                f"monitor {self.monitor.name!r} has a registry baseline without `model`, and "
                f"model {self.model.name!r} names no registry_model"
            )
        registry = Registry(self.store, actor="vigil")
        version = baseline.version
        if version is None:
            assert baseline.alias is not None
            version = registry.get_alias(name, baseline.alias).version
        return self.reader.shared(
            f"registry:{name}:{version}", lambda: registry.training_profile(name, version)
        )

    def measure(self, window: Window) -> tuple[Measurement, Bounds | None]:
        baseline = self.monitor.effective_baseline()
        starts = tuple(baseline_starts(baseline, window.start, self.monitor.grid))
        reference = self.reference(starts)
        if self.kind.needs_reference and reference is None:
            return Measurement(None, "the baseline has no data yet"), None
        context = Context(self.monitor, self.model, reference, self.first_data, self.store)
        measurement = self.kind.measure(context, window)
        threshold = self.monitor.effective_threshold()
        if not isinstance(threshold, LearnedThreshold):
            return measurement, static_bounds(threshold)
        values = []
        for base in self.load(starts):
            key = (starts if not fixed(baseline) else (), base.start)
            if key not in self.values:
                self.values[key] = self.kind.measure(context, base).value
            value = self.values[key]
            if value is not None:
                values.append(value)
        return measurement, learned_bounds(threshold, values)

    def prepare(self, starts: list[dt.datetime]) -> list[Window]:
        """Load the windows at `starts` and every baseline window they are compared with (the
        read phase: measuring then needs no database transaction)."""
        baseline = self.monitor.effective_baseline()
        wanted = set(starts)
        for start in starts:
            wanted.update(baseline_starts(baseline, start, self.monitor.grid))
        self.load(sorted(wanted))
        return [self.windows[s] for s in starts]

    def measure_safely(self, window: Window) -> tuple[Measurement, Bounds | None]:
        try:
            return self.measure(window)
        except VigilError as exc:
            return Measurement(None, f"error: {exc.message}"), None

    def record(
        self, window: Window, measurement: Measurement, bounds: Bounds | None
    ) -> WindowResult:
        """Store the result of one window and update the alert (the write phase)."""
        value = measurement.value
        breached = value is not None and bounds is not None and bounds.breached(value)
        message = measurement.message
        if value is not None and bounds is None:
            message += " (too few baseline windows to learn a threshold)"
        result = WindowResult(
            self.monitor.name,
            window.start,
            window.end,
            value,
            bounds.lower if bounds else None,
            bounds.upper if bounds else None,
            breached,
            message,
        )
        self._store(result, dict(measurement.details))
        alerts.record(
            self.session,
            self.row_id,
            self.monitor,
            window,
            breached=breached,
            value=value if bounds is not None else None,
            message=message,
            details={**dict(measurement.details), "lower": result.lower, "upper": result.upper},
        )
        return result

    def _store(self, result: WindowResult, details: dict[str, object]) -> None:
        stored = self.session.scalars(
            select(MonitorResultRow).where(
                MonitorResultRow.monitor_id == self.row_id,
                MonitorResultRow.window_start == result.window_start,
            )
        ).first()
        if stored is None:
            stored = MonitorResultRow(monitor_id=self.row_id, window_start=result.window_start)
            self.session.add(stored)
        stored.window_end = result.window_end
        stored.value = result.value
        stored.lower, stored.upper = result.lower, result.upper
        stored.breached = result.breached
        stored.message = result.message
        stored.details = details
        stored.evaluated_at = utcnow()


def _runs(
    store: Store, session: Session, names: Iterable[str] | None, reader: WindowReader | None = None
) -> list[_Run]:
    reader = reader or WindowReader(session)
    query = select(MonitorRow).order_by(MonitorRow.name)
    if names is not None:
        query = query.where(MonitorRow.name.in_(list(names)))
    runs = []
    for row in session.scalars(query).all():
        monitor = Monitor.model_validate(row.definition)
        if not monitor.enabled:
            continue
        model = ModelRepository(session).find(monitor.target.model)
        if model is None:
            logger.warning(
                "monitor %s: its model %r does not exist", monitor.name, monitor.target.model
            )
            continue
        spec = spec_of(model)
        if not monitor.grid.nests(spec.grid):
            logger.warning(
                "monitor %s: its %s windows are not unions of model %r's %s windows; skipped",
                monitor.name,
                monitor.grid,
                model.name,
                spec.grid,
            )
            continue
        first = session.scalar(
            select(func.min(ProfileWindow.start)).where(ProfileWindow.model_id == model.id)
        )
        try:
            target = resolve(session, monitor.target, spec, model.id)
        except VigilError as exc:  # e.g. the alias was deleted: say so, evaluate the others
            logger.warning("monitor %s: %s; skipped", monitor.name, exc.message)
            continue
        runs.append(
            _Run(
                store,
                session,
                reader,
                row.id,
                row.evaluated_until,
                monitor,
                model.id,
                spec,
                first,
                target,
            )
        )
    return runs


LOCK_BASE = 0x5649_0000  # pg advisory lock keys of monitors: LOCK_BASE + monitor id


def _lock(session: Session, run: _Run) -> None:
    """On PostgreSQL, hold the monitor's lock for this write transaction, so that two server
    processes record one monitor's results one after the other (SQLite serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_BASE + run.row_id})


def _closed_until(monitor: Monitor, now: dt.datetime) -> dt.datetime:
    return monitor.grid.floor(now - monitor.delay)


def evaluate_due(
    store: Store, *, now: dt.datetime | None = None, monitors: Iterable[str] | None = None
) -> list[WindowResult]:
    """Evaluate every window that closed since each monitor's last run, and re-evaluate closed
    windows within the grace period that received data after they were evaluated.

    A monitor evaluated for the first time starts one grace period (at least one window) back.
    """
    now = now or utcnow()
    results: list[WindowResult] = []
    with store.session() as session:
        for run in _runs(store, session, monitors):
            try:
                results.extend(_due(session, run, now))
            except Exception:  # one broken monitor must not stop the others
                session.rollback()
                logger.exception("monitor %s: evaluation failed", run.monitor.name)
    return results


def _due(session: Session, run: _Run, now: dt.datetime) -> list[WindowResult]:
    monitor, cut = run.monitor, run.monitor.grid
    closed = _closed_until(monitor, now)
    since = min(closed - monitor.grace, cut.shift(closed, -1))  # at least one window back
    start = run.evaluated_until or cut.floor(since)
    starts = set(cut.starts(start, closed))
    starts.update(_late(session, run, cut.floor(since), start))
    return _evaluate(session, run, sorted(starts), closed)


def _evaluate(
    session: Session, run: _Run, starts: list[dt.datetime], closed: dt.datetime
) -> list[WindowResult]:
    """Read, then measure with no transaction open (on SQLite a transaction holds the write lock,
    and ingestion must not wait for drift statistics), then write in one short transaction."""
    windows = run.prepare(starts)
    session.rollback()
    measured = [(w, *run.measure_safely(w)) for w in windows]
    _lock(session, run)
    results = [run.record(w, m, b) for w, m, b in measured]
    row = session.get(MonitorRow, run.row_id)
    if row is not None and (row.evaluated_until is None or closed > row.evaluated_until):
        row.evaluated_until = closed
    session.commit()
    return results


def _late(session: Session, run: _Run, since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Evaluated windows in [since, until) whose data arrived after their evaluation."""
    if since >= until:
        return []
    evaluated = {
        r.window_start: r.evaluated_at
        for r in session.scalars(
            select(MonitorResultRow).where(
                MonitorResultRow.monitor_id == run.row_id,
                MonitorResultRow.window_start >= since,
                MonitorResultRow.window_start < until,
            )
        ).all()
    }
    windows = run.reader.load(
        run.model_id,
        run.target.version,
        list(evaluated),
        run.monitor.grid,
        segment=run.target.segment,
        profiles=False,
    )
    late = {
        s
        for s, w in windows.items()
        if w.last_arrival is not None and w.last_arrival > evaluated[s]
    }
    # The kind reads with its own session: end this read transaction first (on SQLite every
    # transaction holds the write lock).
    session.rollback()
    context = Context(run.monitor, run.model, None, run.first_data, run.store)
    arrivals = run.kind.arrivals(context, evaluated) if evaluated else {}
    late.update(s for s, at in arrivals.items() if s in evaluated and at > evaluated[s])
    return sorted(late)


# Windows a backfill records in one write transaction: enough to amortise a commit, few enough
# that another writer waits for milliseconds, not for the range (on SQLite every transaction holds
# the write lock).
WINDOWS_PER_TRANSACTION = 12


def backfill(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    *,
    monitors: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    max_windows: int | None = None,
    progress: bool | None = False,
) -> list[WindowResult]:
    """Evaluate every closed window in [start, end) of each monitor, in time order.

    Windows are read, measured and recorded `WINDOWS_PER_TRANSACTION` at a time, each chunk in
    its own short transactions, so a backfill over a long range never holds the store's write lock
    for more than one chunk's results (other writers wait for milliseconds, not the whole range).
    With `max_windows`, a range holding more (monitor, window) evaluations than that is refused
    before any work (what the API does). `progress=None` shows a bar of the windows evaluated
    when a person is watching (`vigil.progress`); off by default, for the server.
    """
    now = now or utcnow()
    results: list[WindowResult] = []
    with store.session() as session:
        plans = []
        for run in _runs(store, session, monitors):
            closed = min(_closed_until(run.monitor, now), end)
            plans.append((run, closed, run.monitor.grid.count(start, closed)))
        total = sum(n for _, _, n in plans)
        if max_windows is not None and total > max_windows:
            counts = ", ".join(f"{run.monitor.name!r}: {n}" for run, _, n in plans if n)
            raise InvalidInputError(
                f"[{start.isoformat()}, {end.isoformat()}) holds {total} monitor windows "
                f"({counts}); one request evaluates at most {max_windows}: split the range, "
                "name fewer monitors, or run `vigil monitors run --from ... --to ...`",
                windows=total,
                limit=max_windows,
            )
        with bar(total=total, desc="backfilling", unit="windows", progress=progress) as shown:
            for run, closed, _ in plans:
                shown.describe(f"backfilling {run.monitor.name}")
                cut = run.monitor.grid
                first = cut.floor(start)
                if first >= closed:
                    _evaluate(session, run, [], closed)
                while first < closed:  # a chunk at a time: a long range is never one list
                    deadline.check("evaluating the backfill's windows")
                    chunk = [cut.shift(first, i) for i in range(WINDOWS_PER_TRANSACTION)]
                    chunk = [s for s in chunk if s < closed]
                    last = min(cut.next(chunk[-1]), closed)
                    results.extend(_evaluate(session, run, chunk, last))
                    shown.update(len(chunk))
                    first = cut.next(chunk[-1])
    return results


@dataclass(frozen=True)
class MeasuredProfiles:
    """What a monitor compared in one window: the window's profile and the baseline's."""

    window: Window
    reference: DatasetProfile | None


def measured_profiles(store: Store, monitor: str, start: dt.datetime) -> MeasuredProfiles:
    """The profiles monitor `monitor` compares in its window holding `start` (its own window and
    baseline, read as the evaluation reads them), to show what a stored measurement is about."""
    with store.session() as session:
        try:
            runs = _runs(store, session, [monitor])
            if not runs:
                raise NotFoundError(f"no enabled monitor {monitor!r} with a model", monitor=monitor)
            run = runs[0]
            window_start = run.monitor.grid.floor(start)
            baseline = run.monitor.effective_baseline()
            starts = tuple(baseline_starts(baseline, window_start, run.monitor.grid))
            (window,) = run.prepare([window_start])
            reference = run.reference(starts)
            window.profile  # noqa: B018 - decoded while the session is open
        finally:
            session.rollback()
    return MeasuredProfiles(window, reference)
