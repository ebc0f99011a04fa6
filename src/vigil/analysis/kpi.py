"""Business KPIs as values: a KPI's points per version and window, the moments of a group of
values, and two versions compared with Welch's t-test (unequal variances), from each side's
count, mean and variance.

Pure: `vigil.kpi` reads the values from the store and builds these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import stdtr

from vigil.report.notebook import NotebookResult, Tone, line_chart_svg
from vigil.windows import Grid

__all__ = [
    "KpiComparison",
    "KpiPoint",
    "KpiSample",
    "KpiSeries",
    "Moments",
    "WelchResult",
    "welch",
    "welch_t_test",
]


@dataclass(frozen=True)
class KpiPoint:
    """The values of one version's KPI logged in one window."""

    version: str
    start: dt.datetime
    end: dt.datetime
    count: int
    sum: float
    mean: float
    std: float | None
    """Sample standard deviation (ddof 1); None with one value."""
    min: float
    max: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KpiPoint:
        fields = {**data}
        fields["start"] = dt.datetime.fromisoformat(data["start"])
        fields["end"] = dt.datetime.fromisoformat(data["end"])
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "count": self.count,
            "sum": self.sum,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
        }


@dataclass(frozen=True, repr=False)
class KpiSeries(NotebookResult):
    """A KPI per model version and window. `to_pandas()`: one row per (version, window) with the
    count, sum, mean, standard deviation, min and max of the values logged there."""

    name: str
    model: str
    window: str
    """The grid of the windows (`vigil.windows.Grid` string: "day", "month@Europe/Oslo")."""
    points: tuple[KpiPoint, ...]
    """Ordered by version, then window start; windows with no value are absent."""

    def _columns(self) -> tuple[str, ...]:
        return ("version", "start", "end", "count", "sum", "mean", "std", "min", "max")

    def _rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(p) for p in self.points]

    def _headline(self) -> tuple[str, Tone]:
        return (
            f"{self.name} of {self.model} per {self.window}: {len(self.points)} points, "
            f"versions {', '.join(self.versions) or 'none'}",
            "neutral",
        )

    def _chart_html(self) -> str:
        starts = sorted({p.start for p in self.points})
        means = {(p.version, p.start): p.mean for p in self.points}
        series = {
            f"version {v}": [means.get((v, start)) for start in starts] for v in self.versions
        }
        return line_chart_svg(starts, series, y_label=f"mean {self.name}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KpiSeries:
        points = tuple(KpiPoint.from_dict(p) for p in data["points"])
        return cls(data["name"], data["model"], Grid.parse(data["window"]).to_str(), points)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(sorted({p.version for p in self.points}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "window": self.window,
            "points": [p.to_dict() for p in self.points],
        }


@dataclass(frozen=True)
class Moments:
    """count, sum, mean, sample variance, min and max of a group of values."""

    count: int
    sum: float
    mean: float
    variance: float | None
    min: float
    max: float


@dataclass(frozen=True)
class KpiSample:
    version: str
    count: int
    mean: float | None
    std: float | None
    sum: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "count": self.count,
            "mean": self.mean,
            "std": self.std,
            "sum": self.sum,
        }


@dataclass(frozen=True)
class WelchResult:
    statistic: float
    df: float
    p_value: float


@dataclass(frozen=True, repr=False)
class KpiComparison(NotebookResult):
    """Version `b` against version `a`: `difference` = mean(b) - mean(a). `to_pandas()`: one
    row per version (count, mean, std, sum), each with the comparison's difference and p-value."""

    name: str
    model: str
    start: dt.datetime | None
    end: dt.datetime | None
    a: KpiSample
    b: KpiSample
    difference: float | None
    relative_change: float | None
    """`difference` / |mean(a)|; None when mean(a) is 0 or a side has no value."""
    t_statistic: float | None
    degrees_of_freedom: float | None
    p_value: float | None
    """Two-sided; None with fewer than 2 values on a side, or no variance on either."""

    def _columns(self) -> tuple[str, ...]:
        return ("version", "count", "mean", "std", "sum", "difference", "p_value")

    def _rows(self) -> list[dict[str, Any]]:
        both = {"difference": self.difference, "p_value": self.p_value}
        return [{**self.a.to_dict(), **both}, {**self.b.to_dict(), **both}]

    def _headline(self) -> tuple[str, Tone]:
        if self.difference is None:
            return f"{self.name}: version {self.b.version} against {self.a.version}", "neutral"
        p = "no p-value" if self.p_value is None else f"p = {self.p_value:.3g}"
        return (
            f"{self.name}: version {self.b.version} against {self.a.version}, "
            f"difference {self.difference:+.4g} ({p})",
            "neutral",
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KpiComparison:
        def when(value: str | None) -> dt.datetime | None:
            return dt.datetime.fromisoformat(value) if value else None

        return cls(
            name=data["name"],
            model=data["model"],
            start=when(data["start"]),
            end=when(data["end"]),
            a=KpiSample(**data["a"]),
            b=KpiSample(**data["b"]),
            difference=data["difference"],
            relative_change=data["relative_change"],
            t_statistic=data["t_statistic"],
            degrees_of_freedom=data["degrees_of_freedom"],
            p_value=data["p_value"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "difference": self.difference,
            "relative_change": self.relative_change,
            "t_statistic": self.t_statistic,
            "degrees_of_freedom": self.degrees_of_freedom,
            "p_value": self.p_value,
        }


def welch(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int
) -> WelchResult | None:
    """Welch's t-test of mean_b - mean_a (two-sided) from each side's mean, sample variance and
    count, with the Welch-Satterthwaite degrees of freedom; None with fewer than 2 values on a
    side or zero variance on both."""
    if n_a < 2 or n_b < 2:
        return None
    va, vb = var_a / n_a, var_b / n_b
    se2 = va + vb
    if se2 <= 0.0:
        return None
    statistic = (mean_b - mean_a) / math.sqrt(se2)
    df = se2**2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    p_value = float(2.0 * stdtr(df, -abs(statistic)))  # Student's t CDF; scipy.stats costs 2 s
    return WelchResult(statistic, float(df), min(p_value, 1.0))


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> WelchResult | None:
    """`welch` on two samples of values."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size < 2 or y.size < 2:
        return None
    return welch(
        float(x.mean()), float(x.var(ddof=1)), x.size, float(y.mean()), float(y.var(ddof=1)), y.size
    )
