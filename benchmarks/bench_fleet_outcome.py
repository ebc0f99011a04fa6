"""What `bench_fleet`'s ticks leave in the store, and whether every run left the same.

A run reports, after each tick, the results it stored (monitor, window, value, bounds, breached,
message, a digest of the details), and digests of every alert, alert event and outbox event so
far (their wall-clock times left out), for the drift monitors and for the others; the parent
says whether all runs of all contenders agree (`same_outcome`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from common import Measurement

DETAILS_NOTE = (
    "A drift monitor's figures vary between runs of the same code when its baseline merges more "
    "than 200 values per column (a day of hours): a KLL sketch compacts at random (DataSketches "
    "seeds it per process), so p-values move and a column near its bar may flip. "
    "`--drift-baseline hour` (the first hour, an exact sketch) makes every run's drift figures "
    "the same, to compare contenders exactly."
)

GROUPS = ("drift", "others")
"""The drift monitors, and the volume and missing-value monitors (and events of no monitor)."""


def outcome(store: Any, results: Sequence[Any]) -> dict[str, Any]:
    """What a tick left in the store, as two runs of the same data must leave it whatever the
    code: the tick's stored results (`stored`: monitor, window, value, bounds, breached,
    message, a digest of the details), and digests of every alert, alert event and outbox event
    so far (their wall-clock times left out, and an event's copy of its alert's details), per
    group of monitors (`GROUPS`)."""
    import sqlalchemy as sa

    from vigil.store.collab_tables import EventRow
    from vigil.store.monitor_tables import AlertEventRow, AlertRow, MonitorResultRow, MonitorRow

    keys = {(r.monitor, _iso(r.window_start)) for r in results}
    first = min((r.window_start for r in results), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    result = MonitorResultRow
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                MonitorRow.name,
                result.window_start,
                result.value,
                result.lower,
                result.upper,
                result.breached,
                result.message,
                result.details,
            )
            .join(MonitorRow, MonitorRow.id == result.monitor_id)
            .where(result.window_start >= first)
        ).all()
        alerts = connection.execute(
            sa.select(
                AlertRow.monitor_name,
                AlertRow.target,
                AlertRow.state,
                AlertRow.message,
                AlertRow.value,
                AlertRow.first_window_start,
                AlertRow.last_window_start,
                AlertRow.n_windows,
            ).order_by(AlertRow.id)
        ).all()
        alert_events = connection.execute(
            sa.select(
                AlertRow.monitor_name,
                AlertEventRow.event,
                AlertEventRow.state,
                AlertEventRow.actor,
                AlertEventRow.note,
            )
            .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
            .order_by(AlertEventRow.id)
        ).all()
        events = connection.execute(
            sa.select(EventRow.type, EventRow.subject, EventRow.actor, EventRow.data).order_by(
                EventRow.id
            )
        ).all()
    stored = sorted(
        [name, _iso(start), value, lower, upper, bool(breached), message, _digest(details)]
        for name, start, value, lower, upper, breached, message, details in rows
        if (name, _iso(start)) in keys
    )
    outcome: dict[str, Any] = {"stored": stored}
    for group in GROUPS:
        mine = [r for r in stored if _group(r[0]) == group]
        their_alerts = [list(r) for r in alerts if _group(r[0]) == group]
        their_events = [list(r) for r in alert_events if _group(r[0]) == group]
        outbox = [
            [type_, subject, actor, _timeless(data)]
            for type_, subject, actor, data in events
            if _group(str(data.get("monitor", ""))) == group
        ]
        outcome[group] = {
            "results": len(mine),
            "alerts": len(their_alerts),
            "alert_events": len(their_events),
            "events": len(outbox),
            "digests": [
                _digest([row[:-1] for row in mine]),
                _digest(their_alerts),
                _digest(their_events),
                _digest(outbox),
                _digest([row[-1] for row in mine]),  # the details
            ],
        }
    return outcome


PARTS = ("results", "alerts", "alert events", "outbox events", "result details")
"""What each of a group's digests is of, in order."""


def _group(monitor: str) -> str:
    return "drift" if monitor.startswith("drift-") else "others"


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    return value


def _timeless(data: Any) -> Any:
    """Event data without the run's wall-clock times (keys ending in `_at`, or `at`), an alert's
    details (the event's copy of them) and its id: ids count every alert of the store, so a
    drift alert more or fewer (`DETAILS_NOTE`) renumbers the other monitors' alerts."""
    if isinstance(data, dict):
        return {
            k: _timeless(v)
            for k, v in data.items()
            if not (k in ("at", "details", "alert_id") or k.endswith("_at"))
        }
    if isinstance(data, list):
        return [_timeless(v) for v in data]
    return data


def _digest(value: Any) -> str:
    """A digest of a JSON-able value (floats by their shortest exact repr)."""
    text = json.dumps(value, sort_keys=True, default=_iso)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def same_outcome(measured: Mapping[str, Measurement]) -> list[str]:
    """Whether every run of every contender left the same results (values, bounds, statuses,
    messages, details), alerts, alert events and outbox events after each tick, for the drift
    monitors and for the others: lines to print, with the first differing results when not."""
    runs = [(n, r) for n, m in measured.items() for r in m.runs]
    first_name, first = runs[0]
    lines = []
    for i, tick in enumerate(first.report["ticks"]):
        for group in GROUPS:
            mine = tick[group]
            what = (
                f"tick {i + 1} ({tick['label']}), {group} monitors: {mine['results']} results "
                "(details included), "
                f"{mine['alerts']} alerts, {mine['alert_events']} alert events, "
                f"{mine['events']} outbox events"
            )
            seen = {
                name: {tuple(r.report["ticks"][i][group]["digests"]) for r in m.runs}
                for name, m in measured.items()
            }
            if len(set().union(*seen.values())) == 1:
                lines.append(f"{what}: identical in all {len(runs)} runs")
                continue
            among = ", ".join(
                f"{name}: {len(d)} in {len(measured[name].runs)}" for name, d in seen.items()
            )
            parts = sorted(
                {
                    PARTS[k]
                    for _, r in runs
                    for k, digest in enumerate(r.report["ticks"][i][group]["digests"])
                    if digest != mine["digests"][k]
                }
            )
            lines.append(
                f"{what}: DIFFER in {', '.join(parts)} (distinct outcomes per contender: {among})"
            )
            for n, r in runs[1:]:
                theirs = [x for x in r.report["ticks"][i]["stored"] if _group(x[0]) == group]
                ours = [x for x in tick["stored"] if _group(x[0]) == group]
                pairs = zip(ours, theirs, strict=False)
                for a, b in [(a, b) for a, b in pairs if a[:-1] != b[:-1]][:2]:
                    lines.append(f"  {first_name}: {a[:-1]}\n  {n}: {b[:-1]}")
    return [*lines, DETAILS_NOTE]
