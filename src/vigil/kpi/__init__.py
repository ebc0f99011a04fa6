"""Business KPIs per model version, read from the store: series aggregated per window of any
grid, and two versions compared over the same period (difference, relative change, Welch's
t-test). The values and the statistics are in `vigil.analysis.kpi`."""

from vigil.analysis.kpi import KpiComparison, KpiPoint, KpiSample, KpiSeries, welch_t_test
from vigil.kpi.compare import compare
from vigil.kpi.series import series

__all__ = [
    "KpiComparison",
    "KpiPoint",
    "KpiSample",
    "KpiSeries",
    "compare",
    "series",
    "welch_t_test",
]
