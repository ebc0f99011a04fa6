"""Business KPIs per model version: series aggregated per window, and two versions compared
over the same period (difference, relative change, Welch's t-test)."""

from vigil.kpi.compare import KpiComparison, KpiSample, compare, welch_t_test
from vigil.kpi.series import KpiPoint, KpiSeries, series

__all__ = [
    "KpiComparison",
    "KpiPoint",
    "KpiSample",
    "KpiSeries",
    "compare",
    "series",
    "welch_t_test",
]
