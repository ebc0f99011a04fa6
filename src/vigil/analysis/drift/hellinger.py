"""Hellinger distance (in [0, 1]) between the binned reference and current shares."""

from __future__ import annotations

import math

import numpy as np

from vigil.analysis.drift._bins import on_shares
from vigil.analysis.drift.base import DriftMethod
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def hellinger(p: FloatArray, q: FloatArray) -> float:
    return math.sqrt(max(0.0, 0.5 * float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))))


_profile, _exact, _counts = on_shares(hellinger)

METHOD = DriftMethod(
    name="hellinger",
    title="Hellinger distance",
    statistic_type="distance",
    default_threshold=0.1,
    kinds=frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}),
    tolerance=0.03,
    description="Hellinger distance over reference-decile bins or categories",
    numeric_profile=_profile,
    numeric_exact=_exact,
    counts=_counts,
)
