"""One bounded, thread-safe least-recently-used cache for every floor.

Bounded by entries, by bytes (each value's size given by a function), or both; optionally scan
resistant (`admit_every`). Its users: the profile floor's memory of bytes it wrote and of checked
uploads' decoded profiles (`vigil.profile.trust`), the evaluation's caches between ticks
(`vigil.monitor.caches`), and the folders a local artifact store checked (`vigil.store.artifacts`).

    seen: LruCache[None] = LruCache(max_entries=4096)
    seen.put(digest, None); digest in seen
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


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
    a loop over more keys than the cache holds, in the same order every time (a tick reading its
    monitors' baselines), makes a plain LRU evict each entry just before its next use (no hit at
    all); this one keeps what it holds and still turns over, slowly. Without `admit_every`, an
    entry larger than `max_bytes` empties the cache (and is not kept either).

    Every method takes the cache's lock, so threads may share one cache.
    """

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
        self.max_bytes = max_bytes
        self.admit_every = admit_every
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        """The sum of the kept entries' sizes (their count when no `size` is given)."""
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        """Whether `key` is kept (its recency unchanged)."""
        with self._lock:
            return key in self._entries

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """(True, value) when `key` is kept (and now the most recently used), else
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
        """Keep `value` under `key` as the most recently used (see the class for what a full
        cache does)."""
        size = 1 if self._size is None else self._size(value)
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
        """The value kept under `key`, else `compute()`'s, then kept. Two threads missing the
        same key at once both compute it (the lock is not held while computing)."""
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]  # a kept None is a value
        value = compute()
        self.put(key, value)
        return value

    def discard(self, key: Hashable) -> None:
        """Forget `key`, if kept."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0
