"""What every drift method is: a descriptor plus pure functions, one per input it can read.

A method reads one of three inputs:

- numeric columns from profiles: two `NumericColumn` (moments exact, quantiles from KLL sketches);
- numeric columns from raw data: two sorted float64 arrays of the finite values (the exact path);
- category counts (categorical and boolean columns): two `Counts`, exact or from a frequent-items
  sketch (for counts the profile path and the exact path are the same function).

Adding a method is one module that builds a `DriftMethod` and one line in `registry.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind

StatisticType = Literal["p_value", "distance"]
"""`p_value`: the method is a test; a column drifts when its (corrected) p-value is below the
threshold. `distance`: a column drifts when the statistic reaches the threshold."""

DRIFT_KINDS = frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN})


@dataclass(frozen=True, slots=True)
class Counts:
    """Counts per category of one column. `other` is the mass not itemised (a sketch keeps only
    its frequent items); `epsilon` bounds each count's error as a share of `total` (0 when exact).
    """

    items: Mapping[str, float]
    total: float
    other: float = 0.0
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))

    @property
    def is_exact(self) -> bool:
        return self.epsilon == 0.0

    @classmethod
    def of(cls, items: Mapping[str, float]) -> Counts:
        return cls(items, float(sum(items.values())))


@dataclass(frozen=True, slots=True)
class MethodResult:
    """A method's statistic, its p-value (tests only) and, on the profile path, a bound on the
    distance to the exact statistic when one is known (99% confidence of the sketches)."""

    statistic: float
    p_value: float | None = None
    error_bound: float | None = None


NumericProfileFn = Callable[[NumericColumn, NumericColumn], MethodResult]
NumericExactFn = Callable[[FloatArray, FloatArray], MethodResult]
CountsFn = Callable[[Counts, Counts], MethodResult]


@dataclass(frozen=True)
class DriftMethod:
    """The descriptor of a drift method.

    `tolerance` is the documented agreement between the profile path and the exact path on the
    statistic (absolute), checked by the contract tests; where `error_bound` is given by the
    method for a pair of profiles, it is a proven bound and usually far looser.
    """

    name: str
    title: str
    statistic_type: StatisticType
    default_threshold: float
    kinds: frozenset[ColumnKind]
    tolerance: float
    description: str
    numeric_profile: NumericProfileFn | None = None
    numeric_exact: NumericExactFn | None = None
    counts: CountsFn | None = None
    aliases: tuple[str, ...] = field(default=())
    n_scaled: bool = False
    """The statistic is n m / (n + m) times a distance (Cramer-von Mises): its tolerance applies
    to that distance, i.e. to statistic / (n m / (n + m))."""

    def __post_init__(self) -> None:
        if not self.kinds <= DRIFT_KINDS or not self.kinds:
            raise ValueError(
                f"method {self.name}: kinds must be a non-empty subset of {DRIFT_KINDS}"
            )
        if ColumnKind.NUMERIC in self.kinds and self.numeric_exact is None:
            raise ValueError(f"method {self.name} accepts numeric columns but has no exact path")
        if self.kinds - {ColumnKind.NUMERIC} and self.counts is None:
            raise ValueError(f"method {self.name} accepts category counts but has no function")

    @property
    def needs_raw_data(self) -> bool:
        """True when some accepted kind can only be computed from raw data."""
        return ColumnKind.NUMERIC in self.kinds and self.numeric_profile is None

    @property
    def is_test(self) -> bool:
        return self.statistic_type == "p_value"

    def agrees(self, profile: float, exact: float, n: int, m: int) -> bool:
        """Whether a profile-path statistic is within the documented tolerance of the exact one:
        |profile - exact| <= tolerance * max(1, |exact|), on the per-pair distance when
        `n_scaled`."""
        if self.n_scaled:
            scale = n * m / (n + m)
            return abs(profile - exact) / scale <= self.tolerance
        return abs(profile - exact) <= self.tolerance * max(1.0, abs(exact))

    def accepts(self, kind: ColumnKind) -> bool:
        return kind in self.kinds

    def exceeds(self, value: float, threshold: float) -> bool:
        """Whether a (corrected) p-value or a distance says drift at `threshold`."""
        if math.isnan(value):
            return False
        return value < threshold if self.is_test else value >= threshold


# ------------------------------------------------------------------------------ shared helpers


def smoothed(p: FloatArray, eps: float = 1e-4) -> FloatArray:
    """Shares with empty bins lifted to `eps` and renormalised (for PSI and KL, which are
    infinite on an empty bin)."""
    lifted = np.maximum(p, eps)
    result: FloatArray = lifted / lifted.sum()
    return result


def split_points(values: FloatArray) -> list[float]:
    """Finite, strictly increasing split points for a KLL CDF/PMF query. Numeric sketches hold
    float32, so points are rounded to float32 first (distinct float64 values may collide)."""
    finite = values[np.isfinite(values)]
    return [float(v) for v in np.unique(finite.astype(np.float32))]


def normalise(p: FloatArray) -> FloatArray:
    total = float(p.sum())
    if total <= 0:
        return np.full(p.shape, 1.0 / max(p.size, 1))
    result: FloatArray = p / total
    return result
