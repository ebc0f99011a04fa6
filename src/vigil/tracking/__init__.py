"""Experiment tracking and data versioning: runs with params, metrics, tags and artifacts, their
code and environment, the dataset versions they used, and search over them."""

from vigil.tracking.run import Run, active_run, start_run
from vigil.tracking.specs import RunComparison, RunData, RunInfo, RunsPage, RunStatus

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
