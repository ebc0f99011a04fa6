"""Jensen-Shannon distance (base 2, in [0, 1]) between the binned reference and current shares."""

from __future__ import annotations

import scipy

from vigil.analysis.drift._bins import on_shares
from vigil.analysis.drift.base import DriftMethod
from vigil.profile.sketches import FloatArray
from vigil.schema import ColumnKind


def jensen_shannon(p: FloatArray, q: FloatArray) -> float:
    return float(scipy.spatial.distance.jensenshannon(p, q, base=2))


_profile, _exact, _counts = on_shares(jensen_shannon)

METHOD = DriftMethod(
    name="jensen_shannon",
    title="Jensen-Shannon distance",
    statistic_type="distance",
    default_threshold=0.1,
    kinds=frozenset({ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN}),
    tolerance=0.03,
    description="Jensen-Shannon distance (base 2) over reference-decile bins or categories",
    numeric_profile=_profile,
    numeric_exact=_exact,
    counts=_counts,
    aliases=("js", "jensenshannon"),
)
