"""What the `vigil performance` commands share: a window and period read in the model's time
zone, times without an offset read there too, and the options that say them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload
from zoneinfo import ZoneInfo

import click

from vigil.errors import InvalidInputError
from vigil.windows import Grid

if TYPE_CHECKING:
    from vigil.api.specs import ModelSpec


@dataclass(frozen=True)
class Period:
    """The request's grid and bounds, resolved against the model."""

    grid: Grid
    start: dt.datetime | None
    end: dt.datetime | None


def resolve(spec: ModelSpec, window: str, start: str | None, end: str | None) -> Period:
    """The grid `window` names in the model's zone; times without an offset read there too; a
    period's own bounds when no --start/--end is given."""
    zone = spec.grid.tz
    grid = Grid.parse(window, default_tz=zone)
    first, last = parse_time(start, zone, "--start"), parse_time(end, zone, "--end")
    if grid.origin is not None and grid.step is not None and first is None and last is None:
        first, last = grid.origin, grid.origin + grid.step
    if first is not None and last is not None and last <= first:
        raise InvalidInputError(
            f"--end {last.isoformat()} must be after --start {first.isoformat()}",
            start=first.isoformat(),
            end=last.isoformat(),
        )
    return Period(grid, first, last)


def bounds(spec: ModelSpec, start: str, end: str, option: str) -> tuple[dt.datetime, dt.datetime]:
    """A period given by two required options (`{option}-start`, `{option}-end`)."""
    zone = spec.grid.tz
    first, last = parse_time(start, zone, f"{option}-start"), parse_time(end, zone, f"{option}-end")
    if first is None or last is None or last <= first:
        raise InvalidInputError(
            f"{option}-end {end!r} must be after {option}-start {start!r}", start=start, end=end
        )
    return first, last


@overload
def parse_time(value: str, zone: str, option: str) -> dt.datetime: ...


@overload
def parse_time(value: str | None, zone: str, option: str) -> dt.datetime | None: ...


def parse_time(value: str | None, zone: str, option: str) -> dt.datetime | None:
    """An ISO 8601 date or time; without an offset, a wall time in `zone`."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{option} {value!r} is not an ISO 8601 date or time (e.g. 2026-01-31 or "
            "2026-01-31T06:00:00Z)",
            value=value,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone) if zone != "UTC" else dt.UTC)
    return parsed.astimezone(dt.UTC)


def label(grid: Grid, start: str) -> str:
    """The name of the window starting at `start` (ISO 8601): "2026-03", "2026-Q1", a day."""
    return grid.label(dt.datetime.fromisoformat(start.replace("Z", "+00:00")))


window_option = click.option(
    "--window",
    default="day",
    show_default=True,
    help="hour, day, week, month, quarter, year, a length (6h, 3d) or a period START/END "
    "(2026-01-01/2026-04-01); in the model's time zone unless one is named (month@UTC).",
)
start_option = click.option("--start", default=None, help="Inclusive start (ISO 8601).")
end_option = click.option("--end", default=None, help="Exclusive end (ISO 8601).")
