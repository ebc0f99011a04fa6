"""Retraining cadence, computed: which windows drifted, when a version's drift began, and the
advice "retrain every M days" (M = max(1, floor(0.8 * N)), N the median days to drift).
Pure: the store-reading side is `vigil.lifecycle.cadence`."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

DAY = dt.timedelta(days=1)
MARGIN = 0.8
"""M = floor(MARGIN * N): retrain a fifth of the typical drift delay ahead of it."""
DEFAULT_METHOD = "psi"
DEFAULT_THRESHOLD = 0.2
"""PSI above 0.2, the usual "significant shift" rule: over months of windows a test's false
alarms add up, and its p-values shrink as windows grow, while a distance's threshold does not
depend on the window's size."""


@dataclass(frozen=True)
class WindowDrift:
    start: dt.datetime
    version: int
    n_rows: int
    drifted: bool
    share_drifted: float
    drifted_columns: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "version": self.version,
            "n_rows": self.n_rows,
            "drifted": self.drifted,
            "share_drifted": self.share_drifted,
            "drifted_columns": list(self.drifted_columns),
        }


@dataclass(frozen=True)
class VersionDrift:
    version: int
    trained_at: dt.datetime
    trained_from: str
    """`run_end` (the training run's end) or `version_created`."""
    windows: int
    drifted_windows: int
    drift_began: dt.datetime | None
    days_to_drift: float | None
    days_watched: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_at": self.trained_at.isoformat(),
            "trained_from": self.trained_from,
            "windows": self.windows,
            "drifted_windows": self.drifted_windows,
            "drift_began": self.drift_began.isoformat() if self.drift_began else None,
            "days_to_drift": self.days_to_drift,
            "days_watched": self.days_watched,
        }


@dataclass(frozen=True)
class RetrainingCadence:
    """The drift history of a model and the retraining advice it leads to."""

    model: str
    registered_model: str
    window_seconds: int
    """The windows' length; 0 for calendar windows (months, zoned days), whose lengths vary."""
    persistence: int
    windows: int
    drifted_windows: int
    versions: tuple[VersionDrift, ...]
    median_days_to_drift: float | None
    retrain_every_days: int | None
    advice: str
    skipped: tuple[str, ...] = ()
    history: tuple[WindowDrift, ...] = field(default=(), repr=False)
    window: str = "day"
    """The grid of the windows judged (`vigil.windows.Grid` string)."""

    @property
    def drift_share(self) -> float | None:
        return self.drifted_windows / self.windows if self.windows else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "registered_model": self.registered_model,
            "window_seconds": self.window_seconds,
            "window": self.window,
            "persistence": self.persistence,
            "windows": self.windows,
            "drifted_windows": self.drifted_windows,
            "drift_share": self.drift_share,
            "versions": [v.to_dict() for v in self.versions],
            "median_days_to_drift": self.median_days_to_drift,
            "retrain_every_days": self.retrain_every_days,
            "advice": self.advice,
            "skipped": list(self.skipped),
            "history": [w.to_dict() for w in self.history],
        }


def retrain_every(median_days: float) -> int:
    """The documented rule: M = max(1, floor(0.8 * N))."""
    return max(1, math.floor(MARGIN * median_days))


def onset(drifts: list[WindowDrift], persistence: int) -> dt.datetime | None:
    """The start of the first run of `persistence` drifted windows in a row (None: no onset)."""
    run = 0
    for i, window in enumerate(drifts):
        run = run + 1 if window.drifted else 0
        if run >= persistence:
            return drifts[i - persistence + 1].start
    return None


def advice(
    history: list[WindowDrift],
    versions: list[VersionDrift],
    median: float | None,
    every: int | None,
) -> str:
    """The advice sentence of a cadence: the rule's M, or why there is none yet."""
    if not history:
        return (
            "no window could be compared with a training reference yet: log production data "
            "and register versions with their training profile"
        )
    share = sum(w.drifted for w in history) / len(history)
    if median is None or every is None:
        longest = max(v.days_watched for v in versions)
        return (
            f"no lasting drift in {len(history)} windows ({share:.0%} drifted), up to "
            f"{longest:.0f} days after training: no retraining cadence is needed yet"
        )
    drifted = sum(1 for v in versions if v.days_to_drift is not None)
    return (
        f"drift appears about {median:.0f} days after training (median of {drifted} "
        f"version{'s' if drifted != 1 else ''}; {share:.0%} of {len(history)} windows drifted); "
        f"retrain every {every} days"
    )
