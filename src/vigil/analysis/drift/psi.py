"""Population Stability Index: sum of (q - p) ln(q / p) over reference-decile bins or categories,
empty bins lifted to 1e-4. Rules of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 large shift."""

from __future__ import annotations

import numpy as np

from vigil.analysis.drift._bins import on_shares
from vigil.analysis.drift.base import DriftMethod, smoothed
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def psi(p: FloatArray, q: FloatArray) -> float:
    ps, qs = smoothed(p), smoothed(q)
    return float(np.sum((qs - ps) * np.log(qs / ps)))


_profile, _exact, _counts = on_shares(psi)

METHOD = DriftMethod(
    name="psi",
    title="Population Stability Index",
    statistic_type="distance",
    default_threshold=0.1,
    kinds=frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}),
    tolerance=0.04,
    description="PSI over reference-decile bins (numeric) or categories",
    numeric_profile=_profile,
    numeric_exact=_exact,
    counts=_counts,
)
