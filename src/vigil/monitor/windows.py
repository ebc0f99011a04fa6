"""The stored traffic that falls into each window of a monitor's grid (`vigil.windows.Grid`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from sqlalchemy.orm import Session

from vigil.profile import DatasetProfile
from vigil.store.repositories import WindowRepository
from vigil.store.stored_profiles import StoredProfile, UndecodableWindows, merge_stored, tally_of
from vigil.windows import ORIGIN, Grid, GridLike

__all__ = ["ORIGIN", "Window", "floor_window", "grid", "load_windows", "monitor_grid"]


_MONITOR_GRIDS = MappingProxyType({g.seconds: g for g in (Grid("hour"), Grid("day"), Grid("week"))})


def monitor_grid(window: GridLike) -> Grid:
    """A monitor's grid; a whole number of seconds is a monitor's `window_seconds`, so 604800
    is its `"week"` (on Mondays), not 7 days from the epoch as for a model's stored windows."""
    if isinstance(window, int) and not isinstance(window, bool) and window in _MONITOR_GRIDS:
        return _MONITOR_GRIDS[window]
    return Grid.of(window)


def floor_window(t: dt.datetime, window: GridLike) -> dt.datetime:
    """The start of the window of `window` that contains `t`."""
    return monitor_grid(window).floor(t)


def grid(start: dt.datetime, end: dt.datetime, window: GridLike) -> list[dt.datetime]:
    """Starts of the windows that begin in [floor(start), end)."""
    return monitor_grid(window).starts(start, end)


@dataclass(frozen=True)
class Window:
    """One monitor window: its bounds, rows, and the merged profile of its stored windows."""

    start: dt.datetime
    end: dt.datetime
    n_rows: int = 0
    n_uploads: int = 0
    last_arrival: dt.datetime | None = None
    stored: tuple[StoredProfile, ...] = field(default=(), repr=False)
    tally: UndecodableWindows | None = field(default=None, repr=False, compare=False)

    @cached_property
    def profile(self) -> DatasetProfile:
        """The merge of the stored windows' profiles (an undecodable one is logged and skipped)."""
        return merge_stored(self.stored, self.tally)


def load_windows(
    session: Session,
    model_id: int,
    version: str | None,
    starts: Sequence[dt.datetime],
    window: GridLike,
    *,
    segment: str = "",
) -> dict[dt.datetime, Window]:
    """The monitor windows of `window` starting at `starts`, each the union of the model's
    stored windows in it (empty windows included, with no rows); `segment` "" is the whole
    traffic."""
    if not starts:
        return {}
    cut = monitor_grid(window)
    ends = {s: cut.next(s) for s in starts}
    first, last = min(starts), max(ends.values())
    wanted = set(starts)
    rows: dict[dt.datetime, list[tuple[int, int, dt.datetime, StoredProfile]]] = {
        s: [] for s in starts
    }
    stored_windows = WindowRepository(session).list(
        model_id, version=version, start=first, end=last, segment=segment
    )
    for stored in stored_windows:
        key = cut.floor(stored.start)
        if key in wanted:
            rows[key].append(
                (stored.n_rows, stored.n_uploads, stored.last_arrival, StoredProfile.of(stored))
            )
    return {
        s: Window(
            start=s,
            end=ends[s],
            n_rows=sum(n for n, _, _, _ in items),
            n_uploads=sum(u for _, u, _, _ in items),
            last_arrival=max((a for _, _, a, _ in items), default=None),
            stored=tuple(b for _, _, _, b in items),
            tally=tally_of(session),
        )
        for s, items in rows.items()
    }
