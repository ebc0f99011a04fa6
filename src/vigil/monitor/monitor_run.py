"""One monitor's evaluation in a tick: which windows it reads, what it compares them with, and the
bounds it learns, through the tick's reader and the process's `EvaluationCache`.

The read phase (`prepare`) loads window metadata, then the blobs of only the windows whose
profiles are still to be computed: the evaluated windows, and the baseline windows whose merge,
values or learned bounds the cache does not hold. With warm caches a tick decodes each new window
once and no baseline window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.api.specs import ModelSpec
from vigil.errors import InvalidInputError, VigilError
from vigil.monitor.baselines import baseline_starts
from vigil.monitor.blocks import BlockMerge
from vigil.monitor.caches import EvaluationCache, digest, window_key
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import Context, Measurement, MonitorKind, get_kind
from vigil.monitor.reader import ReadWindow, WindowReader
from vigil.monitor.specs import (
    LearnedThreshold,
    PeriodBaseline,
    ProfileBaseline,
    RegistryBaseline,
    TrailingBaseline,
)
from vigil.monitor.targets import ResolvedTarget
from vigil.monitor.thresholds import Bounds, learned_bounds, static_bounds
from vigil.profile import DatasetProfile
from vigil.registry.service import Registry
from vigil.store.core import Store

Reference = tuple[Hashable, DatasetProfile | None]
"""A baseline's identity (its cache key) and its profile (None: no data)."""


