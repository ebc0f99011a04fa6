"""What retention prunes besides rows, windows, alerts and events: monitor results past the alerts'
retention (never those an alert's page, an onset estimate or late data still reads), and the
dashboard's cells measured on windows since rolled up into coarser ones."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from tests.retention.helpers import HOUR, SPEC, START, add_alert, add_monitor, log_hours
from tests.waits import patience, wait_until
from vigil.analysis.onset import MAX_POINTS
from vigil.api.retention import RetentionIn
from vigil.cli import main
from vigil.ingestion import retention, rollup, service
from vigil.ingestion.retention_worker import RetentionWorker
from vigil.monitor import alert_context
from vigil.store.core import Store
from vigil.store.dashboard_tables import DriftCell
from vigil.store.monitor_tables import MonitorResultRow
from vigil.store.repositories import ModelRepository
from vigil.windows import Grid

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
RESULTS = 1000
NOW = T0 + RESULTS * HOUR
"""Ten days of retention: results of windows that ended before NOW - 240 h may go."""
OTHER = SPEC.model_copy(update={"name": "other"})


def test_the_page_of_an_alert_shows_as_many_results_as_retention_keeps() -> None:
    assert retention.ALERT_CONTEXT_BEFORE == alert_context.WINDOWS_BEFORE
    assert MAX_POINTS == 500  # the figures below assume it


def _left(store: Store, monitor_id: int) -> tuple[int, dt.datetime | None]:
    with store.session() as session:
        count, first = session.execute(
            select(func.count(), func.min(MonitorResultRow.window_start)).where(
                MonitorResultRow.monitor_id == monitor_id
            )
        ).one()
    return count, first


def test_monitor_results_go_with_the_alerts_retention_but_what_is_read_stays(
    store: Store,
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
        service.create_model(session, OTHER)
        retention.set_policy(session, SPEC.name, RetentionIn(alerts_days=10))
    plain = add_monitor(store, "plain", SPEC.name, results=RESULTS, start=T0)
    opened = add_monitor(store, "opened", SPEC.name, results=RESULTS, start=T0)
    add_alert(store, opened, "open", None, first=T0 + 300 * HOUR, hours=10)
    # Deleted: does not protect.
    add_alert(store, opened, "resolved", NOW - 20 * DAY, first=T0 + 100 * HOUR, hours=10)
    recent = add_monitor(store, "recent", SPEC.name, results=RESULTS, start=T0)
    kept_alert = add_alert(store, recent, "resolved", NOW - DAY, first=T0 + 200 * HOUR, hours=10)
    graceful = add_monitor(store, "graceful", SPEC.name, results=RESULTS, start=T0, grace="P30D")
    few = add_monitor(store, "few", SPEC.name, results=400, start=T0)
    elsewhere = add_monitor(store, "elsewhere", OTHER.name, results=RESULTS, start=T0)
    # Window ends before NOW - 10 days (hour 760) may go; kept from: the latest 500 (hour 500),
    # 48 results before an alert kept (300 - 48 = 252; 200 - 48 = 152), the grace period and one
    # window (1000 - 720 - 1 = 279); a monitor of 400 results keeps them all (an onset reads 500).
    expected = {plain: 500, opened: 252, recent: 152, graceful: 279, few: 0, elsewhere: 0}
    total = {i: 400 if i == few else RESULTS for i in expected}

    [planned] = retention.apply(store, now=NOW, dry_run=True)
    assert (planned.results, planned.alerts) == (sum(expected.values()), 1)
    assert {i: _left(store, i)[0] for i in expected} == total

    [outcome] = retention.apply(store, now=NOW)
    assert (outcome.results, outcome.alerts) == (1183, 1)
    assert outcome.changed
    for monitor_id, deleted in expected.items():
        assert _left(store, monitor_id) == (total[monitor_id] - deleted, T0 + deleted * HOUR)
    # What reads results still finds them: the kept alert's page its 48 windows before.
    with store.session() as session:
        shown = alert_context.alert_context(session, kept_alert).results
    assert shown[0].start == T0 + 152 * HOUR
    assert len([p for p in shown if p.start < T0 + 200 * HOUR]) == 48

    [again] = retention.apply(store, now=NOW)
    assert (again.results, again.alerts, again.changed) == (0, 0, False)


def _cells(store: Store, model_id: int) -> set[tuple[str, dt.datetime]]:
    with store.session() as session:
        rows = session.execute(
            select(DriftCell.granularity, DriftCell.start).where(DriftCell.model_id == model_id)
        )
        return {(unit, start) for unit, start in rows}


def _add_cells(store: Store, model_id: int, cells: list[tuple[str, dt.datetime]]) -> None:
    with store.session() as session:
        for reference in ("window-statistics", "period-drift:m:abc:hour"):
            session.execute(
                insert(DriftCell),
                [
                    {
                        "model_id": model_id,
                        "reference": reference,
                        "granularity": unit,
                        "start": start,
                        "n_rows": 1,
                        "source_arrival": START,
                        "scores": {},
                        "stats": {},
                    }
                    for unit, start in cells
                ],
            )
        session.commit()


def _ids_of(store: Store, name: str) -> int:
    with store.session() as session:
        return ModelRepository(session).get(name).id


def _ids(store: Store) -> tuple[int, int]:
    return _ids_of(store, SPEC.name), _ids_of(store, OTHER.name)


OCTOBER = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RECENT = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def test_cells_of_windows_rolled_into_coarser_ones_are_deleted(store: Store) -> None:
    log_hours(store, 72, rows=5)  # Oct 30 to Nov 1
    log_hours(store, 6, start=RECENT, rows=5)
    with store.session() as session:
        service.create_model(session, OTHER)
        retention.set_policy(
            session, SPEC.name, RetentionIn(daily_after_days=2, monthly_after_days=20)
        )
    hours = [("hour", START + h * HOUR) for h in range(72)]
    recent = [("hour", RECENT + h * HOUR) for h in range(6)]
    days = [("day", START + i * DAY) for i in range(3)]
    weeks = [("week", dt.datetime(2026, 10, 26, tzinfo=dt.UTC)), ("week", NOVEMBER + DAY)]
    months = [("month", OCTOBER), ("month", NOVEMBER)]
    every = hours + recent + days + weeks + months
    fraud, other = _ids(store)
    _add_cells(store, fraud, every)
    _add_cells(store, other, hours)
    # Oct 30-31 roll into October, Nov 1 into its day: their hours go, October's days and the
    # week straddling Nov 1 too; Nov 1's day, the months, the next week and Nov 22's hours stay,
    # as do the other model's cells. Two references each.
    gone = {*hours, *days[:2], weeks[0]}
    [planned] = retention.apply(store, now=RECENT + 30 * HOUR, dry_run=True)
    assert planned.cells == 2 * len(gone) == 150
    assert _cells(store, fraud) == set(every)
    [outcome] = retention.apply(store, now=RECENT + 30 * HOUR)
    assert outcome.cells == 150
    assert _cells(store, fraud) == set(every) - gone
    assert _cells(store, other) == set(hours)
    [again] = retention.apply(store, now=RECENT + 30 * HOUR)
    assert (again.cells, again.changed) == (0, False)


def test_compact_reports_results_and_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url = f"sqlite:///{tmp_path / 'v.db'}"
    opts = ["--store", store_url, "--artifacts", str(tmp_path / "artifacts")]
    store = Store.open(store_url, str(tmp_path / "artifacts"))
    try:
        log_hours(store, 24, rows=5)
        _add_cells(store, 1, [("hour", START + h * HOUR) for h in range(24)])
        with store.session() as session:
            retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=1))
    finally:
        store.close()
    assert main(["db", "compact", "--dry-run", "--json", *opts]) == 0
    [planned] = json.loads(capsys.readouterr().out)["retention"]
    assert (planned["dashboard_cells"], planned["monitor_results"]) == (48, 0)
    assert main(["db", "compact", *opts]) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[-3].split()[-4:] == ["ALERTS", "RESULTS", "EVENTS", "CELLS"]
    # fraud, row days, periods, windows merged, alerts, results, events, cells
    assert shown.splitlines()[-2].split() == ["fraud", "0", "1", "24", "0", "0", "0", "48"]


def test_the_worker_logs_what_it_pruned(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    log_hours(store, 24, rows=5)
    fraud = _ids_of(store, SPEC.name)
    _add_cells(store, fraud, [("hour", START + h * HOUR) for h in range(24)])
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=1))
    worker = RetentionWorker(store, interval_seconds=0.05)
    with caplog.at_level(logging.INFO, logger="vigil.ingestion.retention_worker"):
        worker.start()
        try:
            assert wait_until(lambda: worker.rounds >= 1, patience(30))
        finally:
            worker.stop()
    assert (
        "retention applied to fraud: 0 row day(s) deleted, 1 period(s) rolled up, 24 window(s) "
        "merged, 0 alert(s), 0 monitor result(s), 0 event(s) and 48 dashboard cell(s) deleted"
    ) in caplog.messages


def test_a_rolled_last_day_of_a_month_retires_only_its_hours(store: Store) -> None:
    """Oct 31's rolled window ends with October too: it is a day, and October's day and week
    cells stay."""
    log_hours(store, 72, rows=5)
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=2))
    fraud = _ids_of(store, SPEC.name)
    hours = [("hour", START + h * HOUR) for h in range(72)]
    others = [
        *[("day", START + i * DAY) for i in range(3)],
        ("week", dt.datetime(2026, 10, 26, tzinfo=dt.UTC)),
        ("month", OCTOBER),
    ]
    _add_cells(store, fraud, hours + others)
    [outcome] = retention.apply(store, now=RECENT)
    assert [(r.period, r.start) for r in outcome.rollups] == [
        ("day", START + i * DAY) for i in range(3)
    ]
    assert outcome.cells == 2 * 72
    assert _cells(store, fraud) == set(others)
    with store.session() as session:
        rolled = rollup.rolled_periods(session, fraud, Grid("hour"), "UTC", [])
    assert rolled == [("day", START + i * DAY, START + (i + 1) * DAY) for i in range(3)]
