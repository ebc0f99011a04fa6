"""Experiment tracking and data versioning: runs with params, metrics, tags and artifacts, their
code and environment, the dataset versions they used, and search over them.

Names are imported on first use: `vigil.tracking.specs` (what the HTTP client needs) must not
pull in the store (SQLAlchemy).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.tracking.run import Run, active_run, start_run
    from vigil.tracking.specs import RunComparison, RunData, RunInfo, RunsPage, RunStatus

_LAZY = {
    "Run": "vigil.tracking.run",
    "active_run": "vigil.tracking.run",
    "start_run": "vigil.tracking.run",
    "RunComparison": "vigil.tracking.specs",
    "RunData": "vigil.tracking.specs",
    "RunInfo": "vigil.tracking.specs",
    "RunStatus": "vigil.tracking.specs",
    "RunsPage": "vigil.tracking.specs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil.tracking' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Run",
    "RunComparison",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunsPage",
    "active_run",
    "start_run",
]
