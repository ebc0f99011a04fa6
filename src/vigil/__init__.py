"""Vigil: monitoring for machine-learning models in production, and the history of how they were built.

>>> import vigil
>>> prof = vigil.profile({"age": [31, 45, 27], "city": ["Oslo", "Lyon", "Oslo"]})
>>> prof.columns["age"].mean
34.333333333333336
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from vigil.errors import VigilError
from vigil.profile import DatasetProfile, Window, profile
from vigil.schema import ColumnKind, Schema

if TYPE_CHECKING:
    from vigil import explain as explain
    from vigil import monitor as monitors
    from vigil.analysis.drift import DriftReport, drift
    from vigil.analysis.validation import (
        AllowedCategories,
        Check,
        CheckResult,
        ColumnPresent,
        DatetimeInRange,
        DistinctCountInRange,
        KindIs,
        MaxInRange,
        MeanInRange,
        MinInRange,
        MissingShareAtMost,
        PatternMatchShareAtLeast,
        QuantileInRange,
        StdInRange,
        Suite,
        Unique,
        ValidationResult,
        suggest_checks,
    )
    from vigil.api.tracking import RunStatus
    from vigil.autologging import autolog
    from vigil.client import Client
    from vigil.client.registry import api as models
    from vigil.client.tracking.api import compare_runs, search_runs
    from vigil.client.tracking.run import Run, start_run
    from vigil.lifecycle.live import watch_run
    from vigil.monitor import Monitor

# Imported on first use: drift needs SciPy and scikit-learn, which a process that only profiles
# (a serving replica, a Spark executor) should not pay for in start-up time and memory.
_CHECKS = (
    "AllowedCategories",
    "Check",
    "CheckResult",
    "ColumnPresent",
    "DatetimeInRange",
    "DistinctCountInRange",
    "KindIs",
    "MaxInRange",
    "MeanInRange",
    "MinInRange",
    "MissingShareAtMost",
    "PatternMatchShareAtLeast",
    "QuantileInRange",
    "StdInRange",
    "Unique",
)
"""Validation checks, importable from `vigil` (`vigil.MinInRange(...)`); a test holds this list to
the registry's."""

_LAZY = {
    **dict.fromkeys(_CHECKS, "vigil.analysis.validation"),
    "Client": "vigil.client",
    "autolog": "vigil.autologging",
    "compare_runs": "vigil.client.tracking.api",
    "drift": "vigil.analysis.drift",
    "explain": "vigil.explain",  # the package, callable: vigil.explain(model_ref, rows)
    "DriftReport": "vigil.analysis.drift",
    "models": "vigil.client.registry",  # vigil.client.registry.models is its api module
    "Monitor": "vigil.monitor",
    "monitors": "vigil.monitor",  # vigil.monitor.monitors is the vigil.monitor package
    "Run": "vigil.client.tracking.run",
    "RunStatus": "vigil.api.tracking",
    "Suite": "vigil.analysis.validation",
    "ValidationResult": "vigil.analysis.validation",
    "search_runs": "vigil.client.tracking.api",
    "start_run": "vigil.client.tracking.run",
    "suggest_checks": "vigil.analysis.validation",
    "watch_run": "vigil.lifecycle.live",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


try:
    __version__ = version("vigil")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "AllowedCategories",
    "Check",
    "CheckResult",
    "Client",
    "ColumnKind",
    "ColumnPresent",
    "DatasetProfile",
    "DatetimeInRange",
    "DistinctCountInRange",
    "DriftReport",
    "KindIs",
    "MaxInRange",
    "MeanInRange",
    "MinInRange",
    "MissingShareAtMost",
    "Monitor",
    "PatternMatchShareAtLeast",
    "QuantileInRange",
    "Run",
    "RunStatus",
    "Schema",
    "StdInRange",
    "Suite",
    "Unique",
    "ValidationResult",
    "VigilError",
    "Window",
    "__version__",
    "autolog",
    "compare_runs",
    "drift",
    "explain",
    "models",
    "monitors",
    "profile",
    "search_runs",
    "start_run",
    "suggest_checks",
    "watch_run",
]
