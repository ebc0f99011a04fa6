"""Rolling a model's old windows up into coarser ones: windows shorter than a day into one per
day, and a day's windows into one per calendar month (days and months in the model's time zone).

A rolled window keeps the key of the earliest window it replaces (model, version, segment, start),
ends where its day or month ends, and holds the merge of their profiles, their summed rows and
uploads and the earliest and latest arrivals. Each rolled window is written in one transaction
that locks the windows it replaces, folds their pending profile parts into it and deletes them,
so a reader sees either the fine windows or the rolled one, never both or neither. Rolling up a
period that is already one window ending with the period does nothing (a second run changes
nothing).

A rolled window also retires the dashboard's cached cells (`dashboard_drift_cells`) that were
measured on the windows it replaced at a finer grain than it: the hours of a rolled day; the
hours, days and weeks of a rolled month (`stale_cell_spans`). A cell of its own period or a
coarser one stays: the rolled window holds the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, extract, func, select, update
from sqlalchemy.orm import Session

from vigil.profile import DatasetProfile
from vigil.store.dashboard_tables import CellSpan
from vigil.store.models import ProfileWindow, ProfileWindowPart
from vigil.store.stored_profiles import StoredProfile, decode_stored, load_stored, tally_of
from vigil.windows import Grid

Period = Literal["day", "month"]
_PERIODS: tuple[Period, ...] = ("day", "month")


@dataclass(frozen=True)
class Rollup:
    """One period of one version and segment whose windows become one window."""

    version: str
    segment: str
    period: Period
    start: dt.datetime
    """The period's start (the rolled window starts at its earliest window's start)."""
    end: dt.datetime
    windows: int
    """How many stored windows the period had (1 when only its end is extended)."""


@dataclass(frozen=True)
class _Meta:
    version: str
    segment: str
    start: dt.datetime
    end: dt.datetime


def plan(
    session: Session, model_id: int, tz: str, period: Period, before: dt.datetime
) -> list[Rollup]:
    """The periods (days or months in zone `tz`) that end by `before` and whose windows are not
    yet one window ending with the period. Windows that straddle a period's bounds (a week, a
    7-day window) are left as they are."""
    grid = Grid(period, None, tz)
    rows = session.execute(
        select(ProfileWindow.version, ProfileWindow.segment, ProfileWindow.start, ProfileWindow.end)
        .where(ProfileWindow.model_id == model_id, ProfileWindow.start < before)
        .order_by(ProfileWindow.version, ProfileWindow.segment, ProfileWindow.start)
    )
    found: list[Rollup] = []
    for (version, segment, first, last), items in groupby(
        _within(grid, (_Meta(*row) for row in rows), before),
        key=lambda item: (item[0].version, item[0].segment, item[1], item[2]),
    ):
        windows = [meta for meta, _, _ in items]
        if len(windows) > 1 or windows[0].end != last:
            found.append(Rollup(version, segment, period, first, last, len(windows)))
    return found


def _within(
    grid: Grid, rows: Iterator[_Meta], before: dt.datetime
) -> Iterator[tuple[_Meta, dt.datetime, dt.datetime]]:
    """Each window lying within one period that ends by `before`, with that period's bounds."""
    for meta in rows:
        first, last = grid.window_of(meta.start)
        if meta.end <= last <= before:
            yield meta, first, last


