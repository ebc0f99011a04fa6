"""The registry of monitor kinds. A new kind is one module and one line in `_ALL` below."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from vigil.errors import InvalidInputError
from vigil.monitor.kinds.attribution_drift import AttributionDrift
from vigil.monitor.kinds.base import DRIFT_GAUGES, Context, KindOptions, Measurement, MonitorKind
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

_ALL: tuple[MonitorKind, ...] = (
    DataDrift(),
    PredictionDrift(),
    ValidationSuite(),
    MissingValues(),
    NewCategories(),
    Volume(),
    Frequency(),
    NoData(),
    TrainingQuality(),
    TrainingDataDrift(),
    FeatureImportanceChange(),
    RealizedPerformance(),
    EstimatedPerformance(),
    FairnessKind(),
    KpiChange(),
    AttributionDrift(),
)


def _registry(kinds: Iterable[MonitorKind]) -> Mapping[str, MonitorKind]:
    found: dict[str, MonitorKind] = {}
    for kind in kinds:
        if kind.name in found:
            raise ValueError(f"a monitor kind named {kind.name!r} is already registered")
        found[kind.name] = kind
    return MappingProxyType(found)


KINDS: Mapping[str, MonitorKind] = _registry(_ALL)
"""Every monitor kind by name (read-only: a kind is added by its line in `_ALL`)."""


def get_kind(name: str) -> MonitorKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown monitor kind {name!r}; the kinds are {sorted(KINDS)}", kind=name
        ) from None


def kinds_with_gauge(gauge: str) -> tuple[str, ...]:
    """Names of the kinds whose measurements feed Prometheus gauge `gauge`."""
    return tuple(name for name, kind in KINDS.items() if gauge in kind.gauges)


__all__ = [
    "DRIFT_GAUGES",
    "KINDS",
    "Context",
    "KindOptions",
    "Measurement",
    "MonitorKind",
    "get_kind",
    "kinds_with_gauge",
]
