"""Volume: the window's row count, against the same window in earlier weeks by default."""

from __future__ import annotations

from vigil.monitor.kinds.base import Context, Measurement, MonitorKind
from vigil.monitor.specs import LearnedThreshold, SeasonalBaseline
from vigil.monitor.windows import Window


class Volume(MonitorKind):
    name = "volume"
    cacheable = True
    description = "Row count per window; spikes and drops against the baseline's windows."
    needs_profile = False
    degrades_model = False
    default_threshold = LearnedThreshold(k=3.0, direction="both")
    default_baseline = SeasonalBaseline(weeks=4)

    def measure(self, context: Context, window: Window) -> Measurement:
        return Measurement(float(window.n_rows), f"{window.n_rows} rows")
