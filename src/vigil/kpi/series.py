"""A KPI's values per model version, aggregated per window (hour, day or week, on the monitors'
grid): count, sum, mean, standard deviation, min and max of the values logged in each window.

The database aggregates (GROUP BY version and window), so a series of millions of values moves a
row per version and window. Sums are taken of the values minus their overall mean, so the
variance does not lose its digits to large values with small spread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import BigInteger, Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError
from vigil.monitor.definitions import WINDOW_SECONDS
from vigil.monitor.windows import ORIGIN
from vigil.report.notebook import NotebookResult, Tone, line_chart_svg
from vigil.store.models import Kpi
from vigil.store.repositories import ModelRepository

WindowName = Literal["hour", "day", "week"]
WINDOWS: tuple[str, ...] = ("hour", "day", "week")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
WEEK_OFFSET_SECONDS = int((ORIGIN - _EPOCH).total_seconds())
"""Weeks start on Monday (1970-01-05), as the monitors' windows."""


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
    window: WindowName
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
        return cls(data["name"], data["model"], check_window(data["window"]), points)

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


def check_window(window: str) -> WindowName:
    if window not in WINDOWS:
        raise InvalidInputError(
            f"window must be one of {list(WINDOWS)}, got {window!r}", window=window
        )
    return window  # type: ignore[return-value]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _filtered(
    query: Any,
    name: str,
    model_id: int,
    versions: Sequence[str] | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> Any:
    query = query.where(Kpi.name == name, Kpi.model_id == model_id)
    if versions is not None:
        query = query.where(Kpi.version.in_(list(versions)))
    start, end = _utc(start), _utc(end)
    if start is not None:
        query = query.where(Kpi.timestamp >= start)
    if end is not None:
        query = query.where(Kpi.timestamp < end)
    return query


@dataclass(frozen=True)
class Moments:
    """count, sum, mean, sample variance, min and max of a group of values."""

    count: int
    sum: float
    mean: float
    variance: float | None
    min: float
    max: float


def _epoch_seconds(session: Session) -> Any:
    """Seconds since 1970 of the (naive UTC) timestamp column, in the database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Kpi.timestamp)), BigInteger)
    return cast(func.strftime("%s", Kpi.timestamp), Integer)


def moments(
    session: Session,
    name: str,
    model: str,
    *,
    versions: Sequence[str] | None = None,
    window: WindowName | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[tuple[str, dt.datetime | None], Moments]:
    """The KPI's moments per version, and per window start when `window` is given."""
    model_id = ModelRepository(session).get(model).id
    shift_query = _filtered(select(func.avg(Kpi.value)), name, model_id, versions, start, end)
    shift = session.scalar(shift_query)
    if shift is None:
        return {}
    shift = float(shift)
    centred = Kpi.value - literal(shift)
    columns: list[Any] = [
        Kpi.version,
        func.count(),
        func.sum(centred),
        func.sum(centred * centred),
        func.min(Kpi.value),
        func.max(Kpi.value),
    ]
    groups: list[Any] = [Kpi.version]
    size = offset = 0
    if window is not None:
        size = WINDOW_SECONDS[window]
        offset = WEEK_OFFSET_SECONDS if window == "week" else 0
        bucket = (_epoch_seconds(session) - offset) // size
        columns.append(bucket)
        groups.append(bucket)
    query = _filtered(select(*columns), name, model_id, versions, start, end)
    out: dict[tuple[str, dt.datetime | None], Moments] = {}
    for row in session.execute(query.group_by(*groups)).all():
        version, n, s1, s2, low, high = row[:6]
        n, s1, s2 = int(n), float(s1), float(s2)
        when = _EPOCH + dt.timedelta(seconds=int(row[6]) * size + offset) if window else None
        variance = max(s2 - s1 * s1 / n, 0.0) / (n - 1) if n > 1 else None
        out[(version, when)] = Moments(
            count=n,
            sum=s1 + shift * n,
            mean=shift + s1 / n,
            variance=variance,
            min=float(low),
            max=float(high),
        )
    return out


def series(
    session: Session,
    name: str,
    model: str,
    *,
    version: str | None = None,
    window: str = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> KpiSeries:
    """The KPI per version (or one `version`) and window in [start, end)."""
    size = check_window(window)
    found = moments(
        session,
        name,
        model,
        versions=None if version is None else [version],
        window=size,
        start=start,
        end=end,
    )
    step = dt.timedelta(seconds=WINDOW_SECONDS[size])
    points = []
    for (v, when), m in sorted(found.items(), key=lambda item: (item[0][0], item[0][1])):
        assert when is not None
        std = math.sqrt(m.variance) if m.variance is not None else None
        points.append(
            KpiPoint(
                version=v,
                start=when,
                end=when + step,
                count=m.count,
                sum=m.sum,
                mean=m.mean,
                std=std,
                min=m.min,
                max=m.max,
            )
        )
    return KpiSeries(name, model, size, tuple(points))
