"""Evaluation: measure each closed window of each monitor, store the result, update its alert.

`evaluate_due` continues every monitor from where it stopped (windows that closed since) and
re-evaluates past windows that received data after they were evaluated (within the grace
period); `backfill` evaluates a given period. Both are what the scheduler and
`vigil monitors run` call.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from vigil import deadline
from vigil.api.specs import ModelSpec
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.monitor.baselines import baseline_starts
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import Context
from vigil.monitor.monitor_run import MonitorRun, Reference
from vigil.monitor.reader import ReadWindow, WindowReader
from vigil.monitor.recording import WINDOWS_PER_TRANSACTION, Measured, Pending, write_all, write_one
from vigil.monitor.results import SEEN_UPLOADS, WindowResult
from vigil.monitor.targets import resolve
from vigil.monitor.windows import Window
from vigil.profile import DatasetProfile
from vigil.progress import bar
from vigil.store.core import Store
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.monitor_tables import MonitorResultRow, MonitorRow
from vigil.store.repositories import spec_of, utcnow

logger = logging.getLogger("vigil.monitor")


def runs_of(
    store: Store,
    session: Session,
    names: Iterable[str] | None,
    reader: WindowReader | None = None,
    cache: EvaluationCache | None = None,
) -> list[MonitorRun]:
    """The enabled monitors' runs, by name, sharing one reader, one cache and one tick."""
    reader = reader or WindowReader(session)
    cache = cache or EvaluationCache()
    shared: dict[str, Reference] = {}
    # Monitors reading the same windows (model, version, segment, grid) share their metadata: a
    # window one of them read this tick is not read again by the next.
    tick_windows: dict[Hashable, dict[dt.datetime, ReadWindow]] = {}
    query = select(MonitorRow).order_by(MonitorRow.name)
    if names is not None:
        query = query.where(MonitorRow.name.in_(list(names)))
    runs = []
    enabled = [
        (row, monitor)
        for row in session.scalars(query).all()
        if (monitor := Monitor.model_validate(row.definition)).enabled
    ]
    models = _models(session, {monitor.target.model for _, monitor in enabled})
    for row, monitor in enabled:
        known = models.get(monitor.target.model)
        if known is None:
            logger.warning(
                "monitor %s: its model %r does not exist", monitor.name, monitor.target.model
            )
            continue
        model, spec, first = known
        if not monitor.grid.nests(spec.grid):
            logger.warning(
                "monitor %s: its %s windows are not unions of model %r's %s windows; skipped",
                monitor.name,
                monitor.grid,
                model.name,
                spec.grid,
            )
            continue
        try:
            target = resolve(session, monitor.target, spec, model.id)
        except VigilError as exc:  # e.g. the alias was deleted: say so, evaluate the others
            logger.warning("monitor %s: %s; skipped", monitor.name, exc.message)
            continue
        runs.append(
            MonitorRun(
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
                cache,
                shared,
                tick_windows.setdefault(
                    (model.id, target.version, target.segment, monitor.grid), {}
                ),
            )
        )
    return runs


def _models(
    session: Session, names: set[str]
) -> dict[str, tuple[MonitoredModel, ModelSpec, dt.datetime | None]]:
    """The existing models among `names`, each with its spec and its first window's start
    (None: no data yet), shared by its monitors: two statements for all of them (one model
    and one first start per statement took 6% of a steady tick)."""
    if not names:
        return {}
    found = session.scalars(select(MonitoredModel).where(MonitoredModel.name.in_(sorted(names))))
    rows = {model.id: model for model in found}
    starts = session.execute(
        select(ProfileWindow.model_id, func.min(ProfileWindow.start))
        .where(ProfileWindow.model_id.in_(sorted(rows)))
        .group_by(ProfileWindow.model_id)
    )
    firsts = {model_id: first for model_id, first in starts}
    return {m.name: (m, spec_of(m), firsts.get(model_id)) for model_id, m in rows.items()}


def _closed_until(monitor: Monitor, now: dt.datetime) -> dt.datetime:
    return monitor.grid.floor(now - monitor.delay)


