"""No data: a window that closed with no rows at all."""

from __future__ import annotations

from vigil.monitor.kinds.base import Context, Measurement, MonitorKind
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.windows import Window


class NoData(MonitorKind):
    name = "no_data"
    cacheable = True
    description = "Breaches when a window closes with no rows (once the model has logged data)."
    needs_profile = False
    degrades_model = False
    default_threshold = StaticThreshold(lower=1.0)

    def measure(self, context: Context, window: Window) -> Measurement:
        if context.first_data is None or window.end <= context.first_data:
            return Measurement(None, "the model had not logged any data yet")
        message = "no data arrived" if window.n_rows == 0 else f"{window.n_rows} rows"
        return Measurement(float(window.n_rows), message)
