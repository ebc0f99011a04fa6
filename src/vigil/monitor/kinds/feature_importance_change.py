"""Feature importance change: how well a new version's importance ranking agrees with its
reference version's.

The statistic is Spearman's rank correlation of the two versions' importances, or -1 (no
agreement) when a feature entered the top `top_k` (`top_k: 0` turns that off); the raw
correlation and the top features are in the details.
"""

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

NEW_TOP_FEATURE = -1.0


class ImportanceOptions(TrainingOptions):
    top_k: int = Field(default=3, ge=0, le=100)
    method: str | None = Field(default=None, max_length=100)
    """The explanation method whose importances are compared (default: the latest saved)."""


class FeatureImportanceChange(TrainingKind):
    name = "feature_importance_change"
    description = (
        "Spearman rank correlation of a new version's feature importances with its reference "
        "version's; -1 when a feature entered the top k."
    )
    options_model = ImportanceOptions
    section = "importance"
    worse_when_higher = False
    default_threshold = StaticThreshold(lower=0.8)

    def compare_args(self, options: Any) -> dict[str, Any]:
        return {"top_k": options.top_k, "importance_method": options.method}

    def judge(self, comparison: Comparison, options: Any) -> Measurement:
        importance = comparison.importance
        if importance is None:
            return nothing_to_compare(comparison)
        details = {**comparison.identity(), **importance.to_dict()}
        rho = importance.spearman
        new = importance.new_in_top if options.top_k else ()
        if new:
            return Measurement(
                NEW_TOP_FEATURE,
                f"{comparison.subject}: {', '.join(new)} entered the top {options.top_k} "
                f"features (top: {', '.join(importance.candidate_top)}; was "
                f"{', '.join(importance.reference_top)})",
                details,
            )
        if rho is None:
            return Measurement(
                None,
                f"{comparison.subject}: too few features ({importance.n_features}) "
                "with distinct importances to correlate",
                details,
            )
        return Measurement(
            rho,
            f"{comparison.subject}: importance rank correlation with "
            f"{comparison.reference} is {rho:.3f}",
            details,
        )
