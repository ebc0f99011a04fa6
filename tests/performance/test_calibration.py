"""The label-free estimator's calibration (pool-adjacent-violators in NumPy) against
scikit-learn's IsotonicRegression, and the first call's imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from vigil.analysis.performance.estimation import IsotonicCalibrator

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30).map(lambda i: i / 30), st.integers(0, 1)),
        min_size=1,
        max_size=80,
    ),
    st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=1, max_size=20),
)
def test_calibration_is_scikit_learns_isotonic_regression(
    points: list[tuple[float, int]], probes: list[float]
) -> None:
    score = np.array([s for s, _ in points])
    outcome = np.array([o for _, o in points], dtype=float)
    ours = IsotonicCalibrator.fit(score, outcome)
    theirs = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, outcome)
    at = np.array([*probes, *score])
    np.testing.assert_allclose(ours(at), theirs.predict(at), rtol=0, atol=1e-12)


def test_the_first_estimation_call_imports_neither_scipy_stats_nor_scikit_learn(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        from tests.performance.conftest import DAY, T0, binary_day, create_binary, log_day
        from vigil.client import Client

        client = Client.local("sqlite:///{tmp_path / "v.db"}", {str(tmp_path / "art")!r})
        create_binary(client)
        rng = np.random.default_rng(1)
        for day in range(4):
            data = binary_day(rng, day, 300)
            log_day(client, data)
            if day < 3:
                client.log_labels("churn", data["id"], data["label"])
        client.estimated_performance(
            "churn", reference_start=T0, reference_end=T0 + 3 * DAY, start=T0 + 3 * DAY
        )
        client.performance("churn", window="day")
        client.fairness("churn", "country")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"
                        or m.startswith("scipy.stats"))
        print(loaded[:5])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
