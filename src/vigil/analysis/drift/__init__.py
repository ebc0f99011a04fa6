"""Drift detection: one module per method, registered in `registry.py`; `drift()` compares two
datasets or profiles column by column and returns a `DriftReport`."""

from vigil.analysis.drift.base import Counts, DriftMethod, MethodResult
from vigil.analysis.drift.detect import DRIFT_SHARE, EXACT_MAX_ROWS, drift
from vigil.analysis.drift.effect import EFFECT_NAMES
from vigil.analysis.drift.findings import ColumnDrift
from vigil.analysis.drift.options import (
    DEFAULT_METHODS,
    EFFECT_THRESHOLDS,
    ColumnOptions,
)
from vigil.analysis.drift.registry import METHODS, get_method
from vigil.analysis.drift.report import DriftReport

__all__ = [
    "DEFAULT_METHODS",
    "DRIFT_SHARE",
    "EFFECT_NAMES",
    "EFFECT_THRESHOLDS",
    "EXACT_MAX_ROWS",
    "METHODS",
    "ColumnDrift",
    "ColumnOptions",
    "Counts",
    "DriftMethod",
    "DriftReport",
    "MethodResult",
    "drift",
    "get_method",
]
