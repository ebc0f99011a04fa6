"""`rollup.rolled_periods` reads only the windows longer than the model's grid, and finds what it
found when it read every window: on a store with rolled days, a rolled month, and hours not rolled
up, of two versions, in UTC and in a zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.retention.helpers import HOUR, START, log_hours
from vigil.ingestion import rollup
from vigil.store.core import Store
from vigil.store.models import ProfileWindow
from vigil.windows import Grid

DAY = dt.timedelta(days=1)
LATER = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def _every_window(
    session: Session, model_id: int, fine: Grid, tz: str, planned: Sequence[rollup.Rollup]
) -> list[tuple[rollup.Period, dt.datetime, dt.datetime]]:
    """rolled_periods as it was: every stored window's bounds, checked one by one."""
    found = {(item.period, *Grid(item.period, None, tz).window_of(item.start)) for item in planned}
    rows = session.execute(
        select(ProfileWindow.start, ProfileWindow.end)
        .where(ProfileWindow.model_id == model_id)
        .distinct()
    )
    grids = {"day": Grid("day", None, tz), "month": Grid("month", None, tz)}
    for start, end in rows:
        if end == fine.next(start):
            continue
        for period in ("day", "month"):
            first, last = grids[period].window_of(start)
            if end == last:
                found.add((period, first, last))  # type: ignore[arg-type]
                break
    return sorted(found, key=lambda item: (item[1], item[2]))


def _roll(store: Store, tz: str, period: rollup.Period, before: dt.datetime) -> None:
    with store.session() as session:
        for item in rollup.plan(session, 1, tz, period, before):
            rollup.roll(session, 1, item)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Oslo"])
def test_reading_only_long_windows_finds_what_reading_all_found(store: Store, tz: str) -> None:
    log_hours(store, 96, rows=3)  # Oct 30 to Nov 2
    log_hours(store, 30, start=START + 12 * HOUR, rows=3, version="v2", seed=1)
    log_hours(store, 6, start=LATER, rows=3)
    fine = Grid("hour")
    with store.session() as session:
        assert _every_window(session, 1, fine, tz, []) == []
        assert rollup.rolled_periods(session, 1, fine, tz, []) == []

    _roll(store, tz, "day", START + 2 * DAY)  # Oct 30 and 31 (and v2's): days
    _roll(store, tz, "month", START + 2 * DAY + 12 * HOUR)  # October: v1's two days, one month
    _roll(store, tz, "day", START + 3 * DAY + 12 * HOUR)  # Nov 1, both versions
    with store.session() as session:
        planned = rollup.plan(session, 1, tz, "day", LATER)  # Nov 2 and Nov 22, not rolled yet
        assert planned
        windows = session.scalar(select(func.count()).select_from(ProfileWindow))
        long = session.scalar(
            select(func.count())
            .select_from(ProfileWindow)
            .where(rollup._longer_than(session, rollup._rolled_above(fine)))
        )
        for asked in ([], planned):
            found = rollup.rolled_periods(session, 1, fine, tz, asked)
            assert found == _every_window(session, 1, fine, tz, asked)
        found = rollup.rolled_periods(session, 1, fine, tz, [])
    assert [period for period, _, _ in found] == ["month", "day"]
    # Hours not rolled up stay out of the read: only the rolled windows are longer than an hour.
    assert windows is not None
    assert long is not None
    assert long == 3  # v1's October and Nov 1, v2's October (its hours end on Oct 31)
    assert windows > 30


@pytest.mark.parametrize(
    ("fine", "above"),
    [
        (Grid("hour"), 3600.0),
        (Grid.parse("15m"), 900.0),
        (Grid("day"), 86_400.0),
        (Grid("day", None, "Europe/Oslo"), 2 * 22 * 3600.0),
        (Grid("week", None, "Europe/Oslo"), 2 * 22 * 3600.0),
    ],
)
def test_a_rolled_window_is_longer_than_any_of_its_grid(fine: Grid, above: float) -> None:
    assert rollup._rolled_above(fine) == above
    # The shortest rolled window of a zoned day grid: a day extended to its month's end (two
    # days), across the switch to summer time.
    if fine == Grid("day", None, "Europe/Oslo"):
        start = dt.datetime(2026, 3, 29, 22, tzinfo=dt.UTC)  # March 30, local midnight
        end = Grid("month", None, "Europe/Oslo").next(start)
        assert (end - start).total_seconds() > above
