"""Frequency: how many uploads (log calls) arrived in the window, against earlier weeks.

A service that logs every minute and suddenly logs every hour keeps its volume but not its
frequency; a retry storm multiplies it.
"""

from __future__ import annotations

from vigil.monitor.kinds.base import Context, Measurement, MonitorKind
from vigil.monitor.specs import LearnedThreshold, SeasonalBaseline
from vigil.monitor.windows import Window


class Frequency(MonitorKind):
    name = "frequency"
    cacheable = True
    description = "Uploads per window; changes against the baseline's windows."
    needs_profile = False
    degrades_model = False
    default_threshold = LearnedThreshold(k=3.0, direction="both")
    default_baseline = SeasonalBaseline(weeks=4)

    def measure(self, context: Context, window: Window) -> Measurement:
        return Measurement(float(window.n_uploads), f"{window.n_uploads} uploads")
