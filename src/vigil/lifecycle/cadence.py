"""Retraining cadence: how often production data drifted from the training reference in past
windows, how long after training the drift began, and the resulting advice.

For each window (a day by default) of a monitored model, the serving version is the one the
registry's `@production` alias pointed at in the middle of the window (else the latest version
registered before then); its training profile (stored with the version) is the reference, and
`vigil.drift` on the model's features says whether the window drifted. A version's drift
*begins* at the first window that starts `persistence` consecutive drifted windows (two by
default, so that one odd day is not an onset). Its *days to drift* count from its training:
the end of the run that produced it when the registry knows it and it ended by the version's
creation, else the version's creation.

Without advice, the result names the missing piece of the model's own data (`missing`, a
`MissingPiece`): no registry model, no versions, no training profile, no production rows, no
window with `min_rows`, no window after the first profiled version's registration, windows
served by versions without a profile, or fewer compared windows than `persistence`.

The advice rule (documented in docs/collaboration.md): with N the median days to drift over
the versions whose drift began, retrain every M = max(1, floor(0.8 * N)) days, a fifth ahead of
the typical onset. Versions that never drifted are reported with the days they were watched.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import func, select

from vigil.analysis.cadence import (
    DAY,
    DEFAULT_METHOD,
    DEFAULT_THRESHOLD,
    MARGIN,
    Missing,
    MissingPiece,
    RetrainingCadence,
    VersionDrift,
    WindowDrift,
    advice,
    missing_production_data,
    missing_profiled_serving,
    missing_registry_model,
    missing_rows,
    missing_training_profile,
    missing_versions,
    missing_window_after,
    missing_windows,
    onset,
    retrain_every,
    when,
)
from vigil.analysis.drift import drift
from vigil.errors import InvalidInputError, NotFoundError
from vigil.monitor.windows import load_windows, monitor_grid
from vigil.profile import DatasetProfile
from vigil.registry import Registry
from vigil.store.core import Store
from vigil.store.models import ProfileWindow
from vigil.store.repositories import ModelRepository
from vigil.tracking.service import TrackingService
from vigil.windows import Grid, GridLike


@dataclass(frozen=True)
class _Version:
    number: int
    created_at: dt.datetime
    trained_at: dt.datetime
    trained_from: str
    profile: DatasetProfile | None


def _versions(store: Store, registered: str) -> list[_Version] | None:
    """The registered versions, oldest first (None: no registry model of that name)."""
    registry = Registry(store, actor="vigil")
    tracking = TrackingService(store)
    try:
        listed = registry.list_versions(registered)
    except NotFoundError:
        return None
    found = []
    for info in listed:
        trained_at, trained_from = info.created_at, "version_created"
        if info.run_id is not None:
            try:
                run = tracking.get_run_info(info.run_id)
            except NotFoundError:
                run = None
            # Training ended by the version's creation at the latest: a run that ends later
            # (registered inside it, or replayed into a past registry) does not date it.
            if run is not None and run.end_time is not None and run.end_time <= info.created_at:
                trained_at, trained_from = run.end_time, "run_end"
        profile = registry.training_profile(registered, info.version) if info.has_profile else None
        found.append(_Version(info.version, info.created_at, trained_at, trained_from, profile))
    return found


_ALIAS_KINDS = ("alias_set", "alias_moved", "alias_deleted")


def _production_history(store: Store, registered: str) -> list[tuple[dt.datetime, int | None]]:
    """When `production` changed and what it pointed at then (None: deleted), oldest first, read
    once for every window (`Registry.alias_at` per window would query each time)."""
    events = Registry(store, actor="vigil").events(registered, alias="production")
    return [
        (e.at, None if e.kind == "alias_deleted" else e.to_version)
        for e in events
        if e.kind in _ALIAS_KINDS
    ]


def _serving(
    history: list[tuple[dt.datetime, int | None]], versions: list[_Version], at: dt.datetime
) -> _Version | None:
    """The version serving at `at`: `production`'s holder then (as `Registry.alias_at` reads
    it: the last change at or before `at`), else the newest version registered by then."""
    by_number = {v.number: v for v in versions}
    changed = bisect.bisect_right([when for when, _ in history], at)
    held = history[changed - 1][1] if changed else None
    if held is not None and held in by_number:
        return by_number[held]
    earlier = [v for v in versions if v.created_at <= at]
    return earlier[-1] if earlier else None


def retraining_cadence(
    store: Store,
    model: str,
    *,
    window_seconds: int = 86_400,
    window: GridLike | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    persistence: int = 2,
    min_rows: int = 1,
    method: str = DEFAULT_METHOD,
    threshold: float | None = DEFAULT_THRESHOLD,
) -> RetrainingCadence:
    """The retraining cadence of monitored model `model` over its stored windows in
    [start, end) (all by default); a window drifted when `vigil.drift` with `method` and
    `threshold` says so (PSI above 0.2 on half the features, by default). The windows are
    `window` (any grid: "day", "week", "month", ...), else `window_seconds` as a monitor reads
    it (604800 is its week, from Monday)."""
    if window is None and window_seconds < 60:
        raise InvalidInputError(f"window_seconds must be at least 60, got {window_seconds}")
    cut = Grid.of(window) if window is not None else monitor_grid(window_seconds)
    if persistence < 1:
        raise InvalidInputError(f"persistence must be at least 1 window, got {persistence}")
    with store.read_session() as session:
        monitored = ModelRepository(session).get(model)
        linked = monitored.registry_model
        registered = linked or monitored.name
        features = list(monitored.features)
        model_id = monitored.id
        bounds = session.execute(
            select(func.min(ProfileWindow.start), func.max(ProfileWindow.start)).where(
                ProfileWindow.model_id == model_id, ProfileWindow.segment == ""
            )
        ).one()
        session.rollback()
    first, last = bounds

    def result(
        missing: MissingPiece | None = None,
        history: list[WindowDrift] | None = None,
        per_version: list[VersionDrift] | None = None,
        skipped: list[str] | None = None,
    ) -> RetrainingCadence:
        history, per_version = history or [], per_version or []
        delays = [v.days_to_drift for v in per_version if v.days_to_drift is not None]
        median = statistics.median(delays) if delays and missing is None else None
        every = retrain_every(median) if median is not None else None
        return RetrainingCadence(
            model=model,
            registered_model=registered,
            window_seconds=cut.seconds or 0,
            persistence=persistence,
            windows=len(history),
            drifted_windows=sum(w.drifted for w in history),
            versions=tuple(per_version),
            median_days_to_drift=median,
            retrain_every_days=every,
            advice=missing.message if missing else advice(history, per_version, median, every),
            missing=missing,
            window=cut.to_str(),
            skipped=tuple(skipped or ()),
            history=tuple(history),
        )

    versions = _versions(store, registered)
    if versions is None:
        return result(missing_registry_model(model, linked))
    if not versions:
        return result(missing_versions(registered))
    profiled = [v for v in versions if v.profile is not None]
    if not profiled:
        return result(missing_training_profile(registered, [v.number for v in versions]))
    skipped = [f"version {v.number} has no training profile" for v in versions if v.profile is None]
    starts: list[dt.datetime] = []
    if first is not None:
        lo = max(first, start) if start is not None else first
        after_last = cut.next(last)
        hi = min(after_last, end) if end is not None else after_last
        starts = cut.starts(lo, hi) if lo < hi else []
    with store.read_session() as session:
        windows = load_windows(session, model_id, None, starts, cut)
        session.rollback()
    production = _production_history(store, registered)
    history: list[WindowDrift] = []
    logged: list[dt.datetime] = []  # windows with rows
    eligible: list[dt.datetime] = []  # ... and at least min_rows of them
    before: list[dt.datetime] = []  # eligible, before the first profiled version's registration
    unprofiled: dict[int, int] = {}  # serving version without a profile -> its windows
    for window_start in starts:
        stored = windows[window_start]
        if stored.n_rows > 0:
            logged.append(window_start)
        if stored.n_rows < max(min_rows, 1):
            continue
        eligible.append(window_start)
        middle = window_start + (stored.end - window_start) / 2
        early = middle < profiled[0].created_at
        if early:
            before.append(window_start)
        serving = _serving(production, versions, middle)
        if serving is None:
            continue
        if serving.profile is None:
            if not early:
                unprofiled[serving.number] = unprofiled.get(serving.number, 0) + 1
            continue
        columns = [c for c in features if c in serving.profile.columns] or None
        report = drift(
            serving.profile, stored.profile, columns=columns, method=method, threshold=threshold
        )
        history.append(
            WindowDrift(
                start=window_start,
                version=serving.number,
                n_rows=stored.n_rows,
                drifted=report.dataset_drift,
                share_drifted=report.share_drifted,
                drifted_columns=tuple(report.drifted_columns),
            )
        )
    if before and history:
        skipped.append(
            f"{len(before)} window{'s' if len(before) != 1 else ''} from {when(before[0])} to "
            f"{when(before[-1])} precede version {profiled[0].number}'s registration on "
            f"{when(profiled[0].created_at)}, the first with a training profile"
        )
    if not logged:
        return result(missing_production_data(model, start, end), skipped=skipped)
    if not eligible:
        largest = max(windows[s].n_rows for s in logged)
        return result(missing_rows(model, min_rows, largest), skipped=skipped)
    if not history:
        first_profiled = profiled[0]
        if len(before) == len(eligible):
            missing = missing_window_after(
                model, first_profiled.number, first_profiled.created_at, eligible[0], eligible[-1]
            )
        else:
            missing = missing_profiled_serving(
                model, first_profiled.number, first_profiled.created_at, sorted(unprofiled)
            )
        return result(missing, skipped=skipped)
    per_version = []
    for version in versions:
        mine = [w for w in history if w.version == version.number]
        if not mine:
            continue
        began = onset(mine, persistence)
        per_version.append(
            VersionDrift(
                version=version.number,
                trained_at=version.trained_at,
                trained_from=version.trained_from,
                windows=len(mine),
                drifted_windows=sum(w.drifted for w in mine),
                drift_began=began,
                days_to_drift=None if began is None else (began - version.trained_at) / DAY,
                days_watched=(cut.next(mine[-1].start) - version.trained_at) / DAY,
            )
        )
    few = len(history) < persistence
    short = missing_windows(len(history), persistence, history[0].start) if few else None
    return result(short, history, per_version, skipped)


__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_THRESHOLD",
    "MARGIN",
    "Missing",
    "MissingPiece",
    "RetrainingCadence",
    "VersionDrift",
    "WindowDrift",
    "retrain_every",
    "retraining_cadence",
]
