"""Reads of what the monitors measured and raised, for the dashboard (beside `vigil.monitor.api`
and `vigil.monitor.alerts`, which the /api/v1 routes call).

Drift cells are the drift monitors' stored results: the kinds whose measurement holds each
column's test (`MonitorKind.gauges`), read as they were stored; nothing here runs a drift test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from vigil.monitor.alerts import ACTIVE, Alert, alert_out
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import DRIFT_GAUGES, kinds_with_gauge
from vigil.monitor.specs import PeriodBaseline, ProfileBaseline, RegistryBaseline, TrailingBaseline
from vigil.monitor.windows import monitor_grid
from vigil.store.collab_tables import EventRow
from vigil.store.monitor_tables import AlertEventRow, AlertRow, MonitorResultRow, MonitorRow
from vigil.windows import GridLike

# -- alerts ------------------------------------------------------------------------------------


def targets_model(target: str, model: str) -> bool:
    """Whether an alert's target key (`model` or `model@version`) is about `model`."""
    return target == model or target.startswith(f"{model}@")


def _targets_model_sql(model: str) -> ColumnElement[bool]:
    """`targets_model` as a SQL condition (LIKE may ignore case: the rows are re-checked)."""
    return (AlertRow.target == model) | AlertRow.target.startswith(f"{model}@", autoescape=True)


def find_alerts(
    session: Session,
    *,
    states: Iterable[str] = (),
    severity: str = "",
    monitor: str = "",
    actor: str = "",
    model: str = "",
    limit: int = 300,
) -> list[Alert]:
    """Alerts newest first, without their history: in one of `states` (all when empty), of one
    severity, monitor or model, or acted on by `actor` (as the API's `?actor=`)."""
    query = select(AlertRow)
    states = list(states)
    if states:
        query = query.where(AlertRow.state.in_(states))
    if severity:
        query = query.where(AlertRow.severity == severity)
    if monitor:
        query = query.where(AlertRow.monitor_name == monitor)
    if actor:
        acted = select(AlertEventRow.alert_id).where(AlertEventRow.actor == actor)
        query = query.where(AlertRow.id.in_(acted))
    if model:
        query = query.where(_targets_model_sql(model))
    rows = [
        r
        for r in session.scalars(query.order_by(AlertRow.id.desc()).limit(limit))
        if not model or targets_model(r.target, model)
    ]
    return [alert_out(session, r, history=False) for r in rows]


@dataclass(frozen=True)
class AlertFacets:
    """What the alert list can be filtered by: alerts per state, monitor names, model names."""

    states: Counter[str]
    monitors: list[str]
    models: list[str]


def alert_facets(session: Session) -> AlertFacets:
    states: Counter[str] = Counter(s for (s,) in session.execute(select(AlertRow.state)))
    monitors = sorted(set(session.scalars(select(MonitorRow.name))))
    targets = {t.split("@")[0] for t in session.scalars(select(AlertRow.target).distinct())}
    return AlertFacets(states, monitors, sorted(targets))


def active_alert_counts(session: Session) -> dict[str, Counter[str]]:
    """{target key: Counter(severity)} of open and acknowledged alerts."""
    out: dict[str, Counter[str]] = {}
    rows = session.execute(
        select(AlertRow.target, AlertRow.severity).where(AlertRow.state.in_(ACTIVE))
    )
    for (target, severity), n in Counter((t, s) for t, s in rows).items():
        out.setdefault(target, Counter())[severity] += n
    return out


def counts_for(model: str, counts: dict[str, Counter[str]]) -> Counter[str]:
    """The active alert counts of every target about `model` (its versions too)."""
    total: Counter[str] = Counter()
    for target, counter in counts.items():
        if targets_model(target, model):
            total.update(counter)
    return total


@dataclass(frozen=True)
class MonitorState:
    """A monitor's evaluation cursor and its active alerts."""

    evaluated_until: dt.datetime | None
    active_alerts: int


def monitor_states(session: Session) -> dict[str, MonitorState]:
    until = {
        name: at
        for name, at in session.execute(select(MonitorRow.name, MonitorRow.evaluated_until))
    }
    active = Counter(
        session.scalars(select(AlertRow.monitor_name).where(AlertRow.state.in_(ACTIVE)))
    )
    return {name: MonitorState(at, active.get(name, 0)) for name, at in until.items()}


def latest_event_id(session: Session) -> int:
    """The id of the newest event in the outbox (0 when empty): where a newest-first page of
    `vigil.events.outbox.list_events` starts."""
    return int(session.scalar(select(func.max(EventRow.id))) or 0)


