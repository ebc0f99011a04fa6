"""Group fairness of a classifier's decisions across the values of a sensitive attribute.

For each group g (a value of the attribute): the selection rate P(pred = positive | g) over all
its predictions, and the true positive rate P(pred = positive | label = positive, g) over its
labelled positives. Then, over the groups:
- demographic parity difference: largest selection rate minus smallest;
- disparate impact ratio: smallest selection rate over largest (1 is parity; the "four-fifths
  rule" flags below 0.8); None when no group is ever selected;
- equal opportunity difference: largest true positive rate minus smallest (groups without a
  labelled positive are left out); None with fewer than two such groups.
Groups with fewer than `min_rows` predictions are reported but left out of the three figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.analysis.performance.metrics import ObjectArray
from vigil.errors import InvalidInputError

FAIRNESS_METRICS = (
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "disparate_impact_ratio",
)


@dataclass(frozen=True)
class GroupRates:
    n: int
    n_selected: int
    selection_rate: float
    n_labelled_positive: int
    true_positive_rate: float | None


@dataclass(frozen=True)
class Fairness:
    positive_class: str
    groups: dict[str, GroupRates]
    demographic_parity_difference: float | None
    disparate_impact_ratio: float | None
    equal_opportunity_difference: float | None

    def value(self, metric: str) -> float | None:
        if metric not in FAIRNESS_METRICS:
            raise InvalidInputError(
                f"unknown fairness metric {metric!r}; the metrics are {list(FAIRNESS_METRICS)}",
                metric=metric,
            )
        value: float | None = getattr(self, metric)
        return value


def fairness(
    groups: ObjectArray,
    y_pred: ObjectArray,
    y_true: ObjectArray,
    positive_class: str,
    *,
    min_rows: int = 1,
) -> Fairness:
    """`groups`, `y_pred` and `y_true` run parallel; `y_true` is None where no label arrived.
    Rows whose group is None (a missing attribute) are left out."""
    if not (len(groups) == len(y_pred) == len(y_true)):
        raise InvalidInputError(
            f"{len(groups)} groups, {len(y_pred)} predictions and {len(y_true)} labels differ"
        )
    selected = y_pred == positive_class
    labelled_positive = y_true == positive_class
    rates: dict[str, GroupRates] = {}
    for group in sorted({g for g in groups.tolist() if g is not None}):
        mask = groups == group
        n = int(mask.sum())
        n_selected = int(selected[mask].sum())
        positives = mask & labelled_positive
        n_pos = int(positives.sum())
        tpr = float(selected[positives].sum()) / n_pos if n_pos else None
        rates[group] = GroupRates(n, n_selected, n_selected / n, n_pos, tpr)
    kept = [r for r in rates.values() if r.n >= min_rows]
    selection = [r.selection_rate for r in kept]
    tprs = [r.true_positive_rate for r in kept if r.true_positive_rate is not None]
    dpd = float(max(selection) - min(selection)) if len(selection) >= 2 else None
    dir_ = None
    if len(selection) >= 2 and max(selection) > 0:
        dir_ = float(min(selection) / max(selection))
    eod = float(max(tprs) - min(tprs)) if len(tprs) >= 2 else None
    return Fairness(positive_class, rates, dpd, dir_, eod)
