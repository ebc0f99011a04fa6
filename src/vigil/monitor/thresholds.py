"""Thresholds: fixed bounds, or bounds learned from the baseline's variation window to window."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vigil.monitor.specs import LearnedThreshold, StaticThreshold


@dataclass(frozen=True)
class Bounds:
    """The monitor breaches when its value is above `upper` or below `lower`."""

    lower: float | None
    upper: float | None

    def breached(self, value: float) -> bool:
        return (self.upper is not None and value > self.upper) or (
            self.lower is not None and value < self.lower
        )


def static_bounds(threshold: StaticThreshold) -> Bounds:
    return Bounds(threshold.lower, threshold.upper)


def learned_bounds(threshold: LearnedThreshold, values: Sequence[float]) -> Bounds | None:
    """mean +/- k * std (ddof=1) of the statistic over the baseline windows; None when fewer
    than `min_windows` baseline windows had a value."""
    finite = np.array([v for v in values if math.isfinite(v)], dtype=float)
    if finite.size < threshold.min_windows:
        return None
    mean = float(finite.mean())
    spread = threshold.k * float(finite.std(ddof=1))
    lower = mean - spread if threshold.direction in ("below", "both") else None
    upper = mean + spread if threshold.direction in ("above", "both") else None
    return Bounds(lower, upper)