@dataclass
class MonitorRun:
    """One monitor's evaluation: its windows come from the tick's reader, shared by every monitor
    of the tick; its baselines, values and learned bounds from the process's cache."""

    store: Store
    session: Session
    reader: WindowReader
    row_id: int
    evaluated_until: dt.datetime | None
    monitor: Monitor
    model_id: int
    model: ModelSpec
    first_data: dt.datetime | None = None
    target: ResolvedTarget = field(default_factory=lambda: ResolvedTarget(None))
    cache: EvaluationCache = field(default_factory=EvaluationCache)
    shared: dict[str, Reference] = field(default_factory=dict)
    """Profiles the tick's monitors share (an artifact, a registered version), read once."""
    windows: dict[dt.datetime, ReadWindow] = field(default_factory=dict)
    """The monitor windows read so far, by start: shared by the tick's monitors of the same
    model, version, segment and grid (`runs_of`)."""
    references: dict[tuple[dt.datetime, ...], Reference] = field(default_factory=dict)
    values: dict[Hashable, float | None] = field(default_factory=dict)
    """Values of a kind whose values the process cache may not keep (it reads more than the
    window), for this run only."""
    _identity: tuple[Monitor, Hashable] | None = field(default=None, repr=False)

    @property
    def kind(self) -> MonitorKind:
        return get_kind(self.monitor.kind)

    @property
    def identity(self) -> Hashable:
        """Everything about the monitor its values depend on (see `vigil.monitor.caches`)."""
        if self._identity is None or self._identity[0] is not self.monitor:
            key = (
                self.row_id,
                self.monitor.model_dump_json(),
                self.model.model_dump_json(),
                self.target.version,
                self.target.segment,
                self.first_data,
            )
            self._identity = (self.monitor, key)
        return self._identity[1]

    def load(self, starts: Iterable[dt.datetime], *, profiles: bool = True) -> list[ReadWindow]:
        """The monitor windows at `starts`; with `profiles` (and a kind that reads profiles),
        their blobs are loaded now so measuring them needs no transaction."""
        starts = list(starts)
        missing = [s for s in starts if s not in self.windows]
        self.windows.update(
            self.reader.load(
                self.model_id,
                self.target.version,
                missing,
                self.monitor.grid,
                segment=self.target.segment,
                profiles=False,
            )
        )
        windows = [self.windows[s] for s in starts]
        if profiles and (self.kind.needs_profile or self.kind.needs_reference):
            self.reader.fetch(p for w in windows for p in w.parts)
        return windows

    def _windows_key(self, starts: tuple[dt.datetime, ...]) -> Hashable:
        windows = self.load(starts, profiles=False)
        return ("windows", tuple(window_key(w.start, w.parts) for w in windows if w.n_rows))

    def reference(self, starts: tuple[dt.datetime, ...]) -> DatasetProfile | None:
        """The profile the window whose baseline windows start at `starts` is compared with."""
        return self.reference_entry(starts)[1]

    def reference_entry(self, starts: tuple[dt.datetime, ...]) -> Reference:
        if not self.kind.needs_reference:
            return None, None
        if starts not in self.references:
            baseline = self.monitor.effective_baseline()
            if isinstance(baseline, ProfileBaseline):
                artifact = baseline.artifact
                self.references[starts] = self._shared(
                    f"artifact:{artifact}", lambda: self.store.artifacts.get(artifact)
                )
            elif isinstance(baseline, RegistryBaseline):
                self.references[starts] = self._registry_profile(baseline)
            else:
                key = self._windows_key(starts)
                if isinstance(baseline, TrailingBaseline):
                    # Its blocks are cached; the whole merge is of other windows next round.
                    profile = self._merged(starts)
                else:
                    profile = self.cache.references.get_or_compute(
                        key, lambda: self._merged(starts)
                    )
                self.references[starts] = (key, profile)
        return self.references[starts]

    def _blocks(self) -> BlockMerge | None:
        """How a trailing baseline's windows are merged (None: a baseline merged whole)."""
        if not isinstance(self.monitor.effective_baseline(), TrailingBaseline):
            return None
        return BlockMerge(self.cache.references, self.monitor.grid, lambda w: w.profile)

    def _merged(self, starts: tuple[dt.datetime, ...]) -> DatasetProfile | None:
        blocks = self._blocks()
        if blocks is not None:
            return blocks.merge(self.load(starts, profiles=False))
        windows = [w for w in self.load(starts) if w.n_rows]
        return DatasetProfile.merge_all(w.profile for w in windows) if windows else None

    def _unread(self, starts: tuple[dt.datetime, ...]) -> list[dt.datetime]:
        """The baseline windows whose profiles merging the baseline at `starts` would read."""
        blocks = self._blocks()
        if blocks is None:
            return list(starts)
        return [w.start for w in blocks.unread(self.load(starts, profiles=False))]

    def _shared(self, name: str, read: Callable[[], bytes | None]) -> Reference:
        """A stored profile read once per tick and decoded once per content."""
        if name not in self.shared:
            blob = read()
            if blob is None:
                self.shared[name] = (("none", name), None)
            else:
                key = ("profile", digest(blob))
                profile = self.cache.references.get_or_compute(
                    key, lambda: DatasetProfile.from_bytes(blob)
                )
                self.shared[name] = (key, profile)
        return self.shared[name]

    def _registry_profile(self, baseline: RegistryBaseline) -> Reference:
        name = baseline.model or self.model.registry_model
        if name is None:
            raise InvalidInputError(
                f"monitor {self.monitor.name!r} has a registry baseline without `model`, and "
                f"model {self.model.name!r} names no registry_model"
            )
        registry = Registry(self.store, actor="vigil")
        version = baseline.version
        if version is None:
            assert baseline.alias is not None
            version = registry.get_alias(name, baseline.alias).version

        def read() -> bytes | None:
            key = registry.get_version_row(name, version).profile_key
            return None if key is None else self.store.artifacts.get(key)

        return self._shared(f"registry:{name}:{version}", read)

    def _bounds_key(self, starts: tuple[dt.datetime, ...], reference: Hashable) -> Hashable:
        windows = self.load(starts, profiles=False)
        return (self.identity, tuple(window_key(w.start, w.parts) for w in windows), reference)

    def _value_key(self, window: ReadWindow, reference: Hashable) -> Hashable:
        return (self.identity, window_key(window.start, window.parts), reference)

    def _value(self, context: Context, window: ReadWindow, reference: Hashable) -> float | None:
        key = self._value_key(window, reference)
        if self.kind.cacheable:
            return self.cache.values.get_or_compute(
                key, lambda: self.kind.measure(context, window).value
            )
        if key not in self.values:
            self.values[key] = self.kind.measure(context, window).value
        return self.values[key]

    def measure(self, window: ReadWindow) -> tuple[Measurement, Bounds | None]:
        if window.rolled is not None:  # part of a window retention rolled up: not measurable
            return Measurement(None, window.rolled_note), None
        starts = tuple(
            baseline_starts(self.monitor.effective_baseline(), window.start, self.monitor.grid)
        )
        reference_key, reference = self.reference_entry(starts)
        if self.kind.needs_reference and reference is None:
            return Measurement(None, "the baseline has no data yet"), None
        context = Context(self.monitor, self.model, reference, self.first_data, self.store)
        measurement = self.kind.measure(context, window)
        if self.kind.cacheable:  # the next windows' learned thresholds learn from it
            self.cache.values.put(self._value_key(window, reference_key), measurement.value)
        threshold = self.monitor.effective_threshold()
        if not isinstance(threshold, LearnedThreshold):
            return measurement, static_bounds(threshold)
        bounds_key = self._bounds_key(starts, reference_key)
        if self.kind.cacheable:
            found, bounds = self.cache.bounds.get(bounds_key)
            if found:
                return measurement, bounds
        values = [
            value
            for base in self.load(starts)
            if base.rolled is None
            and (value := self._value(context, base, reference_key)) is not None
        ]
        bounds = learned_bounds(threshold, values)
        if self.kind.cacheable:
            self.cache.bounds.put(bounds_key, bounds)
        return measurement, bounds

    def prepare(self, starts: list[dt.datetime]) -> list[ReadWindow]:
        """Load the windows at `starts` and the baseline windows whose profiles are still to be
        read (the read phase: measuring then needs no database transaction)."""
        baseline = self.monitor.effective_baseline()
        threshold = self.monitor.effective_threshold()
        bases = {s: tuple(baseline_starts(baseline, s, self.monitor.grid)) for s in starts}
        self.load(sorted({b for s in starts for b in (s, *bases[s])}), profiles=False)
        wanted = set(starts)
        windows_baseline = not isinstance(baseline, ProfileBaseline | RegistryBaseline)
        for base in bases.values():
            reference: Hashable = None
            if self.kind.needs_reference and windows_baseline:
                reference = self._windows_key(base)
                if reference not in self.cache.references:
                    wanted.update(self._unread(base))
            if isinstance(threshold, LearnedThreshold) and windows_baseline:
                if self.kind.cacheable and self._bounds_key(base, reference) in self.cache.bounds:
                    continue
                wanted.update(
                    b
                    for b in base
                    if not self.kind.cacheable
                    or self._value_key(self.windows[b], reference) not in self.cache.values
                )
        self.load(sorted(wanted))
        return [self.windows[s] for s in starts]

    def measure_safely(self, window: ReadWindow) -> tuple[Measurement, Bounds | None]:
        # A fixed baseline's side of the drift statistics is kept between ticks; a trailing or
        # seasonal baseline is another profile for every window, and nothing would be reused.
        fixed = isinstance(
            self.monitor.effective_baseline(), ProfileBaseline | RegistryBaseline | PeriodBaseline
        )
        try:
            with self.cache.drift.active() if fixed else nullcontext():
                return self.measure(window)
        except VigilError as exc:
            return Measurement(None, f"error: {exc.message}"), None

    def release(self) -> None:
        """Forget the windows this run read (their decoded profiles leave the tick's reader)."""
        self.reader.forget(p for w in self.windows.values() for p in w.parts)
        self.windows.clear()
        self.references.clear()
        self.values.clear()
