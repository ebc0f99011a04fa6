"""The window grid of a monitor and the stored traffic that falls into each window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from vigil.profile import DatasetProfile
from vigil.store.repositories import WindowRepository
from vigil.store.stored_profiles import StoredProfile, UndecodableWindows, merge_stored, tally_of

# Weeks start on Monday: windows are aligned to this origin (a Monday, 00:00 UTC).
ORIGIN = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)


def floor_window(t: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the window of length `seconds` that contains `t`."""
    offset = int((t - ORIGIN).total_seconds()) // seconds * seconds
    return ORIGIN + dt.timedelta(seconds=offset)


def grid(start: dt.datetime, end: dt.datetime, seconds: int) -> list[dt.datetime]:
    """Starts of the windows that begin in [floor(start), end)."""
    step = dt.timedelta(seconds=seconds)
    current = floor_window(start, seconds)
    starts = []
    while current < end:
        starts.append(current)
        current += step
    return starts


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
    seconds: int,
    *,
    segment: str = "",
) -> dict[dt.datetime, Window]:
    """The monitor windows starting at `starts`, each the union of the model's stored windows in
    it (empty windows included, with no rows); `segment` "" is the whole traffic."""
    if not starts:
        return {}
    step = dt.timedelta(seconds=seconds)
    first, last = min(starts), max(starts) + step
    wanted = set(starts)
    rows: dict[dt.datetime, list[tuple[int, int, dt.datetime, StoredProfile]]] = {
        s: [] for s in starts
    }
    stored_windows = WindowRepository(session).list(
        model_id, version=version, start=first, end=last, segment=segment
    )
    for stored in stored_windows:
        key = floor_window(stored.start, seconds)
        if key in wanted:
            rows[key].append(
                (stored.n_rows, stored.n_uploads, stored.last_arrival, StoredProfile.of(stored))
            )
    return {
        s: Window(
            start=s,
            end=s + step,
            n_rows=sum(n for n, _, _, _ in items),
            n_uploads=sum(u for _, u, _, _ in items),
            last_arrival=max((a for _, _, a, _ in items), default=None),
            stored=tuple(b for _, _, _, b in items),
            tally=tally_of(session),
        )
        for s, items in rows.items()
    }
