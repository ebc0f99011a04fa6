"""Vigil: monitoring for machine-learning models in production, and the history of how they were built.

>>> import vigil
>>> prof = vigil.profile({"age": [31, 45, 27], "city": ["Oslo", "Lyon", "Oslo"]})
>>> prof.columns["age"].mean
34.333333333333336
"""

from importlib.metadata import PackageNotFoundError, version

from vigil.analysis.drift import DriftReport, drift
from vigil.analysis.validation import Suite, ValidationResult, suggest_checks
from vigil.errors import VigilError
from vigil.profile import DatasetProfile, Window, profile
from vigil.schema import ColumnKind, Schema

try:
    __version__ = version("vigil")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "ColumnKind",
    "DatasetProfile",
    "DriftReport",
    "Schema",
    "Suite",
    "ValidationResult",
    "VigilError",
    "Window",
    "__version__",
    "drift",
    "profile",
    "suggest_checks",
]
