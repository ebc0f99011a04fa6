"""Training data drift: the share of columns of a new version's training data that drifted
from its reference version's (their stored profiles, compared with `vigil.drift`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vigil.monitor.kinds.base import Measurement
from vigil.monitor.kinds.training import (
    Comparison,
    TrainingKind,
    TrainingOptions,
    nothing_to_compare,
)
from vigil.monitor.specs import StaticThreshold


class TrainingDriftOptions(TrainingOptions):
    columns: tuple[str, ...] | None = None
    """Columns compared (default: every column both profiles have)."""
    method: str | None = None
    """A `vigil.drift` method for every column (default: each kind's default)."""
    drift_threshold: float | None = Field(default=None, gt=0)


class TrainingDataDrift(TrainingKind):
    name = "training_data_drift"
    description = (
        "Share of the columns of a new version's training data that drifted from the previous "
        "version's (or an alias holder's) training data."
    )
    options_model = TrainingDriftOptions
    section = "training_data"
    default_threshold = StaticThreshold(upper=0.0)
    onset = True

    def compare_args(self, options: Any) -> dict[str, Any]:
        return {
            "columns": options.columns,
            "drift_method": options.method,
            "drift_threshold": options.drift_threshold,
        }

    def judge(self, comparison: Comparison, options: Any) -> Measurement:
        data = comparison.training_data
        if data is None:
            return nothing_to_compare(comparison)
        drifted = ", ".join(data.drifted_columns) or "none"
        message = (
            f"training data of {comparison.subject}: {len(data.drifted_columns)} of "
            f"{len(data.columns)} columns drifted from {comparison.reference}'s "
            f"({drifted})"
        )
        return Measurement(data.share_drifted, message, {**comparison.identity(), **data.to_dict()})
