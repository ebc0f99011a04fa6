"""Pure comparisons of two model versions: quality metrics (with each metric's direction),
feature importance rankings (Spearman rank correlation, top features) and training data profiles
(`vigil.drift`). `vigil.monitor.versions` feeds them what the store holds."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vigil.analysis.ranks import average_ranks
from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    from vigil.analysis.drift import DriftReport
    from vigil.profile import DatasetProfile

Direction = Literal["higher", "lower"]

HIGHER_IS_BETTER = frozenset(
    """accuracy acc balanced_accuracy top_k_accuracy auc roc_auc rocauc auroc pr_auc prauc auprc
    average_precision f1 f1_score f1_macro f1_micro f1_weighted fbeta fbeta_score precision
    recall sensitivity specificity tpr tnr r2 r2_score rsquared r_squared explained_variance
    explained_variance_score mcc matthews_corrcoef kappa cohen_kappa ndcg map mrr hit_rate
    hitrate iou jaccard dice bleu rouge gini""".split()  # noqa: SIM905
)
LOWER_IS_BETTER = frozenset(
    """loss log_loss logloss cross_entropy nll mse rmse mae mape smape msle rmsle mdae
    mean_absolute_error mean_squared_error root_mean_squared_error median_absolute_error
    mean_absolute_percentage_error mean_squared_log_error error error_rate brier brier_score
    brier_score_loss hamming_loss zero_one_loss wer cer perplexity fpr fnr false_positive_rate
    false_negative_rate""".split()  # noqa: SIM905
)
_SEPARATORS = re.compile(r"[._/\-: ]+")


def metric_direction(
    name: str, overrides: Mapping[str, Direction] | None = None
) -> Direction | None:
    """Whether a higher or a lower value of metric `name` is better; None when unknown.

    `overrides` (exact names) win; otherwise the longest known suffix of the name decides
    (`val_roc_auc` -> `roc_auc`: higher; `test.rmse`: lower), and scikit-learn's `neg_` prefix
    (`neg_mean_squared_error`) flips it.
    """
    if overrides and name in overrides:
        return overrides[name]
    tokens = [t for t in _SEPARATORS.split(name.lower()) if t]
    for i in range(len(tokens)):
        suffix = "_".join(tokens[i:])
        found: Direction | None = (
            "higher"
            if suffix in HIGHER_IS_BETTER
            else "lower"
            if suffix in LOWER_IS_BETTER
            else None
        )
        if found is not None:
            if i > 0 and tokens[i - 1] == "neg":
                return "lower" if found == "higher" else "higher"
            return found
    return None


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricChange:
    """One quality metric of the candidate against the reference version."""

    name: str
    direction: Direction
    candidate: float
    reference: float
    worse_by: float
    """How much worse the candidate is, in the metric's units (negative: better)."""

    @property
    def relative_worse_by(self) -> float:
        """`worse_by` as a fraction of the reference's magnitude (absolute when it is 0)."""
        return self.worse_by / abs(self.reference) if self.reference else self.worse_by

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "direction": self.direction,
            "candidate": self.candidate,
            "reference": self.reference,
            "worse_by": self.worse_by,
            "relative_worse_by": self.relative_worse_by,
        }


@dataclass(frozen=True)
class QualityComparison:
    metrics: tuple[MetricChange, ...]
    unknown_direction: tuple[str, ...] = ()
    """Metrics both versions have whose direction is not known (configure `directions`)."""

    def worst(self, *, relative: bool) -> MetricChange | None:
        """The metric that got worst (largest `worse_by`, or relative), None with no metrics."""
        if not self.metrics:
            return None
        key = (lambda m: m.relative_worse_by) if relative else (lambda m: m.worse_by)
        return max(self.metrics, key=key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": [m.to_dict() for m in self.metrics],
            "unknown_direction": list(self.unknown_direction),
        }


@dataclass(frozen=True)
class ImportanceComparison:
    """The two versions' feature importance rankings (features missing from one count as 0)."""

    spearman: float | None
    """Spearman rank correlation of the importances (None: fewer than 2 features, or one side
    gives every feature the same importance)."""
    top_k: int
    candidate_top: tuple[str, ...]
    reference_top: tuple[str, ...]
    n_features: int
    source: str
    """Where the importances came from: `explain` or `run_metrics`."""

    @property
    def new_in_top(self) -> tuple[str, ...]:
        """Features in the candidate's top k that were not in the reference's."""
        return tuple(f for f in self.candidate_top if f not in self.reference_top)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spearman": self.spearman,
            "top_k": self.top_k,
            "candidate_top": list(self.candidate_top),
            "reference_top": list(self.reference_top),
            "new_in_top": list(self.new_in_top),
            "n_features": self.n_features,
            "source": self.source,
        }