def evaluate_due(
    store: Store,
    *,
    now: dt.datetime | None = None,
    monitors: Iterable[str] | None = None,
    cache: EvaluationCache | None = None,
) -> list[WindowResult]:
    """Evaluate every window that closed since each monitor's last run, and re-evaluate closed
    windows within the grace period that received data after they were evaluated.

    A monitor evaluated for the first time starts one grace period (at least one window) back.
    `cache` is what the process keeps between ticks (the scheduler's; without one, this call
    shares baselines and values between its own monitors only). The monitors are evaluated model
    by model, and a model's decoded windows leave memory once its last monitor is done; the
    results come in monitor name order.
    """
    now = now or utcnow()
    done: dict[int, list[WindowResult]] = {}
    # Everything is read in a read session (on SQLite: without the write lock) and only the
    # results are written in `session`, so uploads never wait for a tick's reads or measures.
    with store.read_session() as reading, store.session() as session:
        runs = _recording_in(session, runs_of(store, reading, monitors, cache=cache))
        by_model: dict[int, list[MonitorRun]] = {}
        for run in runs:
            by_model.setdefault(run.model_id, []).append(run)
        for model_runs in by_model.values():
            _prefetch(model_runs, now)
            evaluated = _evaluated(reading, model_runs, now)
            pending = []
            for run in model_runs:
                try:
                    pending.append(_due(reading, run, now, evaluated.get(run.row_id, [])))
                except Exception:  # one broken monitor must not stop the others
                    reading.rollback()
                    logger.exception("monitor %s: evaluation failed", run.monitor.name)
            done.update(write_all(session, pending))
            for run in model_runs:
                run.release()
    return [result for run in runs for result in done.get(run.row_id, [])]


def _recording_in(session: Session, runs: list[MonitorRun]) -> list[MonitorRun]:
    """`runs`, read in a read session, recording their results in `session`."""
    for run in runs:
        run.session = session
    return runs


@dataclass(frozen=True)
class _Span:
    """What a tick evaluates of one monitor: windows in [start, closed) are new; those in
    [since, start) are checked for late data."""

    since: dt.datetime
    start: dt.datetime
    closed: dt.datetime


def _span(run: MonitorRun, now: dt.datetime) -> _Span:
    monitor, cut = run.monitor, run.monitor.grid
    closed = _closed_until(monitor, now)
    since = cut.floor(min(closed - monitor.grace, cut.shift(closed, -1)))  # >= one window back
    return _Span(since, run.evaluated_until or since, closed)


def _prefetch(runs: list[MonitorRun], now: dt.datetime) -> None:
    """Read, in one statement per window grid, the metadata of the windows a model's monitors
    will read this tick: their new windows, the grace period checked for late data and the new
    windows' baseline windows (instead of two statements per monitor, most of them reading the
    same windows). A run reads anything else it needs (late windows' baselines) itself."""
    wanted: dict[int, tuple[MonitorRun, set[dt.datetime]]] = {}
    for run in runs:
        span, cut = _span(run, now), run.monitor.grid
        baseline = run.monitor.effective_baseline()
        due = list(cut.starts(span.start, span.closed))
        starts = wanted.setdefault(id(run.windows), (run, set()))[1]
        starts.update(due, cut.starts(span.since, span.start) if span.since < span.start else ())
        for start in due:
            starts.update(baseline_starts(baseline, start, cut))
    for run, starts in wanted.values():
        run.load(sorted(starts), profiles=False)


Evaluated = list[tuple[dt.datetime, dt.datetime, int | None]]
"""A monitor's stored results in its grace period: (window start, evaluated at, uploads seen)."""


def _evaluated(session: Session, runs: list[MonitorRun], now: dt.datetime) -> dict[int, Evaluated]:
    """The stored results each of a model's monitors checks for late data this tick (its grace
    period before the new windows), read in one statement for all of them (times and counts
    only: a drift result's details hold every column's figures)."""
    spans = {run.row_id: _span(run, now) for run in runs}
    spans = {row_id: span for row_id, span in spans.items() if span.since < span.start}
    if not spans:
        return {}
    rows = session.execute(
        _evaluated_statement(),
        {
            "monitors": list(spans),
            "since": min(span.since for span in spans.values()),
            "until": max(span.start for span in spans.values()),
        },
    )
    found: dict[int, Evaluated] = {}
    for row_id, start, at, n_uploads in rows:
        span = spans[row_id]
        if span.since <= start < span.start:
            found.setdefault(row_id, []).append((start, at, n_uploads))
    return found


@functools.cache
def _evaluated_statement() -> Select[int, dt.datetime, dt.datetime, int]:
    """`_evaluated`'s statement, built once (a tick runs it for every model). Parameters:
    monitors (a list), since, until."""
    return select(
        MonitorResultRow.monitor_id,
        MonitorResultRow.window_start,
        MonitorResultRow.evaluated_at,
        MonitorResultRow.details[SEEN_UPLOADS].as_integer(),
    ).where(
        MonitorResultRow.monitor_id.in_(bindparam("monitors", expanding=True)),
        MonitorResultRow.window_start >= bindparam("since"),
        MonitorResultRow.window_start < bindparam("until"),
    )


