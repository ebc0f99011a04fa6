"""KPI change: a business KPI of the monitored model aggregated over the window (mean, sum or
count of its logged values), or its relative change from the previous window.

By default the bounds are learned from the 7 previous windows (mean +/- 3 std); a static
threshold gives fixed bounds.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError
from vigil.kpi.series import moments
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import LearnedThreshold, TrailingBaseline
from vigil.monitor.targets import alias_version
from vigil.monitor.windows import Window


class KpiOptions(KindOptions):
    kpi: str = Field(min_length=1, max_length=200)
    """The KPI's name (as logged with `client.log_kpi(name, value, model=...)`)."""
    aggregate: Literal["mean", "sum", "count"] = "mean"
    """Of the window's values; `sum` and `count` are 0 in a window with none."""
    compare: Literal["value", "previous"] = "value"
    """`previous`: the relative change from the previous window's aggregate."""


class KpiChange(MonitorKind):
    name = "kpi_change"
    description = (
        "A business KPI per window (mean, sum or count), or its change from the window before."
    )
    options_model = KpiOptions
    needs_profile = False
    default_threshold = LearnedThreshold(k=3.0, direction="both")
    onset = True
    default_baseline = TrailingBaseline(windows=7)

    def measure(self, context: Context, window: Window) -> Measurement:
        options: KpiOptions = self.options(context.monitor)
        if context.store is None:
            raise InvalidInputError("a 'kpi_change' monitor needs the store to read KPIs")
        target = context.monitor.target
        with context.store.read_session() as session:
            versions: list[str] | None = None
            if target.version is not None:
                versions = [target.version]
            elif target.alias is not None:
                number = alias_version(session, target, context.model)
                versions = [str(number), f"v{number}"]
            current = self._aggregate(session, context, options, versions, window.start, window.end)
            if options.compare == "value":
                if current is None:
                    return Measurement(None, f"no {options.kpi} value in this window")
                return Measurement(
                    current,
                    f"{options.aggregate} of {options.kpi}: {current:g}",
                    {"kpi": options.kpi},
                )
            step = window.end - window.start
            before = self._aggregate(
                session, context, options, versions, window.start - step, window.start
            )
        if current is None or before is None or before == 0:
            return Measurement(None, f"no {options.kpi} value to compare with the window before")
        change = (current - before) / abs(before)
        return Measurement(
            change,
            f"{options.aggregate} of {options.kpi}: {current:g}, {change:+.1%} from {before:g}",
            {"kpi": options.kpi, "current": current, "previous": before},
        )

    @staticmethod
    def _aggregate(
        session: Session,
        context: Context,
        options: KpiOptions,
        versions: list[str] | None,
        start: dt.datetime,
        end: dt.datetime,
    ) -> float | None:

        found = moments(
            session, options.kpi, context.model.name, versions=versions, start=start, end=end
        ).values()
        count = sum(m.count for m in found)
        total = sum(m.sum for m in found)
        if options.aggregate == "count":
            return float(count)
        if options.aggregate == "sum":
            return total
        return total / count if count else None