@dataclass(frozen=True)
class TrainingDataComparison:
    """Drift of the candidate's training data from the reference's (`vigil.drift` on profiles)."""

    share_drifted: float
    drifted_columns: tuple[str, ...]
    columns: dict[str, dict[str, Any]]
    added_columns: tuple[str, ...] = ()
    removed_columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "share_drifted": self.share_drifted,
            "drifted_columns": list(self.drifted_columns),
            "columns": self.columns,
            "added_columns": list(self.added_columns),
            "removed_columns": list(self.removed_columns),
        }


# -- pure comparisons --------------------------------------------------------------------------


def compare_metrics(
    candidate: Mapping[str, float],
    reference: Mapping[str, float],
    *,
    names: Iterable[str] | None = None,
    directions: Mapping[str, Direction] | None = None,
) -> QualityComparison:
    """The metrics both sides have (or `names`), each with how much worse the candidate is."""
    wanted = sorted(set(candidate) & set(reference)) if names is None else list(names)
    changes, unknown = [], []
    for name in wanted:
        if name not in candidate or name not in reference:
            continue
        new, old = float(candidate[name]), float(reference[name])
        if not (math.isfinite(new) and math.isfinite(old)):
            continue
        direction = metric_direction(name, directions)
        if direction is None:
            unknown.append(name)
            continue
        worse_by = old - new if direction == "higher" else new - old
        changes.append(MetricChange(name, direction, new, old, worse_by))
    return QualityComparison(tuple(changes), tuple(unknown))


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties): Pearson's r of the ranks. None when
    there are fewer than 2 values or one side is constant."""
    if len(a) != len(b):
        raise InvalidInputError(f"rank correlation needs equal lengths, got {len(a)} and {len(b)}")
    if len(a) < 2:
        return None
    ra = average_ranks(np.asarray(a, dtype=float))
    rb = average_ranks(np.asarray(b, dtype=float))
    da, db = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
    if denominator == 0.0:
        return None
    return float(np.clip(np.dot(da, db) / denominator, -1.0, 1.0))


def top_features(importances: Mapping[str, float], k: int) -> tuple[str, ...]:
    """The k most important features (ties by name, so the result is stable)."""
    ordered = sorted(importances.items(), key=lambda item: (-item[1], item[0]))
    return tuple(name for name, _ in ordered[:k])


def compare_importances(
    candidate: Mapping[str, float],
    reference: Mapping[str, float],
    *,
    top_k: int = 3,
    absolute: bool = True,
    source: str = "explain",
) -> ImportanceComparison:
    """Rank correlation over the union of features (a feature one side lacks has importance 0)
    and the change of the top k. `absolute` ranks by magnitude (signed coefficients)."""
    features = sorted(set(candidate) | set(reference))

    def values(side: Mapping[str, float]) -> dict[str, float]:
        return {f: abs(side.get(f, 0.0)) if absolute else side.get(f, 0.0) for f in features}

    new, old = values(candidate), values(reference)
    return ImportanceComparison(
        spearman=spearman([new[f] for f in features], [old[f] for f in features]),
        top_k=top_k,
        candidate_top=top_features(new, top_k),
        reference_top=top_features(old, top_k),
        n_features=len(features),
        source=source,
    )


def compare_profiles(
    candidate: DatasetProfile,
    reference: DatasetProfile,
    *,
    columns: Sequence[str] | None = None,
    method: str | None = None,
    threshold: float | None = None,
) -> TrainingDataComparison:
    """Drift of `candidate` from `reference` over their common columns (or `columns`)."""
    from vigil.analysis.drift import drift

    common = [c for c in (columns or sorted(reference.columns)) if c in candidate.columns]
    added = tuple(sorted(set(candidate.columns) - set(reference.columns)))
    removed = tuple(sorted(set(reference.columns) - set(candidate.columns)))
    if not common:
        return TrainingDataComparison(0.0, (), {}, added, removed)
    report: DriftReport = drift(
        reference.select(common), candidate.select(common), method=method, threshold=threshold
    )
    return TrainingDataComparison(
        share_drifted=report.share_drifted,
        drifted_columns=tuple(report.drifted_columns),
        columns={
            name: {
                "method": col.method,
                "statistic": col.statistic,
                "p_value": col.p_value,
                "drifted": col.drifted,
            }
            for name, col in report.columns.items()
        },
        added_columns=added,
        removed_columns=removed,
    )