def _due(session: Session, run: MonitorRun, now: dt.datetime, evaluated: Evaluated) -> Pending:
    """The monitor's due windows measured (new ones and late ones), to be recorded."""
    span = _span(run, now)
    starts = set(run.monitor.grid.starts(span.start, span.closed))
    starts.update(_late(session, run, span.since, span.start, evaluated))
    return Pending(run, _measure(session, run, sorted(starts)), span.closed)


def _evaluate(
    reading: Session, run: MonitorRun, starts: list[dt.datetime], closed: dt.datetime
) -> list[WindowResult]:
    """Measure (reading in `reading`), then write in one short transaction of the run's session
    (`vigil.monitor.recording`)."""
    return write_one(run.session, Pending(run, _measure(reading, run, starts), closed))


def _measure(session: Session, run: MonitorRun, starts: list[dt.datetime]) -> Measured:
    """Read (in the read session `session`), end the read, then measure with no transaction
    open: on PostgreSQL no snapshot is held while drift statistics run, and the next read sees
    the last commit."""
    windows = run.prepare(starts)
    rolled = [w.start for w in windows if w.rolled is not None]
    if rolled:  # measured before retention rolled its data up: that result stays
        kept = set(
            session.scalars(
                select(MonitorResultRow.window_start).where(
                    MonitorResultRow.monitor_id == run.row_id,
                    MonitorResultRow.window_start.in_(rolled),
                )
            )
        )
        windows = [w for w in windows if w.start not in kept]
    session.rollback()
    return [(w, *run.measure_safely(w)) for w in windows]


def _late(
    session: Session,
    run: MonitorRun,
    since: dt.datetime,
    until: dt.datetime,
    results: Evaluated,
) -> list[dt.datetime]:
    """Evaluated windows in [since, until) whose data arrived after their evaluation: a later
    arrival, or another upload count than the one measured (an upload stamped before a tick read
    the window but committed after it arrives "before" the evaluation, yet was not in it).
    `results` are the monitor's stored results in [since, until) (`_evaluated`)."""
    if since >= until:
        return []
    evaluated, seen = {}, {}
    for start, at, n_uploads in results:
        evaluated[start], seen[start] = at, n_uploads
    # Read into the run: a trailing baseline's windows are among them.
    windows = run.load(sorted(evaluated), profiles=False)
    late = {
        w.start
        for w in windows
        # A rolled day's upload count is the day's, not new data.
        if w.rolled is None
        and (
            (w.last_arrival is not None and w.last_arrival > evaluated[w.start])
            # A result stored before counts were kept has none: judged by time only, so that
            # an upgrade does not evaluate every monitor's grace period again.
            or bool(w.n_uploads and seen[w.start] is not None and w.n_uploads != seen[w.start])
        )
    }
    # The kind reads in sessions of its own: end this read first (a snapshot is not kept open
    # while the kind measures).
    session.rollback()
    context = Context(run.monitor, run.model, None, run.first_data, run.store)
    arrivals = run.kind.arrivals(context, evaluated) if evaluated else {}
    late.update(s for s, at in arrivals.items() if s in evaluated and at > evaluated[s])
    return sorted(late)


def backfill(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    *,
    monitors: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    max_windows: int | None = None,
    progress: bool | None = False,
    cache: EvaluationCache | None = None,
) -> list[WindowResult]:
    """Evaluate every closed window in [start, end) of each monitor, in time order.

    Windows are read, measured and recorded `WINDOWS_PER_TRANSACTION` at a time, each chunk in
    its own short transactions, so a backfill over a long range never holds the store's write lock
    for more than one chunk's results (other writers wait for milliseconds, not the whole range).
    With `max_windows`, a range holding more (monitor, window) evaluations than that is refused
    before any work (what the API does). `progress=None` shows a bar of the windows evaluated
    when a person is watching (`vigil.progress`); off by default, for the server. `cache` as in
    `evaluate_due`.
    """
    now = now or utcnow()
    results: list[WindowResult] = []
    with store.read_session() as reading, store.session() as session:
        plans = []
        for run in _recording_in(session, runs_of(store, reading, monitors, cache=cache)):
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
                    _evaluate(reading, run, [], closed)
                while first < closed:  # a chunk at a time: a long range is never one list
                    deadline.check("evaluating the backfill's windows")
                    chunk = [cut.shift(first, i) for i in range(WINDOWS_PER_TRANSACTION)]
                    chunk = [s for s in chunk if s < closed]
                    last = min(cut.next(chunk[-1]), closed)
                    results.extend(_evaluate(reading, run, chunk, last))
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
    with store.read_session() as session:
        try:
            runs = runs_of(store, session, [monitor])
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
