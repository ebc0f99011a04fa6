"""Kullback-Leibler divergence KL(current || reference) in nats, over reference-decile bins or
categories, empty bins lifted to 1e-4 (scipy.stats.entropy)."""

from __future__ import annotations

import scipy

from vigil.analysis.drift._bins import on_shares
from vigil.analysis.drift.base import DriftMethod, smoothed
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def kl_divergence(p: FloatArray, q: FloatArray) -> float:
    return float(scipy.stats.entropy(smoothed(q), smoothed(p)))


_profile, _exact, _counts = on_shares(kl_divergence)

METHOD = DriftMethod(
    name="kl_divergence",
    title="Kullback-Leibler divergence",
    statistic_type="distance",
    default_threshold=0.1,
    kinds=frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}),
    tolerance=0.04,
    description="KL(current || reference) in nats over reference-decile bins or categories",
    numeric_profile=_profile,
    numeric_exact=_exact,
    counts=_counts,
    aliases=("kl",),
)
