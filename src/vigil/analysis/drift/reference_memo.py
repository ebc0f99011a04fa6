"""The reference's side of the profile-path statistics, computed once and reused.

A monitor compares each new window with the same baseline profile, tick after tick. What a
statistic reads from the reference alone (its quantiles on the KS grid, an exact sketch's sorted
view for the KS CDF, its 1,000 quantiles for the effect size, its decile bins, its chart shares)
is the same every time; a `ReferenceMemo` keeps it, per reference column, while the memo is
active:

    memo = ReferenceMemo()
    with memo.active():
        report = vigil.drift(baseline, window)     # the baseline's side computed once

Without an active memo everything is computed as before; with one, results are bit for bit the
same (tests/analysis/drift/test_reference_memo.py): a memoised value is the very value the
computation returns, stored losslessly.

An entry is keyed by its column object and holds it. Profiles are immutable (merging makes new
columns), so the entry cannot go stale, and the object's id cannot be reused while the entry
holds it: another reference (a new baseline, an upload into the baseline) is another object and
another entry; the old one leaves when the memo is full. The memo is bounded by an estimate of
its bytes. It is scan resistant: a tick reads every monitor's reference in the same order, and a
plain least-recently-used memo smaller than that loop would evict each entry just before its
next use. Once full, a new column displaces the least recently used one only every
`ADMIT_EVERY`-th time (the others are computed and not kept), so a loop larger than the memo
keeps most of what it holds and still turns over slowly.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

DEFAULT_MAX_BYTES = 384 * 2**20
"""About 6 KB per numeric reference column with the default tests: 45,000 columns (1,000 models
of 45 numeric features) fit."""
ADMIT_EVERY = 16
ENTRY_OVERHEAD = 200
"""Bytes of bookkeeping per column entry and per stored value (dicts, keys, array headers)."""

_ACTIVE: ContextVar[ReferenceMemo | None] = ContextVar("vigil_drift_reference_memo", default=None)


def nbytes(value: Any) -> int:
    """A stored value's size, estimated: arrays by their buffers, tuples and dataclasses (a
    sketch's sorted view) by their items."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + ENTRY_OVERHEAD
    if isinstance(value, tuple):
        return sum(nbytes(v) for v in value) + 8 * len(value) + 56
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return sum(nbytes(getattr(value, f.name)) for f in fields) + 8 * len(fields) + 56
    return sys.getsizeof(value)


def compact(values: np.ndarray) -> np.ndarray:
    """`values` (float64) stored as float32 when that loses nothing (quantiles of a numeric
    column's float32 sketch), else as they are; read-only either way."""
    narrow = values.astype(np.float32)
    kept = narrow if np.array_equal(narrow.astype(np.float64), values, equal_nan=True) else values
    kept = kept.copy() if kept is values else kept
    kept.flags.writeable = False
    return kept


class _Entry:
    __slots__ = ("bytes", "column", "values")

    def __init__(self, column: object) -> None:
        self.column = column
        self.values: dict[Hashable, Any] = {}
        self.bytes = ENTRY_OVERHEAD


class ReferenceMemo:
    """What drift statistics read from reference columns alone, per column object, bounded by
    `max_bytes` (estimated)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._refused = 0

    def __len__(self) -> int:
        return len(self._entries)

    @contextmanager
    def active(self) -> Iterator[ReferenceMemo]:
        """Make this memo the one `reference_value` uses in this context (thread, task)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def get(self, column: object, key: Hashable, compute: Callable[[], T]) -> T:
        """The value `compute()` returns for this reference column under `key`, computed once."""
        with self._lock:
            entry = self._entries.get(id(column))
            if entry is not None and entry.column is column and key in entry.values:
                self._entries.move_to_end(id(column))
                self.hits += 1
                return entry.values[key]  # type: ignore[no-any-return]
            self.misses += 1
        value = compute()
        self._keep(column, key, value)
        return value

    def _keep(self, column: object, key: Hashable, value: Any) -> None:
        size = nbytes(value) + ENTRY_OVERHEAD
        with self._lock:
            entry = self._entries.get(id(column))
            if entry is None or entry.column is not column:
                if entry is not None:  # cannot happen while the entry holds its column
                    self._drop(id(column))
                if self.bytes + size + ENTRY_OVERHEAD > self.max_bytes:
                    self._refused += 1
                    if self._refused % ADMIT_EVERY:
                        return
                entry = self._entries[id(column)] = _Entry(column)
                self.bytes += entry.bytes
            if key not in entry.values:
                entry.values[key] = value
                entry.bytes += size
                self.bytes += size
            self._entries.move_to_end(id(column))
            while self.bytes > self.max_bytes and len(self._entries) > 1:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: int) -> None:
        self.bytes -= self._entries.pop(key).bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0


def reference_value(column: object, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, memoised per reference column when a `ReferenceMemo` is active. `column`
    must be the reference's (immutable) column and `compute` read nothing but it."""
    memo = _ACTIVE.get()
    if memo is None:
        return compute()
    return memo.get(column, key, compute)
