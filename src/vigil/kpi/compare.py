"""Two model versions' KPI over the same period: difference and relative change of the means,
and Welch's t-test (unequal variances) on the values logged for each version (from each side's
count, mean and variance, aggregated by the database).

Each logged value is one observation (e.g. one order's revenue, one session's conversion);
log per-request values, not pre-aggregated ones, for the test to mean what it says.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import stdtr
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError
from vigil.kpi.series import Moments, moments
from vigil.report.notebook import NotebookResult, Tone


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


def _sample(version: str, found: Moments | None) -> KpiSample:
    if found is None:
        return KpiSample(version=version, count=0, mean=None, std=None, sum=0.0)
    std = math.sqrt(found.variance) if found.variance is not None else None
    return KpiSample(version=version, count=found.count, mean=found.mean, std=std, sum=found.sum)


def compare(
    session: Session,
    name: str,
    model: str,
    a: str,
    b: str,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> KpiComparison:
    """KPI `name` of `model`'s version `b` against version `a`, over [start, end)."""
    if a == b:
        raise InvalidInputError(f"compare two different versions; both are {a!r}")
    if start is not None and end is not None and end <= start:
        raise InvalidInputError(
            f"end ({end.isoformat()}) must be after start ({start.isoformat()})"
        )
    found = moments(session, name, model, versions=[a, b], start=start, end=end)
    ma, mb = found.get((a, None)), found.get((b, None))
    sa, sb = _sample(a, ma), _sample(b, mb)
    difference = relative = None
    if sa.mean is not None and sb.mean is not None:
        difference = sb.mean - sa.mean
        relative = difference / abs(sa.mean) if sa.mean else None
    test = None
    if ma is not None and mb is not None and ma.variance is not None and mb.variance is not None:
        test = welch(ma.mean, ma.variance, ma.count, mb.mean, mb.variance, mb.count)
    return KpiComparison(
        name=name,
        model=model,
        start=start,
        end=end,
        a=sa,
        b=sb,
        difference=difference,
        relative_change=relative,
        t_statistic=test.statistic if test else None,
        degrees_of_freedom=test.df if test else None,
        p_value=test.p_value if test else None,
    )