# -- drift cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnFigures:
    """One column's drift as a monitor stored it for one window (None: not stored by the
    version of Vigil that measured it)."""

    method: str
    statistic: float | None
    p_value: float | None
    drifted: bool
    severity: float | None
    effect_method: str | None = None
    effect_size: float | None = None
    effect_threshold: float | None = None
    reference_missing_share: float | None = None
    current_missing_share: float | None = None
    new_categories: tuple[dict[str, str], ...] = ()

    @classmethod
    def of(cls, figures: dict[str, Any]) -> ColumnFigures:
        def number(key: str) -> float | None:
            value = figures.get(key)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            method=str(figures.get("method", "")),
            statistic=number("statistic"),
            p_value=number("p_value"),
            drifted=bool(figures.get("drifted")),
            severity=number("severity"),
            effect_method=figures.get("effect_method"),
            effect_size=number("effect_size"),
            effect_threshold=number("effect_threshold"),
            reference_missing_share=number("reference_missing_share"),
            current_missing_share=number("current_missing_share"),
            new_categories=tuple({"value": str(v)} for v in figures.get("new_categories") or ()),
        )

    @property
    def score(self) -> list[float]:
        """[severity, drifted (0/1)] as the heatmap draws it; a result stored without severity
        is drawn at the bar when it drifted, else as no drift."""
        drifted = 1.0 if self.drifted else 0.0
        return [self.severity if self.severity is not None else drifted, drifted]


@dataclass(frozen=True)
class DriftCell:
    """The drift monitors' results of one window of one model."""

    start: dt.datetime
    columns: dict[str, ColumnFigures]
    monitors: dict[str, str]
    """{column: the monitor that measured it}."""


@dataclass(frozen=True)
class DriftCells:
    """A model's drift cells over a range, from its drift monitors of one window length."""

    monitors: list[Monitor]
    cells: dict[dt.datetime, DriftCell] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """What the cells compare with, in words."""
        return "; ".join(f"{describe_baseline(m)} ({m.name})" for m in self.monitors)


def describe_baseline(monitor: Monitor) -> str:
    baseline = monitor.effective_baseline()
    if isinstance(baseline, ProfileBaseline):
        return f"the stored profile {baseline.artifact.rsplit('/', 1)[-1].removesuffix('.vgp')!r}"
    if isinstance(baseline, RegistryBaseline):
        which = f"v{baseline.version}" if baseline.version else f"@{baseline.alias}"
        return f"the training data of {baseline.model or 'the registered model'} {which}"
    if isinstance(baseline, PeriodBaseline):
        return f"{baseline.start:%Y-%m-%d} to {baseline.end:%Y-%m-%d}"
    if isinstance(baseline, TrailingBaseline):
        return f"the previous {baseline.windows} windows"
    return f"the same window in the previous {baseline.weeks} weeks"


def drift_monitors(session: Session, model: str, window: GridLike | None = None) -> list[Monitor]:
    """The enabled drift monitors (kinds feeding the drift gauges) of the model's whole traffic,
    every version: those of one grid when `window` is given (a grid, its string, or a monitor's
    `window_seconds`: 86400 is "day", 604800 "week")."""
    kinds = set(kinds_with_gauge(DRIFT_GAUGES[0]))
    found = []
    for (definition,) in session.execute(select(MonitorRow.definition).order_by(MonitorRow.name)):
        if definition.get("kind") not in kinds:
            continue
        monitor = Monitor.model_validate(definition)
        target = monitor.target
        if target.model != model or target.segment or target.version or target.alias:
            continue
        if not monitor.enabled:
            continue
        if window is not None and monitor.grid != monitor_grid(window):
            continue
        found.append(monitor)
    return found


def drift_cells(
    session: Session,
    model: str,
    window: GridLike,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> DriftCells:
    """The stored per-column results of the model's drift monitors on `window`'s grid (as
    `drift_monitors` reads it), by window start (a column two monitors measure: the first by
    name)."""
    monitors = drift_monitors(session, model, window)
    if not monitors:
        return DriftCells([])
    ids = {
        name: monitor_id
        for name, monitor_id in session.execute(
            select(MonitorRow.name, MonitorRow.id).where(
                MonitorRow.name.in_([m.name for m in monitors])
            )
        )
    }
    cells: dict[dt.datetime, DriftCell] = {}
    for monitor in monitors:
        query = select(MonitorResultRow.window_start, MonitorResultRow.details).where(
            MonitorResultRow.monitor_id == ids[monitor.name]
        )
        if start is not None:
            query = query.where(MonitorResultRow.window_start >= start)
        if end is not None:
            query = query.where(MonitorResultRow.window_start < end)
        for window_start, details in session.execute(query):
            columns = (details or {}).get("columns") or {}
            cell = cells.setdefault(window_start, DriftCell(window_start, {}, {}))
            for name, figures in columns.items():
                if name not in cell.columns and isinstance(figures, dict):
                    cell.columns[name] = ColumnFigures.of(figures)
                    cell.monitors[name] = monitor.name
    return DriftCells(monitors, cells)
