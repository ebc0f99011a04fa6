"""Properties that hold for any input: a dataset never drifts from itself, and every report is
valid JSON with the design's keys."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil
from vigil.analysis.drift import drift

values = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.none()),
    min_size=2,
    max_size=60,
)
labels = st.lists(
    st.one_of(st.sampled_from(["a", "b", "c", "ü", ""]), st.none()), min_size=2, max_size=60
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=values, k=labels, flags=st.lists(st.booleans(), min_size=2, max_size=60))
def test_identical_data_never_drifts(
    x: list[float | None], k: list[str | None], flags: list[bool]
) -> None:
    n = min(len(x), len(k), len(flags))
    data = {
        "x": np.array([np.nan if v is None else v for v in x[:n]], dtype=np.float64),
        "k": k[:n],
        "f": flags[:n],
    }
    for report in (drift(data, data), drift(vigil.profile(data), vigil.profile(data))):
        assert report.drifted_columns == ()
        assert not report.dataset_drift
        body = json.loads(report.to_json())  # strict JSON: no NaN or infinity
        assert set(body) >= {"dataset_drift", "share_drifted", "columns"}
        for column in report.columns.values():
            assert column.missing_share_change == 0.0
            assert column.new_categories == ()
