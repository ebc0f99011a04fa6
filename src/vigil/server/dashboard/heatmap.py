"""The model page's drift heatmap over calendar periods (hour, day, week, month, quarter, year,
in the model's time zone), zooming from a period to its finer ones.

Cells are `vigil.monitor.period_drift`'s: a drift monitor's stored results when one watches that
grid, else what the model's drift monitors measure on the merged period. A period is partial
when it is still open (it ends after the model's latest data), began before the model's first
data, or has data for less than half its time: its column is hatched and its label says so,
so a half-filled month is never read as a change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup

from vigil.api.specs import ModelOut
from vigil.errors import InvalidInputError
from vigil.ingestion import queries
from vigil.monitor.period_drift import Period, PeriodCells, period_drift
from vigil.monitor.reading import describe_baseline
from vigil.performance.service import window_size
from vigil.server.dashboard import drift_charts
from vigil.server.dashboard.loaders import compared_columns, read
from vigil.store.core import Store
from vigil.windows import Grid

CellsQ = Literal["hour", "day", "week", "month", "quarter", "year"]
UNITS: tuple[str, ...] = ("year", "quarter", "month", "week", "day", "hour")
FINER = {"year": "month", "quarter": "month", "month": "day", "week": "day", "day": "hour"}
"""What a period's column zooms into."""
COARSER = {"hour": "day", "day": "month", "week": "quarter", "month": "year", "quarter": "year"}
"""The period a zoomed view shows (`at`): a day's hours, a month's days, a year's months..."""
DEFAULT_DAYS = {"hour": 7, "day": 90}
MAX_DAYS = {"hour": 14, "day": 400}
MAX_PERIODS = 400
"""Columns one heatmap draws at most: coarser views show the latest this many periods."""
PAGE_MAX_PARTS = 200
"""A page measures a period of at most this many stored windows itself (about eight days of
hourly windows); larger ones are the background warmer's (`drift_cache.WARM_PERIODS`)."""
PARTIAL_SHARE = 0.5
"""A period with stored data for less than this share of its time is partial."""


LEGEND = tuple(
    (drift_charts.legend_swatch(kind), text)
    for kind, text in (
        ("none", "no drift"),
        ("near", "no drift, near the bar"),
        ("drifted", "drifted (marked with a square)"),
        ("drifted3", "drifted, 3\u00d7 the bar"),
        ("nodata", "not measured"),
        ("partial", "partial period (hatched; its label ends in *)"),
    )
)
"""The heatmap's legend: each sample drawn as the grid draws it (colour, mark, hatching)."""


@dataclass(frozen=True)
class Column:
    """One period of the heatmap: where it starts, its name, and why it is partial ("")."""

    start: dt.datetime
    end: dt.datetime
    label: str
    partial: str = ""
    zoom: str = ""
    """The link to this period by finer cells ("" for hours)."""


@dataclass(frozen=True)
class Heatmap:
    granularity: str
    days: int
    reference: str
    svg: Markup
    missing: int
    """Periods still being measured (the section reloads itself until none is left)."""
    features: list[str]
    unmeasured: int = 0
    """Periods with data that no drift monitor has a result for."""
    note: str = ""
    monitored: bool = True
    """Whether a drift monitor of this model can give these cells."""
    columns: list[Column] = field(default_factory=list)
    at: str = ""
    """The zoomed period's start (ISO), "" for the latest periods."""
    of: str = ""
    """The zoomed period's unit ("month" for a month's days), "" for the latest periods."""
    title: str = ""
    """What the columns are: "days of Mar 2026", "the last 90 days by day"."""
    up: str = ""
    """The link one level out (the month of a day's hours), "" at the top."""
    previous: tuple[str, str] = ("", "")
    following: tuple[str, str] = ("", "")
    """(label, link) of the neighbouring zoomed periods."""
    derived: bool = False
    zone: str = "UTC"
    units: tuple[tuple[str, str], ...] = ()
    """(unit, link) of each kind of cells, coarsest first: the latest periods by that unit."""

    @property
    def legend(self) -> tuple[tuple[Markup, str], ...]:
        return LEGEND


def period_label(grid: Grid, start: dt.datetime, zone: str) -> str:
    """A period's name as people say it: "14:00 2 Mar", "Mon 2 Mar", "week of 2 Mar",
    "Mar 2026", "2026-Q1", "2026" (in the model's time zone)."""
    local = start.astimezone(ZoneInfo(zone)) if zone != "UTC" else start
    if grid.unit == "hour":
        return f"{local:%H:%M} {local.day} {local:%b}"
    if grid.unit == "day":
        return f"{local:%a} {local.day} {local:%b}"
    if grid.unit == "week":
        return f"week of {local.day} {local:%b}"
    if grid.unit == "month":
        return f"{local:%b %Y}"
    if grid.unit == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}"


