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
cache is bounded (`vigil.lru.LruCache`), the profiles by their serialised size. The baselines'
cache is scan resistant (`LruCache.admit_every`): once full it keeps what it holds and admits one
new profile in 16. One `EvaluationCache` belongs to one process's evaluations of one store (the
scheduler's, for as long as it runs): window ids are that store's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from vigil.analysis.drift.reference_memo import DEFAULT_MAX_BYTES, ReferenceMemo
from vigil.lru import LruCache
from vigil.monitor.reader import StoredWindow
from vigil.monitor.thresholds import Bounds
from vigil.profile import DatasetProfile

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
