"""Block merges of a trailing baseline: the merge of the windows before a monitor window, built from
cached merges of aligned blocks of windows instead of every window again each round.

A trailing baseline (the 24 hours before) moves by one window a round, and sketches cannot
subtract the window that left it. So its windows are cut into blocks of `BLOCK_WINDOWS` windows
aligned on the grid (counted from the epoch), and each block's part of the baseline is merged on
its own and kept in the process's cache, keyed like every cached profile by its windows'
identities (`vigil.monitor.caches.window_key`: id, upload count, rows, last arrival; a late upload
into a window makes new keys for its block, never a stale entry):

- a block wholly inside the baseline is found whole for every round it stays inside;
- the newest block grows by one window a round: its part is the cached part one window shorter,
  merged with the new window;
- the oldest block shrinks by one window a round: its first tail is built from the block's last
  window back, each shorter tail cached on the way, so each tail is ready for the round that
  needs it (a block first seen whole is merged window by window and only its merge is kept, so
  a cold tick caches a few entries per baseline, not every tail).

A round then decodes the window that joined the baseline (and, once per block, the tails' windows),
and merges a few blocks instead of 24 windows. The merge is of the same windows in the same time
order, grouped otherwise: counts, minima, maxima and category counts are those of the direct merge,
moments equal up to floating-point rounding of the regrouped sums, quantile sketches within their
stated rank error (a KLL merge compacts at random, as the direct merge does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence

from vigil.lru import LruCache
from vigil.monitor.caches import window_key
from vigil.monitor.reader import ReadWindow
from vigil.profile import DatasetProfile
from vigil.windows import EPOCH, Grid

BLOCK_WINDOWS = 6
"""Windows per block: an hourly baseline's blocks are 6 hours (00:00, 06:00, 12:00, 18:00 UTC)."""

Group = tuple[ReadWindow, ...]


def block_of(grid: Grid, start: dt.datetime, size: int = BLOCK_WINDOWS) -> int:
    """The number of the block holding the window at `start` (blocks of `size` windows)."""
    return grid.count(EPOCH, start) // size if start >= EPOCH else -1


def groups(windows: Sequence[ReadWindow], grid: Grid, size: int = BLOCK_WINDOWS) -> list[Group]:
    """The windows with rows, in time order, cut where a block ends."""
    out: list[list[ReadWindow]] = []
    last: int | None = None
    for window in sorted((w for w in windows if w.n_rows), key=lambda w: w.start):
        block = block_of(grid, window.start, size)
        if block != last:
            out.append([])
            last = block
        out[-1].append(window)
    return [tuple(g) for g in out]


def group_key(group: Group) -> Hashable:
    """A group's cache key: its windows' identities (any upload into one of them changes it)."""
    return ("block", tuple(window_key(w.start, w.parts) for w in group))


class BlockMerge:
    """Merges a trailing baseline's windows through cached block merges (see the module
    docstring). `profile` reads one window's profile (decoding it)."""

    def __init__(
        self,
        cache: LruCache[DatasetProfile | None],
        grid: Grid,
        profile: Callable[[ReadWindow], DatasetProfile],
        size: int = BLOCK_WINDOWS,
    ) -> None:
        if size < 1:
            raise ValueError(f"a block holds at least one window, got {size}")
        self.cache = cache
        self.grid = grid
        self.profile = profile
        self.size = size

    def merge(self, windows: Sequence[ReadWindow]) -> DatasetProfile | None:
        """The merge of the windows with rows (None when none has rows)."""
        parts = [self._group(g) for g in groups(windows, self.grid, self.size)]
        return DatasetProfile.merge_all(parts) if parts else None

    def unread(self, windows: Sequence[ReadWindow]) -> list[ReadWindow]:
        """The windows whose own profiles `merge` would read, given what the cache holds now."""
        out: list[ReadWindow] = []
        for group in groups(windows, self.grid, self.size):
            out += self._unread(group)
        return out

    def _cached(self, group: Group) -> tuple[bool, DatasetProfile | None]:
        if len(group) < 2:  # a single window is the reader's (decoded once per tick)
            return False, None
        key = group_key(group)
        return self.cache.get(key) if key in self.cache else (False, None)

    def _tail(self, group: Group) -> bool:
        """Whether the group starts after its block's first window (the oldest block's tail)."""
        first = group[0].start
        before = self.grid.shift(first, -1)
        return block_of(self.grid, before, self.size) == block_of(self.grid, first, self.size)

    def _unread(self, group: Group) -> list[ReadWindow]:
        if self._cached(group)[0]:
            return []
        if len(group) == 1:
            return [group[0]]
        if self._cached(group[:-1])[0]:
            return [group[-1]]
        if self._tail(group):
            return [group[0], *self._unread(group[1:])]
        return list(group)

    def _group(self, group: Group) -> DatasetProfile:
        found, value = self._cached(group)
        if found and value is not None:
            return value
        if len(group) == 1:
            return self.profile(group[0])
        found, head = self._cached(group[:-1])
        if found and head is not None:  # the newest block, one window longer than last round
            merged = head.merge(self.profile(group[-1]))
        elif self._tail(group):  # the oldest block's tail: each shorter tail cached on the way
            merged = self.profile(group[0]).merge(self._group(group[1:]))
        else:  # a block (or the newest block's start) first seen: only its merge is kept
            merged = DatasetProfile.merge_all(self.profile(w) for w in group)
        self.cache.put(group_key(group), merged)
        return merged