def partial_reason(
    period: Period | None,
    start: dt.datetime,
    end: dt.datetime,
    data: tuple[dt.datetime, dt.datetime],
    zone: str,
) -> str:
    """Why the period [start, end) is partial ("" when whole): its data rolled up with more
    (retention), still open, begun before the model's data, or less than `PARTIAL_SHARE` of its
    time with data."""
    first, data_end = data
    if period is not None and period.rolled:
        local = period.data_end.astimezone(ZoneInfo(zone))
        return (
            f"rolled up: its data is one stored window until {local:%Y-%m-%d %H:%M} ({zone}), "
            "measured in a coarser view"
        )
    if end > data_end and start < data_end:
        local = data_end.astimezone(ZoneInfo(zone))
        return f"partial: still open, data until {local:%Y-%m-%d %H:%M} ({zone})"
    if start < first < end:
        local = first.astimezone(ZoneInfo(zone))
        return f"partial: the model's data begins {local:%Y-%m-%d %H:%M} ({zone})"
    covered = period.covered if period is not None else 0.0
    if covered < PARTIAL_SHARE:
        return f"partial: {covered:.0%} of the period has data"
    return ""


def view_bounds(
    grid: Grid,
    zone: str,
    last: dt.datetime,
    days: int,
    first: dt.datetime,
    at: dt.datetime | None = None,
    of: str | None = None,
) -> tuple[dt.datetime, dt.datetime, Grid | None]:
    """[start, end) of the columns shown, and the zoomed period's grid (None: the latest
    periods). With `at`, the period of unit `of` (default: the next coarser one) holding it, in
    the model's `zone`; else hours and days show the last `days` days, coarser units the latest
    `MAX_PERIODS` periods since the model's first data."""
    if at is not None and (of or COARSER.get(grid.unit)):
        outer_unit = of or COARSER[grid.unit]
        if UNITS.index(outer_unit) >= UNITS.index(grid.unit):
            raise InvalidInputError(
                f"of={outer_unit!r} must be a longer period than the {grid.unit} cells it holds "
                f"(one of {[u for u in UNITS if UNITS.index(u) < UNITS.index(grid.unit)]})",
                of=outer_unit,
            )
        outer = Grid.parse(outer_unit, default_tz=zone)
        start, end = outer.window_of(at)
        return start, end, outer
    end = grid.next(last)
    if grid.unit in DEFAULT_DAYS:
        return grid.floor(end - dt.timedelta(days=days)), end, None
    start = max(grid.floor(first), grid.shift(end, -MAX_PERIODS))
    return start, end, None


