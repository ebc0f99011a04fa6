"""Readers over a history that mixes hourly, daily and monthly windows: the window list API, the
merged profile, and monitors' window reader on grids the stored windows nest in."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.retention.helpers import HOUR, SPEC, START, History, log_hours
from tests.retention.test_rollup import assert_matches_rows, merged
from tests.server.conftest import auth, make_tokens
from vigil.api.retention import RetentionIn
from vigil.api.specs import Scope
from vigil.ingestion import retention
from vigil.monitor.reader import WindowReader
from vigil.server import Settings, create_app
from vigil.store.core import Store

DAY = dt.timedelta(days=1)
OCTOBER = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RECENT = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def mixed(store: Store) -> History:
    """Oct 30-31 rolled into October's window, Nov 1 into its day, Nov 22's six hours as they
    were logged."""
    history = log_hours(store, 72, rows=20)
    log_hours(store, 6, start=RECENT, rows=15, seed=4, history=history)
    with store.session() as session:
        policy = RetentionIn(daily_after_days=2, monthly_after_days=20)
        retention.set_policy(session, SPEC.name, policy)
    retention.apply(store, now=RECENT + 30 * HOUR)
    return history


def test_the_window_list_shows_each_stored_window_as_it_is(store: Store) -> None:
    history = mixed(store)
    config = Settings(store_url=str(store.engine.url), artifacts_url=store.artifacts.url)
    with TestClient(create_app(config, store=store)) as api:
        answer = api.get(
            f"/api/v1/models/{SPEC.name}/windows", headers=auth(make_tokens(store)[Scope.READ])
        )
    assert answer.status_code == 200
    rows = [(w["start"], w["end"], w["n_rows"]) for w in answer.json()]
    iso = dt.datetime.isoformat
    assert [(s.replace("Z", "+00:00"), e.replace("Z", "+00:00"), n) for s, e, n in rows] == [
        (iso(START), iso(NOVEMBER), 960),
        (iso(NOVEMBER), iso(NOVEMBER + DAY), 480),
        *[(iso(RECENT + h * HOUR), iso(RECENT + (h + 1) * HOUR), 15) for h in range(6)],
    ]
    assert_matches_rows(merged(store), history.table())


def test_monitor_windows_on_grids_the_stored_windows_nest_in_are_exact(store: Store) -> None:
    history = mixed(store)
    with store.session() as session:
        reader = WindowReader(session)
        months = reader.load(1, None, [OCTOBER, NOVEMBER], "month")
        days = reader.load(1, None, [NOVEMBER], "day")
        hours = reader.load(1, None, [RECENT + h * HOUR for h in range(6)], "hour")
        session.rollback()
    october = history.table(OCTOBER, NOVEMBER)
    assert months[OCTOBER].n_rows == october.num_rows == 960
    assert_matches_rows(months[OCTOBER].profile, october)
    assert months[NOVEMBER].n_rows == 480 + 90
    assert_matches_rows(months[NOVEMBER].profile, history.table(NOVEMBER, None))
    assert_matches_rows(days[NOVEMBER].profile, history.table(NOVEMBER, NOVEMBER + DAY))
    for h in range(6):
        start = RECENT + h * HOUR
        assert_matches_rows(hours[start].profile, history.table(start, start + HOUR))


def test_a_finer_grid_marks_every_window_of_a_rolled_period(store: Store) -> None:
    """What an hourly monitor sees of a rolled day: every hour of it marked rolled with the
    day's bounds (so the evaluation records no value there, and says why), the day's rows read
    once, in the hour the day's window starts (a sum over the day stays exact); a day monitor
    over rolled October sees its two days as the one window they are."""
    history = mixed(store)
    starts = [NOVEMBER + h * HOUR for h in range(24)]
    recent = [RECENT + h * HOUR for h in range(6)]
    with store.session() as session:
        reader = WindowReader(session)
        hours = reader.load(1, None, [*starts, *recent], "hour")
        alone = reader.load(1, None, [NOVEMBER + 5 * HOUR], "hour")
        days = reader.load(1, None, [START, START + DAY, NOVEMBER], "day")
        months = reader.load(1, None, [OCTOBER, NOVEMBER], "month")
        session.rollback()
    assert [hours[s].rolled for s in starts] == [(NOVEMBER, NOVEMBER + DAY)] * 24
    assert [hours[s].rolled for s in recent] == [None] * 6
    assert [hours[s].n_rows for s in starts] == [480] + [0] * 23
    assert_matches_rows(hours[NOVEMBER].profile, history.table(NOVEMBER, NOVEMBER + DAY))
    # An hour asked for alone finds the day reaching into it.
    assert alone[NOVEMBER + 5 * HOUR].rolled == (NOVEMBER, NOVEMBER + DAY)
    assert alone[NOVEMBER + 5 * HOUR].n_rows == 0
    assert hours[NOVEMBER + 5 * HOUR].rolled_note == (
        "not measured: retention rolled 2026-11-01 00:00 to 2026-11-02 00:00 (UTC) up into one "
        "stored window, of which this window is only a part; a monitor with windows that long "
        "or longer measures it"
    )
    assert (days[START].rolled, days[START + DAY].rolled) == ((START, NOVEMBER),) * 2
    assert (days[START].n_rows, days[START + DAY].n_rows) == (960, 0)
    assert days[NOVEMBER].rolled is None  # the rolled day is a whole day
    assert days[NOVEMBER].rolled_note == ""
    assert (months[OCTOBER].rolled, months[NOVEMBER].rolled) == (None, None)