def roll(session: Session, model_id: int, rollup: Rollup) -> int:
    """Replace the period's windows with one (see the module docstring) and commit; returns how
    many windows were replaced (0 when another process rolled the period up first)."""
    key = (
        (ProfileWindow.model_id == model_id)
        & (ProfileWindow.version == rollup.version)
        & (ProfileWindow.segment == rollup.segment)
    )
    rows = session.scalars(
        select(ProfileWindow)
        .where(key, ProfileWindow.start >= rollup.start, ProfileWindow.start < rollup.end)
        .where(ProfileWindow.end <= rollup.end)
        .order_by(ProfileWindow.start)
        .with_for_update()
    ).all()
    if not rows or (len(rows) == 1 and rows[0].end == rollup.end):
        session.rollback()
        return 0
    target, others = rows[0], [row.id for row in rows[1:]]
    tally = tally_of(session)
    # The windows' profiles with their pending parts (counted in n_rows already), read in one
    # statement under the lock and merged here; a part appended after this read is moved onto
    # the rolled window below.
    blobs = load_stored(session, [row.id for row in rows])
    stored = [
        blobs[row.id].stored(row) if row.id in blobs else StoredProfile.of(row) for row in rows
    ]
    decoded = (decode_stored(item, tally) for item in stored)
    merged = DatasetProfile.merge_all(p for p in decoded if p is not None)
    folded = [part for found in blobs.values() for part in found.part_ids]
    for i in range(0, len(folded), 500):
        session.execute(
            delete(ProfileWindowPart)
            .where(ProfileWindowPart.id.in_(folded[i : i + 500]))
            .execution_options(synchronize_session=False)
        )
    values = {
        "end": rollup.end,
        "n_rows": sum(row.n_rows for row in rows),
        "n_uploads": sum(row.n_uploads for row in rows),
        "first_arrival": min(row.first_arrival for row in rows),
        "last_arrival": max(row.last_arrival for row in rows),
        "profile": merged.with_window(target.start, rollup.end).to_bytes(),
        "kinds": None,  # the next upload (rare, to a rolled window) reads them from the pieces
    }
    if others:
        session.execute(
            update(ProfileWindowPart)
            .where(ProfileWindowPart.window_id.in_(others))
            .values(window_id=target.id)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(ProfileWindow)
            .where(ProfileWindow.id.in_(others))
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(ProfileWindow)
        .where(ProfileWindow.id == target.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return len(rows)


_RETIRED: dict[Period, tuple[tuple[str, ...], dt.timedelta]] = {
    "day": (("hour", "fixed"), dt.timedelta(0)),
    # A week cell straddling the month's start began 1 to 6 days before it (an hour more or less
    # across a change of summer time).
    "month": (("hour", "fixed", "day", "week"), dt.timedelta(days=6, hours=2)),
}
"""The cell granularities a rolled period retires, and how far before the period a retired cell
may start."""


def rolled_periods(
    session: Session, model_id: int, fine: Grid, tz: str, planned: Sequence[Rollup]
) -> list[tuple[Period, dt.datetime, dt.datetime]]:
    """The days and months (in zone `tz`) the model's stored windows were rolled up into (a
    stored window longer than one of its grid `fine`), with the `planned` ones, each once.

    Only the windows longer than `fine`'s are read (`_longer_than`): a pass reads what was rolled
    up, not the whole history."""
    found: set[tuple[Period, dt.datetime, dt.datetime]] = {
        (item.period, *Grid(item.period, None, tz).window_of(item.start)) for item in planned
    }
    rows = session.execute(
        select(ProfileWindow.start, ProfileWindow.end)
        .where(ProfileWindow.model_id == model_id, _longer_than(session, _rolled_above(fine)))
        .distinct()
    )
    grids: dict[Period, Grid] = {"day": Grid("day", None, tz), "month": Grid("month", None, tz)}
    for start, end in rows:
        if end == fine.next(start):
            continue
        # A day first: a rolled last day of a month ends with its month too.
        for period in _PERIODS:
            first, last = grids[period].window_of(start)
            if end == last:
                found.add((period, first, last))
                break
    return sorted(found, key=lambda item: (item[1], item[2]))


_SHORTEST_DAY_S = 22 * 3600
"""Shorter than any day of a zone's calendar (a switch to summer time takes an hour or two)."""


def _rolled_above(fine: Grid) -> float:
    """A length in seconds every window rolled up from `fine` exceeds.

    A rolled window runs from the start of a fine window to the end of its day or month, past the
    fine window's end (else it was not rolled): longer than a window of a fixed-length grid, and
    for a calendar grid (zoned days, weeks; months and longer never roll) at least two days."""
    if fine.seconds is not None:
        return float(fine.seconds)
    return 2.0 * _SHORTEST_DAY_S


def _longer_than(session: Session, seconds: float) -> ColumnElement[bool]:
    """Whether a stored window lasts more than `seconds` (half a second's slack: SQLite's
    `julianday` is a float, to about ten microseconds)."""
    length: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        length = extract("epoch", ProfileWindow.end - ProfileWindow.start)
    else:
        length = (func.julianday(ProfileWindow.end) - func.julianday(ProfileWindow.start)) * 86_400
    return length > seconds + 0.5


def stale_cell_spans(periods: Sequence[tuple[Period, dt.datetime, dt.datetime]]) -> list[CellSpan]:
    """The dashboard cells the rolled `periods` retire (see the module docstring), as spans for
    `vigil.store.dashboard_tables.delete_cells`."""
    out: list[CellSpan] = []
    for period, first, end in periods:
        units, before = _RETIRED[period]
        out.append((first, end, tuple(u for u in units if u != "week")))
        if "week" in units:
            out.append((first - before, end, ("week",)))
    return out
