"""Training quality: how much worse a new version's quality metrics are than its reference's."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vigil.monitor.comparisons import Direction
from vigil.monitor.kinds.base import Measurement
from vigil.monitor.kinds.training import (
    Comparison,
    TrainingKind,
    TrainingOptions,
    nothing_to_compare,
)
from vigil.monitor.specs import StaticThreshold


class QualityOptions(TrainingOptions):
    metrics: tuple[str, ...] | None = None
    """Metrics compared (default: every metric both versions have whose direction is known)."""
    directions: dict[str, Direction] = Field(default_factory=dict)
    """`higher` or `lower` is better, for metrics whose name does not say (exact names)."""
    relative: bool = True
    """Measure the regression as a fraction of the reference's value (else in metric units)."""


class TrainingQuality(TrainingKind):
    name = "training_quality"
    description = (
        "Largest regression of a new version's quality metrics against the previous version "
        "or an alias's holder (relative by default)."
    )
    options_model = QualityOptions
    section = "quality"
    default_threshold = StaticThreshold(upper=0.01)

    def compare_args(self, options: Any) -> dict[str, Any]:
        return {"metrics": options.metrics, "directions": options.directions}

    def judge(self, comparison: Comparison, options: Any) -> Measurement:
        quality = comparison.quality
        worst = quality.worst(relative=options.relative) if quality else None
        if quality is None or worst is None:
            return nothing_to_compare(comparison)
        value = worst.relative_worse_by if options.relative else worst.worse_by
        how = f"{value:.2%}" if options.relative else f"{value:g}"
        if value > 0:
            message = (
                f"{worst.name} of {comparison.subject} is {worst.candidate:g}, {how} worse than "
                f"{worst.reference:g} of {comparison.reference}"
            )
        else:
            message = (
                f"no metric of {comparison.subject} is worse than "
                f"{comparison.reference}'s ({len(quality.metrics)} compared)"
            )
        details = {**comparison.identity(), **quality.to_dict(), "worst": worst.name}
        return Measurement(value, message, details)
