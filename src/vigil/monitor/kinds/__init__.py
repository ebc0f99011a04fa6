"""The registry of monitor kinds. A new kind is one module and one registration line below."""

from __future__ import annotations

from vigil.errors import InvalidInputError
from vigil.monitor.kinds.attribution_drift import AttributionDrift
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.kinds.data_drift import DataDrift
from vigil.monitor.kinds.estimated_performance import EstimatedPerformance
from vigil.monitor.kinds.fairness import FairnessKind
from vigil.monitor.kinds.feature_importance_change import FeatureImportanceChange
from vigil.monitor.kinds.frequency import Frequency
from vigil.monitor.kinds.kpi_change import KpiChange
from vigil.monitor.kinds.missing_values import MissingValues
from vigil.monitor.kinds.new_categories import NewCategories
from vigil.monitor.kinds.no_data import NoData
from vigil.monitor.kinds.prediction_drift import PredictionDrift
from vigil.monitor.kinds.realized_performance import RealizedPerformance
from vigil.monitor.kinds.training_data_drift import TrainingDataDrift
from vigil.monitor.kinds.training_quality import TrainingQuality
from vigil.monitor.kinds.validation import ValidationSuite
from vigil.monitor.kinds.volume import Volume

KINDS: dict[str, MonitorKind] = {}


def register(kind: MonitorKind) -> MonitorKind:
    if kind.name in KINDS:
        raise ValueError(f"a monitor kind named {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> MonitorKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown monitor kind {name!r}; the kinds are {sorted(KINDS)}", kind=name
        ) from None


register(DataDrift())
register(PredictionDrift())
register(ValidationSuite())
register(MissingValues())
register(NewCategories())
register(Volume())
register(Frequency())
register(NoData())
register(TrainingQuality())
register(TrainingDataDrift())
register(FeatureImportanceChange())
register(RealizedPerformance())
register(EstimatedPerformance())
register(FairnessKind())
register(KpiChange())
register(AttributionDrift())

__all__ = ["KINDS", "Context", "KindOptions", "Measurement", "MonitorKind", "get_kind", "register"]
