"""What the evaluation keeps from one tick to the next: baselines' merged profiles, the values a
learned threshold learns from, and the learned bounds, each keyed by the identity of its inputs.

A key names everything its entry was computed from, so an entry is never stale, only unused:

- a stored window is `(id, n_uploads, n_rows, last_arrival)`: an upload into it (a late one
  included) makes a new key;
- a monitor is its row id, `updated_at`, its definition and its model's spec (a changed
  definition or model makes new keys);
- a baseline profile stored as an artifact, or a registered version's training profile, is the
  digest of its bytes (a replaced artifact makes a new key).

Entries nobody asks for any more (yesterday's windows' baselines) leave by least-recent use; each
cache is bounded, the profiles by their serialised size. The baselines' cache is scan resistant
(`LruCache.admit_every`): once full it keeps what it holds and admits one new profile in 16. One `EvaluationCache` belongs to one
process's evaluations of one store (the scheduler's, for as long as it runs): window ids are
that store's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from vigil.analysis.drift.reference_memo import DEFAULT_MAX_BYTES, ReferenceMemo
from vigil.monitor.reader import StoredWindow
from vigil.monitor.thresholds import Bounds
from vigil.profile import DatasetProfile

V = TypeVar("V")

WindowKey = tuple[dt.datetime, tuple[tuple[int, int, int, dt.datetime], ...]]
"""A monitor window's identity: its start and its stored windows' (id, n_uploads, n_rows,
last_arrival)."""

DEFAULT_PROFILE_BYTES = 256 * 2**20
DEFAULT_VALUES = 500_000
DEFAULT_BOUNDS = 100_000
DEFAULT_DRIFT_BYTES = DEFAULT_MAX_BYTES
ADMIT_EVERY = 16
"""A full baseline cache keeps one new profile in this many (see `LruCache`)."""


def window_key(start: dt.datetime, parts: Sequence[StoredWindow]) -> WindowKey:
    """The identity of the monitor window at `start` made of the stored windows `parts`."""
    return start, tuple((p.id, p.n_uploads, p.n_rows, p.last_arrival) for p in parts)


def digest(blob: bytes) -> str:
    """The identity of a profile stored as bytes (an artifact)."""
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


@dataclass
class CacheStats:
    """How a cache was used since it was made."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    refused: int = 0
    """New entries not kept because the cache was full (`admit_every`)."""


class LruCache(Generic[V]):
    """A mapping that forgets its least recently used entries past `max_entries` entries or
    `max_bytes` bytes (each entry's size given by `size`, 1 when no size is given).

    With `admit_every`, a new entry that does not fit is kept only every `admit_every`-th time
    (displacing the least recently used), the others not at all. That makes it scan resistant:
    a tick reads its monitors' baselines in the same order every time, and a plain LRU smaller
    than that loop evicts each entry just before its next use (no hit at all); this one keeps
    what it holds and still turns over, slowly."""

    def __init__(
        self,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        size: Callable[[V], int] | None = None,
        admit_every: int | None = None,
    ) -> None:
        if max_entries is not None and max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        if admit_every is not None and admit_every < 1:
            raise ValueError(f"admit_every must be >= 1, got {admit_every}")
        self.max_entries = max_entries
        self.admit_every = admit_every
        self.max_bytes = max_bytes
        self._size = size or (lambda _: 1)
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """(True, value) when `key` is cached (and now the most recently used), else
        (False, None)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.stats.misses += 1
                return False, None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return True, found[0]

    def put(self, key: Hashable, value: V) -> None:
        size = self._size(value)
        with self._lock:
            if self.admit_every is not None and key not in self._entries and not self._fits(size):
                self.stats.refused += 1
                too_big = self.max_bytes is not None and size > self.max_bytes
                if too_big or self.stats.refused % self.admit_every:
                    return
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self._entries and (
                (self.max_entries is not None and len(self._entries) > self.max_entries)
                or (self.max_bytes is not None and self.bytes > self.max_bytes)
            ):
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped
                self.stats.evictions += 1

    def _fits(self, size: int) -> bool:
        return (self.max_entries is None or len(self._entries) < self.max_entries) and (
            self.max_bytes is None or self.bytes + size <= self.max_bytes
        )

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]  # a cached None is a value
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0


def profile_size(profile: DatasetProfile | None) -> int:
    """A profile's size as stored (its decoded size is of the same order)."""
    return 64 if profile is None else len(profile.to_bytes())


class EvaluationCache:
    """The caches an evaluation process keeps between ticks (see the module docstring).

    `profile_bytes` bounds the baselines' merged profiles (by serialised size); `values` and
    `bounds` bound the learned thresholds' inputs and results (by entries); `drift_bytes` the
    drift statistics' memoised reference side (by estimated size).
    """

    def __init__(
        self,
        *,
        profile_bytes: int = DEFAULT_PROFILE_BYTES,
        values: int = DEFAULT_VALUES,
        bounds: int = DEFAULT_BOUNDS,
        drift_bytes: int = DEFAULT_DRIFT_BYTES,
    ) -> None:
        self.references: LruCache[DatasetProfile | None] = LruCache(
            max_bytes=profile_bytes, size=profile_size, admit_every=ADMIT_EVERY
        )
        """Baseline profiles: a period's merge, an artifact, a registered version's, and the
        blocks of trailing baselines (`vigil.monitor.blocks`)."""
        self.values: LruCache[float | None] = LruCache(max_entries=values)
        """A monitor's value on one window (against one reference)."""
        self.bounds: LruCache[Bounds | None] = LruCache(max_entries=bounds)
        """A learned threshold's bounds from its baseline windows' values."""
        self.drift = ReferenceMemo(drift_bytes)
        """The reference's side of drift statistics, per baseline column
        (`vigil.analysis.drift.reference_memo`): a baseline cached in `references` is the same
        object tick after tick, so its quantiles and grids are computed once."""

    def clear(self) -> None:
        for cache in (self.references, self.values, self.bounds):
            cache.clear()
        self.drift.clear()
