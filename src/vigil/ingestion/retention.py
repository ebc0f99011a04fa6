"""Retention: each model's policy (how long raw rows, fine windows, resolved alerts and events are
kept), and applying it (`vigil db compact`, and the server's retention worker).

A model is immutable (`ModelSpec`), its policy is not: it lives in its own table, one row per model
that has one; no row keeps everything for ever.

>>> policy = RetentionIn(rows_days=30, daily_after_days=7, monthly_after_days=90)
>>> set_policy(session, "churn", policy, actor="ana")          # doctest: +SKIP
>>> apply(store, models=["churn"])                              # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import get_args

from pydantic import TypeAdapter
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from vigil.analysis.onset import MAX_POINTS
from vigil.api.retention import RETENTION_FIELDS, RetentionIn, RetentionOut
from vigil.errors import VigilError
from vigil.ingestion import rollup
from vigil.ingestion.retention_outcome import Outcome as Outcome
from vigil.store.collab_tables import EventDeliveryRow, EventRow
from vigil.store.core import Store
from vigil.store.dashboard_tables import delete_cells
from vigil.store.models import RetentionPolicy
from vigil.store.monitor_tables import AlertEventRow, AlertRow, MonitorResultRow, MonitorRow
from vigil.store.predictions import Kind, PredictionStore
from vigil.store.repositories import ModelRepository, spec_of
from vigil.store.sql import utcnow
from vigil.windows import Grid

logger = logging.getLogger(__name__)

_CHUNK = 500
_DURATION = TypeAdapter(dt.timedelta)


def get_policy(session: Session, model_name: str) -> RetentionOut:
    """The model's policy (everything kept for ever when none was set)."""
    model = ModelRepository(session).get(model_name)
    row = session.get(RetentionPolicy, model.id)
    if row is None:
        return RetentionOut(model=model.name)
    values = {name: getattr(row, name) for name in RETENTION_FIELDS}
    return RetentionOut(
        model=model.name, **values, updated_at=row.updated_at, updated_by=row.updated_by
    )


def set_policy(
    session: Session, model_name: str, policy: RetentionIn, *, actor: str = ""
) -> RetentionOut:
    """Replace the model's policy with `policy`, as set by `actor`, and commit."""
    model = ModelRepository(session).get(model_name)
    row = session.get(RetentionPolicy, model.id, with_for_update=True)
    if row is None:
        row = RetentionPolicy(model_id=model.id)
        session.add(row)
    for name in RETENTION_FIELDS:
        setattr(row, name, getattr(policy, name))
    row.updated_at = utcnow()
    row.updated_by = actor
    session.commit()
    return get_policy(session, model_name)


