"""Prediction drift: the share of the model's prediction and score columns that drifted."""

from __future__ import annotations

from vigil.monitor.kinds.base import DRIFT_GAUGES, Context, Measurement, MonitorKind
from vigil.monitor.kinds.data_drift import DriftOptions, drift_measurement
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.windows import Window


class PredictionDrift(MonitorKind):
    name = "prediction_drift"
    cacheable = True
    description = "Share of prediction and score columns whose distribution drifted."
    options_model = DriftOptions
    needs_reference = True
    default_threshold = StaticThreshold(upper=0.0)
    onset = True
    gauges = DRIFT_GAUGES

    def measure(self, context: Context, window: Window) -> Measurement:
        options: DriftOptions = self.options(context.monitor)
        columns = options.columns or (*context.model.predictions, *context.model.scores)
        return drift_measurement(context, window, columns, options, predictions=True)
