"""Multivariate drift: PCA reconstruction error and the domain classifier."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.analysis.drift import drift
from vigil.analysis.multivariate import domain_classifier, pca_reconstruction
from vigil.errors import InvalidInputError


def _correlated(n: int, rho: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    a = rng.normal(0, 1, n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)
    return {"a": a, "b": b, "c": rng.normal(0, 1, n), "g": rng.choice(np.array(["u", "v"]), n)}


def test_a_broken_correlation_is_invisible_per_column_but_seen_by_both_detectors() -> None:
    rng = np.random.default_rng(0)
    ref = _correlated(4_000, 0.9, rng)
    cur = _correlated(4_000, -0.9, rng)  # same marginals, opposite relation
    report = drift(ref, cur, multivariate=True)
    assert report.drifted_columns == ()
    pca, clf = report.multivariate
    assert pca.method == "pca_reconstruction"
    assert pca.drifted
    assert pca.statistic > 2
    assert clf.method == "domain_classifier"
    assert clf.drifted
    assert clf.statistic > 0.8
    assert "Multivariate pca_reconstruction" in report.summary()
    assert report.to_dict()["multivariate"][1]["method"] == "domain_classifier"


def test_no_drift_is_not_flagged() -> None:
    rng = np.random.default_rng(1)
    report = drift(_correlated(4_000, 0.9, rng), _correlated(4_000, 0.9, rng), multivariate=True)
    pca, clf = report.multivariate
    assert not pca.drifted
    assert pca.statistic == pytest.approx(1.0, abs=0.08)
    assert not clf.drifted
    assert clf.statistic == pytest.approx(0.5, abs=0.04)


def test_needs_raw_data_and_enough_rows() -> None:
    import vigil

    rng = np.random.default_rng(2)
    ref = _correlated(500, 0.5, rng)
    with pytest.raises(InvalidInputError, match="multivariate drift needs raw data"):
        drift(vigil.profile(ref), ref, multivariate=True)
    x = rng.normal(size=(6, 2))
    with pytest.raises(InvalidInputError, match="at least"):
        pca_reconstruction(x, x)
    with pytest.raises(InvalidInputError, match="at least 10 rows"):
        domain_classifier(x, x)