def apply(
    store: Store,
    *,
    models: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> list[Outcome]:
    """Apply the policies of `models` (default: every model that has one) as of `now`.

    A dry run reads what would be deleted or rolled up and changes nothing. A named model
    without a policy is reported with nothing to do; an unknown name raises NotFoundError.
    """
    moment = now or utcnow()
    with store.session() as session:
        repository = ModelRepository(session)
        named = [repository.get(name) for name in models] if models else None
        rows = {row.model_id: row for row in session.scalars(select(RetentionPolicy))}
        targets = named if named is not None else [m for m in repository.list() if m.id in rows]
        work = [(m.id, m.name, spec_of(m).grid.tz, _policy(rows.get(m.id))) for m in targets]
        session.rollback()
    outcomes = []
    for model_id, name, tz, policy in work:
        outcome = Outcome(name)
        if not policy.keeps_everything:
            _apply_one(store, model_id, tz, policy, moment, dry_run, outcome)
        outcomes.append(outcome)
    return outcomes


def _policy(row: RetentionPolicy | None) -> RetentionIn:
    if row is None:
        return RetentionIn()
    return RetentionIn(**{name: getattr(row, name) for name in RETENTION_FIELDS})


def _apply_one(
    store: Store,
    model_id: int,
    tz: str,
    policy: RetentionIn,
    now: dt.datetime,
    dry_run: bool,
    outcome: Outcome,
) -> None:
    if policy.rows_days is not None:
        cutoff = (now - dt.timedelta(days=policy.rows_days)).date()
        outcome.row_days = delete_row_days(store.predictions, model_id, cutoff, dry_run=dry_run)
    periods: list[tuple[rollup.Period, int | None]] = [
        ("day", policy.daily_after_days),
        ("month", policy.monthly_after_days),
    ]
    for period, days in periods:
        if days is not None:
            _roll_up(store, model_id, tz, period, now - dt.timedelta(days=days), dry_run, outcome)
    with store.session() as session:
        if policy.daily_after_days is not None or policy.monthly_after_days is not None:
            fine = spec_of(ModelRepository(session).get(outcome.model)).grid
            planned = outcome.rollups if dry_run else []
            rolled = rollup.rolled_periods(session, model_id, fine, tz, planned)
            spans = rollup.stale_cell_spans(rolled)
            outcome.cells = delete_cells(session, model_id, spans, dry_run=dry_run)
        if policy.alerts_days is not None:
            cutoff_at = now - dt.timedelta(days=policy.alerts_days)
            doomed = _resolved_before(session, outcome.model, cutoff_at)
            outcome.alerts = len(doomed)
            if not dry_run:
                _delete_alerts(session, doomed)
            outcome.results = delete_results(
                session, outcome.model, cutoff_at, now=now, dropped=set(doomed), dry_run=dry_run
            )
        if policy.events_days is not None:
            cutoff_at = now - dt.timedelta(days=policy.events_days)
            outcome.events = delete_events(session, outcome.model, cutoff_at, dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            session.commit()


def _roll_up(
    store: Store,
    model_id: int,
    tz: str,
    period: rollup.Period,
    before: dt.datetime,
    dry_run: bool,
    outcome: Outcome,
) -> None:
    with store.session() as session:
        planned = rollup.plan(session, model_id, tz, period, before)
        session.rollback()
        if dry_run:
            outcome.rollups += planned
            outcome.windows_replaced += sum(item.windows for item in planned)
            return
        for item in planned:
            replaced = rollup.roll(session, model_id, item)
            if replaced:
                outcome.rollups.append(item)
                outcome.windows_replaced += replaced


def delete_row_days(
    predictions: PredictionStore, model_id: int, before: dt.date, *, dry_run: bool = False
) -> list[tuple[Kind, dt.date, int]]:
    """Delete the model's prediction and label files of the days before `before`, whole days
    (files of every batch, superseded ones included); returns (kind, day, files) per day."""
    deleted: list[tuple[Kind, dt.date, int]] = []
    for kind in get_args(Kind):
        by_day: dict[str, list[str]] = {}
        for key in predictions.files(kind, model_id, filtered=False):
            by_day.setdefault(key.split("/")[2], []).append(key)
        for text in sorted(by_day):
            day = dt.date.fromisoformat(text)
            if day >= before:
                continue
            if not dry_run:
                for key in by_day[text]:
                    predictions.artifacts.delete(key)
            deleted.append((kind, day, len(by_day[text])))
    return deleted


def _monitor_ids(session: Session, model_name: str) -> list[int]:
    """The ids of the monitors watching `model_name`."""
    rows = session.execute(select(MonitorRow.id, MonitorRow.definition))
    return [
        monitor_id
        for monitor_id, definition in rows
        if isinstance(definition, dict)
        and isinstance(definition.get("target"), dict)
        and definition["target"].get("model") == model_name
    ]


def delete_alerts(
    session: Session, model_name: str, before: dt.datetime, *, dry_run: bool = False
) -> int:
    """Delete the model's alerts resolved before `before`, with their history (open and
    acknowledged alerts are never deleted); the caller commits. Returns how many."""
    doomed = _resolved_before(session, model_name, before)
    if not dry_run:
        _delete_alerts(session, doomed)
    return len(doomed)


def _resolved_before(session: Session, model_name: str, before: dt.datetime) -> list[int]:
    doomed: list[int] = []
    monitors = _monitor_ids(session, model_name)
    for i in range(0, len(monitors), _CHUNK):
        doomed += session.scalars(
            select(AlertRow.id).where(
                AlertRow.monitor_id.in_(monitors[i : i + _CHUNK]),
                AlertRow.state == "resolved",
                AlertRow.resolved_at < before,
            )
        )
    return doomed


def _delete_alerts(session: Session, doomed: Sequence[int]) -> None:
    for i in range(0, len(doomed), _CHUNK):
        chunk = doomed[i : i + _CHUNK]
        session.execute(delete(AlertEventRow).where(AlertEventRow.alert_id.in_(chunk)))
        session.execute(delete(AlertRow).where(AlertRow.id.in_(chunk)))


ALERT_CONTEXT_BEFORE = 48
"""How many results before an alert's first window its page shows
(`vigil.monitor.alert_context.WINDOWS_BEFORE`, a floor above this one; a test checks they
agree)."""


def delete_results(
    session: Session,
    model_name: str,
    before: dt.datetime,
    *,
    now: dt.datetime,
    dropped: set[int] | None = None,
    dry_run: bool = False,
) -> int:
    """Delete the results of the model's monitors whose windows ended before `before` (the
    alerts' retention), except those something still reads; the caller commits. Returns how
    many (in a dry run: would be).

    Kept, per monitor, whatever their age: its latest `MAX_POINTS` results (when an alert opens,
    its onset is estimated from them); every result from `ALERT_CONTEXT_BEFORE` results before
    the first window of its earliest alert still kept (open, acknowledged, or resolved but not
    yet deleted; `dropped` are the alerts being deleted) onwards, so an alert's page shows its
    windows and their context; and its grace period before `evaluated_until` with one window
    more (late data there re-evaluates a window whose result it compares with). A monitor whose
    definition no longer reads (an older Vigil's) keeps every result.
    """
    dropped = dropped or set()
    total = 0
    monitors = set(_monitor_ids(session, model_name))
    rows = session.execute(
        select(MonitorRow.id, MonitorRow.definition, MonitorRow.evaluated_until)
    ).all()
    for monitor_id, definition, evaluated_until in rows:
        if monitor_id not in monitors:
            continue
        keep_from = _kept_from(session, monitor_id, definition, evaluated_until, dropped, now)
        if keep_from is None:
            continue
        doomed = (
            (MonitorResultRow.monitor_id == monitor_id)
            & (MonitorResultRow.window_end < before)
            & (MonitorResultRow.window_start < keep_from)
        )
        count = session.scalar(select(func.count()).select_from(MonitorResultRow).where(doomed))
        total += count or 0
        if count and not dry_run:
            session.execute(
                delete(MonitorResultRow).where(doomed).execution_options(synchronize_session=False)
            )
    return total


def _nth_latest(
    session: Session, monitor_id: int, n: int, before: dt.datetime | None = None
) -> dt.datetime | None:
    """The start of the monitor's `n`-th latest result (before `before`), None when it has
    fewer."""
    query = select(MonitorResultRow.window_start).where(MonitorResultRow.monitor_id == monitor_id)
    if before is not None:
        query = query.where(MonitorResultRow.window_start < before)
    query = query.order_by(MonitorResultRow.window_start.desc()).offset(n - 1).limit(1)
    found: dt.datetime | None = session.scalar(query)
    return found


def _kept_from(
    session: Session,
    monitor_id: int,
    definition: object,
    evaluated_until: dt.datetime | None,
    dropped: set[int],
    now: dt.datetime,
) -> dt.datetime | None:
    """The start from which every result of the monitor is kept (see `delete_results`); None:
    keep them all."""
    try:  # stored as `Monitor.model_dump`: every field is there, defaults included
        if not isinstance(definition, dict):
            raise ValueError(f"not a mapping: {definition!r}")
        grid = Grid.parse(str(definition["window"]))
        grace = _DURATION.validate_python(definition["grace"])
    except (KeyError, ValueError, VigilError):
        logger.warning("monitor %s: its definition does not read; its results are kept", monitor_id)
        return None
    latest = _nth_latest(session, monitor_id, MAX_POINTS)
    if latest is None:  # fewer results than an onset reads
        return None
    bounds = [latest, grid.shift(grid.floor((evaluated_until or now) - grace), -1)]
    alerts = select(func.min(AlertRow.first_window_start)).where(AlertRow.monitor_id == monitor_id)
    if dropped:
        alerts = alerts.where(AlertRow.id.not_in(sorted(dropped)))
    earliest = session.scalar(alerts)
    if earliest is not None:
        context = _nth_latest(session, monitor_id, ALERT_CONTEXT_BEFORE, earliest)
        if context is None:  # fewer results before it than its page shows: keep them all
            return None
        bounds.append(context)
    return min(bounds)


def delete_events(
    session: Session, model_name: str, before: dt.datetime, *, dry_run: bool = False
) -> int:
    """Delete the model's events older than `before` (about the model, one of its versions or
    segments, or one of its monitors) with their deliveries, except events with a delivery still
    pending; the caller commits. Returns how many."""
    monitor_names = list(
        session.scalars(
            select(MonitorRow.name).where(MonitorRow.id.in_(_monitor_ids(session, model_name)))
        )
    )
    pending = exists().where(
        EventDeliveryRow.event_id == EventRow.id, EventDeliveryRow.state == "pending"
    )
    subjects = [
        or_(
            EventRow.subject == model_name,
            EventRow.subject.startswith(f"{model_name}@", autoescape=True),
            EventRow.subject.startswith(f"{model_name}[", autoescape=True),
        )
    ]
    subjects += [
        EventRow.subject.in_(monitor_names[i : i + _CHUNK])
        for i in range(0, len(monitor_names), _CHUNK)
    ]
    found: set[int] = set()
    for about in subjects:
        found.update(
            session.scalars(select(EventRow.id).where(about, EventRow.at < before, ~pending))
        )
    doomed = sorted(found)
    if not dry_run:
        for i in range(0, len(doomed), _CHUNK):
            chunk = doomed[i : i + _CHUNK]
            session.execute(delete(EventDeliveryRow).where(EventDeliveryRow.event_id.in_(chunk)))
            session.execute(delete(EventRow).where(EventRow.id.in_(chunk)))
    return len(doomed)
