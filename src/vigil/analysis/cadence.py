"""Retraining cadence, computed: which windows drifted, when a version's drift began, and the
advice "retrain every M days" (M = max(1, floor(0.8 * N)), N the median days to drift); when
there is no advice, the piece of the model's own data that is missing (`MissingPiece`).
Pure: the store-reading side is `vigil.lifecycle.cadence`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DAY = dt.timedelta(days=1)
MARGIN = 0.8
"""M = floor(MARGIN * N): retrain a fifth of the typical drift delay ahead of it."""
DEFAULT_METHOD = "psi"
DEFAULT_THRESHOLD = 0.2
"""PSI above 0.2, the usual "significant shift" rule: over months of windows a test's false
alarms add up, and its p-values shrink as windows grow, while a distance's threshold does not
depend on the window's size."""


class Missing(StrEnum):
    """What a model's data lacks for a cadence, checked in this order."""

    REGISTRY_MODEL = "registry_model"
    """The monitored model names no registry model, and none has its name (or the one it names
    does not exist)."""
    VERSIONS = "versions"
    """The registry model has no versions."""
    TRAINING_PROFILE = "training_profile"
    """No version was registered with its training profile."""
    PRODUCTION_DATA = "production_data"
    """No production rows were logged (in the range asked)."""
    ROWS = "rows"
    """No window has `min_rows` rows."""
    WINDOW_AFTER_REGISTRATION = "window_after_registration"
    """Every window precedes the registration of the first version with a training profile."""
    PROFILED_SERVING_VERSION = "profiled_serving_version"
    """The windows after it were served (`@production`) by versions without a profile."""
    WINDOWS = "windows"
    """Fewer windows were compared than `persistence`, the run that dates a drift onset."""


@dataclass(frozen=True)
class MissingPiece:
    """Why a cadence has no advice: `kind`, and a sentence naming the model, versions and dates."""

    kind: Missing
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "message": self.message}


def when(t: dt.datetime) -> str:
    """A time as the messages print it: the date alone at midnight, else date, time and UTC."""
    t = t.astimezone(dt.UTC)
    return f"{t:%Y-%m-%d}" if t.time() == dt.time(0) else f"{t:%Y-%m-%d %H:%M} UTC"


def _versions_text(numbers: Sequence[int]) -> str:
    listed = ", ".join(str(n) for n in numbers)
    return f"version{'s' if len(numbers) != 1 else ''} {listed}"


def missing_registry_model(model: str, linked: str | None) -> MissingPiece:
    if linked is None:
        message = (
            f"model {model!r} is not linked to a registry model, and the registry has no model "
            f"named {model!r}: link it (create_model(..., registry_model=NAME)) or register its "
            f"versions as {model!r}"
        )
    else:
        message = (
            f"model {model!r} is linked to registry model {linked!r}, which does not exist: "
            f"register its versions as {linked!r} with their training profile"
        )
    return MissingPiece(Missing.REGISTRY_MODEL, message)


def missing_versions(registered: str) -> MissingPiece:
    return MissingPiece(
        Missing.VERSIONS,
        f"registry model {registered!r} has no versions: register the trained versions with "
        "their training profile (profile=...)",
    )


def missing_training_profile(registered: str, numbers: Sequence[int]) -> MissingPiece:
    return MissingPiece(
        Missing.TRAINING_PROFILE,
        f"no registered version of {registered!r} has a training profile "
        f"({_versions_text(numbers)} have none): register versions with profile=<the training "
        "data's profile>",
    )


def missing_production_data(
    model: str, start: dt.datetime | None, end: dt.datetime | None
) -> MissingPiece:
    if start is None and end is None:
        where = ""
    else:
        where = f" in [{when(start) if start else '...'}, {when(end) if end else '...'})"
    return MissingPiece(
        Missing.PRODUCTION_DATA, f"model {model!r} has no logged production rows{where}"
    )


def missing_rows(model: str, min_rows: int, largest: int) -> MissingPiece:
    return MissingPiece(
        Missing.ROWS,
        f"no window of model {model!r} has at least {min_rows} rows (min_rows); the largest has "
        f"{largest}",
    )


def missing_window_after(
    model: str, version: int, registered_at: dt.datetime, first: dt.datetime, last: dt.datetime
) -> MissingPiece:
    return MissingPiece(
        Missing.WINDOW_AFTER_REGISTRATION,
        f"no production window after version {version}'s registration on {when(registered_at)} "
        f"(its first version with a training profile): model {model!r}'s windows run from "
        f"{when(first)} to {when(last)}; log traffic served after it, or register the version "
        "that served these windows",
    )


def missing_profiled_serving(
    model: str, version: int, registered_at: dt.datetime, serving: Sequence[int]
) -> MissingPiece:
    return MissingPiece(
        Missing.PROFILED_SERVING_VERSION,
        f"model {model!r}'s windows after version {version}'s registration on "
        f"{when(registered_at)} were served (@production) by {_versions_text(serving)}, without "
        "a training profile",
    )


def missing_windows(compared: int, persistence: int, since: dt.datetime) -> MissingPiece:
    return MissingPiece(
        Missing.WINDOWS,
        f"only {compared} window{'s' if compared != 1 else ''} since {when(since)} could be "
        f"compared with a training profile, need {persistence} in a row (persistence) to date "
        "a drift onset",
    )


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
    """The advice, or the missing piece's message."""
    missing: MissingPiece | None = None
    """Why there is no advice (None when there is)."""
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
            "missing": self.missing.to_dict() if self.missing else None,
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
    """The advice sentence of a cadence from a non-empty `history`: the rule's M, or that no
    version drifted for long (an empty history has a `MissingPiece` instead)."""
    if not history:
        raise ValueError("advice needs at least one compared window")
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
