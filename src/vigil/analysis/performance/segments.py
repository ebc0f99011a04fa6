"""Which segments explain a change in performance, and which features' drift moves with it.

Decomposition of a change M_c - M_b between a baseline period (b) and a current one (c), for the
segments s of one column, with w the segment's share of the labelled rows and m its metric:

    within_s = w_c(s) * (m_c(s) - m_b(s))            the segment got better or worse
    mix_s    = (w_c(s) - w_b(s)) * (m_b(s) - M_b)     the traffic moved towards a segment that
                                                     was better or worse than average
    contribution_s = within_s + mix_s

A segment absent from the baseline counts with m_b(s) = M_b (all its effect is "within");
one absent from the current period has w_c(s) = 0 (all "mix"). For a metric that is a mean over
rows (accuracy, log loss, MAE, MAPE) the contributions add up exactly to M_c - M_b; for the
others (precision, recall, F1, ROC AUC, RMSE, R2) they are a first-order reading and the
`residual` says how far from exact it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vigil.analysis.performance.metrics import LOWER_IS_BETTER


@dataclass(frozen=True)
class SegmentStat:
    n: int
    value: float | None


@dataclass(frozen=True)
class SegmentChange:
    column: str
    value: str
    n_baseline: int
    n_current: int
    share_baseline: float
    share_current: float
    metric_baseline: float | None
    metric_current: float | None
    within: float
    mix: float
    contribution: float


def decompose(
    column: str,
    baseline: Mapping[str, SegmentStat],
    current: Mapping[str, SegmentStat],
    overall_baseline: float,
) -> list[SegmentChange]:
    """Contributions of each segment of `column` (see the module's docstring)."""
    total_b = sum(s.n for s in baseline.values() if s.value is not None)
    total_c = sum(s.n for s in current.values() if s.value is not None)
    out = []
    for value in sorted(set(baseline) | set(current)):
        b = baseline.get(value, SegmentStat(0, None))
        c = current.get(value, SegmentStat(0, None))
        w_b = b.n / total_b if total_b and b.value is not None else 0.0
        w_c = c.n / total_c if total_c and c.value is not None else 0.0
        m_b = b.value if b.value is not None else overall_baseline
        within = w_c * (c.value - m_b) if c.value is not None else 0.0
        mix = (w_c - w_b) * (m_b - overall_baseline)
        out.append(
            SegmentChange(
                column,
                value,
                b.n,
                c.n,
                w_b,
                w_c,
                b.value,
                c.value,
                within,
                mix,
                within + mix,
            )
        )
    return out


def rank_by_harm(changes: Sequence[SegmentChange], metric: str) -> list[SegmentChange]:
    """Segments ordered by how much they pulled the metric the wrong way (most first)."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    return sorted(changes, key=lambda c: (sign * c.contribution, c.column, c.value))


@dataclass(frozen=True)
class DriftCorrelation:
    feature: str
    correlation: float
    """Pearson correlation of the feature's per-window drift statistic with the metric."""
    n_windows: int
    drift: list[float | None]


def correlate(
    metric: Sequence[float | None], drift: Mapping[str, Sequence[float | None]], metric_name: str
) -> list[DriftCorrelation]:
    """Features whose drift series goes with the metric's series, the most harmful first
    (drift up while a higher-is-better metric goes down: a negative correlation). Windows where
    either is missing are left out; features with fewer than 3 shared windows or a constant
    series are not reported."""
    out = []
    values = np.array([np.nan if v is None else v for v in metric], dtype=float)
    for feature, series in drift.items():
        d = np.array([np.nan if v is None else v for v in series], dtype=float)
        both = np.isfinite(values) & np.isfinite(d)
        if both.sum() < 3 or np.std(d[both]) == 0 or np.std(values[both]) == 0:
            continue
        r = float(np.corrcoef(d[both], values[both])[0, 1])
        out.append(DriftCorrelation(feature, r, int(both.sum()), list(series)))
    sign = 1.0 if metric_name in LOWER_IS_BETTER else -1.0
    return sorted(out, key=lambda c: (-sign * c.correlation, c.feature))