def zoom_link(model: str, unit: str, at: dt.datetime | None = None, of: str = "") -> str:
    """The model page showing `unit` cells, of the `of` period holding `at` when given."""
    query = {"granularity": unit}
    if at is not None:
        query["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        query["of"] = of
    return f"/ui/models/{quote(model, safe='')}?{urlencode(query)}#heatmap"


def check_days(granularity: str, days: int | None) -> int:
    if granularity not in DEFAULT_DAYS:
        return days or 0
    days = days or DEFAULT_DAYS[granularity]
    if not 1 <= days <= MAX_DAYS[granularity]:
        raise InvalidInputError(
            f"days must be 1 to {MAX_DAYS[granularity]} for {granularity}ly cells, got {days}"
        )
    return days


def build_heatmap(
    store: Store,
    model: ModelOut,
    granularity: str,
    days: int,
    *,
    at: dt.datetime | None = None,
    of: str | None = None,
    budget_seconds: float | None = None,
    warming: bool = True,
) -> Heatmap | None:
    """The model's drift per period of `granularity` (in its time zone): the latest periods,
    or with `at` the period of unit `of` (default: the next coarser) holding it. Periods too
    large for a page are left to the background warmer (`warming`: whether it runs)."""
    span = read(store, lambda s: queries.traffic_span(s, model.name))
    if span is None:
        return None
    zone = model.grid.tz
    grid = window_size(granularity, model)
    if not grid.nests(model.grid):
        raise InvalidInputError(
            f"model {model.name!r} stores {model.grid} windows: {granularity} cells are not made "
            f"of them; choose one of {[u for u in UNITS if fits(u, model)]}",
            granularity=granularity,
        )
    data = (span[0], model.grid.next(span[1]))
    start, end, outer = view_bounds(grid, zone, span[1], days, span[0], at, of)
    count = grid.count(start, end)
    if count > MAX_PERIODS:  # bounded above for every unit; kept as the one guard of the work
        raise InvalidInputError(
            f"{count} {granularity} cells asked for; the heatmap draws at most {MAX_PERIODS}: "
            "choose fewer days or coarser cells",
            cells=count,
            limit=MAX_PERIODS,
        )
    found = period_drift(
        store,
        model.name,
        grid,
        start,
        end,
        budget_seconds=budget_seconds,
        max_parts=PAGE_MAX_PARTS,
    )
    columns = _columns(model, grid, found, start, end, data)
    features = _features(model, found)
    title, up, previous, following = _navigation(model.name, grid, outer, start, end, zone)
    with_data = [c for c in columns if c.start in found.periods and c.start not in found.rolled]
    waiting = len(found.pending) + len(found.deferred)
    unmeasured = max(len([c for c in with_data if c.start not in found.cells]) - waiting, 0)
    notes = list(found.skipped)
    if not found.monitors:
        svg = Markup(
            '<p class="empty">No drift monitor watches this model: define one (kind '
            "data_drift or prediction_drift, any window) and its figures appear here, per "
            "period.</p>"
        )
    else:
        svg = drift_charts.heatmap(
            features,
            [c.start for c in columns],
            {s: {c: f.score for c, f in cell.columns.items()} for s, cell in found.cells.items()},
            granularity=granularity,
            labels=[c.label for c in columns],
            links=[c.zoom for c in columns],
            partial=[c.partial for c in columns],
        )
    if found.monitors and found.derived:
        notes.insert(
            0,
            f"No drift monitor has {granularity} windows: each cell is what the model's drift "
            f"monitors would measure with {granularity} windows, on the period's merged data.",
        )
    if found.deferred:
        notes.append(
            f"{len(found.deferred)} {granularity}(s) hold more than {PAGE_MAX_PARTS} stored "
            "windows, too many to merge within a page: "
            + (
                "the dashboard's background warmer measures them (this section refreshes "
                "until they arrive)."
                if warming
                else "the background warmer measures them, and it is off "
                "(VIGIL_DASHBOARD_WARM_SECONDS=0); choose finer cells."
            )
        )
    if found.rolled and found.derived:
        notes.append(
            f"{len(found.rolled)} {granularity}(s) lie in windows retention rolled up into days "
            "or months: not measured (they would show the whole day's or month's figures); "
            "a coarser view shows them."
        )
    if unmeasured and found.derived:
        notes.append(
            f"{unmeasured} {granularity}(s) with data measured nothing (too few rows, or the "
            "baseline has no data for them)."
        )
    elif unmeasured:
        notes.append(
            f"{unmeasured} {granularity}(s) with data have no drift result yet: monitors "
            "evaluate windows as they close (`vigil monitors run --from ... --to ...` evaluates "
            "older ones)."
        )
    return Heatmap(
        granularity=granularity,
        days=days,
        reference=_reference(found) if found.monitors else "no drift monitor",
        svg=svg,
        missing=len(found.pending) + (len(found.deferred) if warming else 0),
        features=features,
        unmeasured=unmeasured,
        note=" ".join(notes),
        monitored=bool(found.monitors),
        columns=columns,
        at="" if outer is None else start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        of="" if outer is None else outer.unit,
        title=title,
        up=up,
        previous=previous,
        following=following,
        derived=found.derived,
        zone=zone,
        units=tuple((u, zoom_link(model.name, u)) for u in UNITS if fits(u, model)),
    )


def _reference(found: PeriodCells) -> str:
    return "; ".join(f"{describe_baseline(m)} ({m.name})" for m in found.monitors)


def _features(model: ModelOut, found: PeriodCells) -> list[str]:
    """The model's compared columns that were measured, in its order, then any others."""
    columns = compared_columns(model)
    measured = {c for cell in found.cells.values() for c in cell.columns}
    features = [c for c in columns if c in measured] + sorted(measured - set(columns))
    return features or columns


def fits(unit: str, model: ModelOut) -> bool:
    """Whether `unit` periods (in the model's zone) are made of the model's stored windows."""
    return window_size(unit, model).nests(model.grid)


def _columns(
    model: ModelOut,
    grid: Grid,
    found: PeriodCells,
    start: dt.datetime,
    end: dt.datetime,
    data: tuple[dt.datetime, dt.datetime],
) -> list[Column]:
    """Every period of the view from the first with data to the last (empty ones between)."""
    starts = grid.starts(start, end)
    with_data = [s for s in starts if s in found.periods]
    if not with_data:
        return []
    shown = [s for s in starts if with_data[0] <= s <= with_data[-1]]
    finer = FINER.get(grid.unit)
    if finer is not None and not fits(finer, model):
        finer = None
    zone = model.grid.tz
    return [
        Column(
            s,
            grid.next(s),
            period_label(grid, s, zone),
            partial_reason(found.periods.get(s), s, grid.next(s), data, zone),
            zoom_link(model.name, finer, s, grid.unit) if finer else "",
        )
        for s in shown
    ]


def _navigation(
    model: str,
    grid: Grid,
    outer: Grid | None,
    start: dt.datetime,
    end: dt.datetime,
    zone: str,
) -> tuple[str, str, tuple[str, str], tuple[str, str]]:
    """(title, link one level out, previous, next) of the view."""
    unit = grid.unit
    if outer is None:
        title = (
            f"the latest {unit}s"
            if unit not in DEFAULT_DAYS
            else f"the last {(end - start).days} days by {unit}"
        )
        return title, "", ("", ""), ("", "")
    name = period_label(outer, start, zone)
    title = f"{unit}s of {name}"
    coarser = COARSER.get(outer.unit)
    up = zoom_link(model, outer.unit, start, coarser) if coarser else zoom_link(model, outer.unit)
    before, after = outer.shift(start, -1), end
    return (
        title,
        up,
        (period_label(outer, before, zone), zoom_link(model, unit, before, outer.unit)),
        (period_label(outer, after, zone), zoom_link(model, unit, after, outer.unit)),
    )
