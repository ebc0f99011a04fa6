"""Contract tests run over every registered drift method: descriptor, exact path against SciPy,
profile path against exact path within the method's documented tolerance."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial import distance

from tests.analysis.drift import psi_band
from vigil.analysis.drift import METHODS, Counts, DriftMethod, get_method
from vigil.analysis.drift._bins import count_shares
from vigil.analysis.drift.base import DRIFT_KINDS
from vigil.analysis.drift.cramer_von_mises import _p_value
from vigil.errors import InvalidInputError
from vigil.profile.columns import NumericColumn, StringColumn
from vigil.schema import ColumnKind

NUMERIC = [m for m in METHODS.values() if ColumnKind.NUMERIC in m.kinds]
COUNTS = [m for m in METHODS.values() if m.counts is not None]


def _col(x: np.ndarray) -> NumericColumn:
    return NumericColumn.of(pa.array(x))


@pytest.fixture(scope="module")
def numeric_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return psi_band.cases()  # PSI's measured band is per case of these


def test_registry_has_the_nine_methods_of_the_issue_and_welch_t() -> None:
    assert set(METHODS) == {
        "welch_t",
        "ks",
        "cramer_von_mises",
        "chi_square",
        "z_test",
        "psi",
        "jensen_shannon",
        "wasserstein",
        "hellinger",
        "kl_divergence",
    }


@pytest.mark.parametrize("method", list(METHODS.values()), ids=list(METHODS))
def test_descriptor(method: DriftMethod) -> None:
    assert method.kinds
    assert method.kinds <= DRIFT_KINDS
    assert method.statistic_type in ("p_value", "distance")
    assert method.tolerance > 0
    assert method.description
    assert method.title
    if method.is_test:
        assert 0 < method.default_threshold < 1
        assert method.exceeds(0.001, method.default_threshold)
        assert not method.exceeds(0.5, method.default_threshold)
    else:
        assert method.default_threshold > 0
        assert method.exceeds(method.default_threshold, method.default_threshold)
    assert not method.needs_raw_data  # every built-in method has a profile path
    for alias in (method.name, *method.aliases, method.name.upper()):
        assert get_method(alias) is method


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(InvalidInputError, match="unknown drift method 'nope'.*ks"):
        get_method("nope")


# ------------------------------------------------------------------------ exact path == SciPy


def test_exact_paths_equal_scipy() -> None:
    rng = np.random.default_rng(3)
    x, y = np.sort(rng.normal(0, 1, 500)), np.sort(rng.normal(0.2, 1, 700))
    ks = stats.ks_2samp(x, y)
    got = get_method("ks").numeric_exact(x, y)  # type: ignore[misc]
    assert (got.statistic, got.p_value) == pytest.approx((ks.statistic, ks.pvalue))
    cvm = stats.cramervonmises_2samp(x, y, method="asymptotic")
    got = get_method("cvm").numeric_exact(x, y)  # type: ignore[misc]
    assert (got.statistic, got.p_value) == pytest.approx((cvm.statistic, cvm.pvalue))
    w = stats.wasserstein_distance(x, y) / np.std(x, ddof=1)
    assert get_method("wasserstein").numeric_exact(x, y).statistic == pytest.approx(w)  # type: ignore[misc]


def test_welch_t_equals_scipy_on_raw_and_on_profiles() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(0, 1, 5_000), rng.normal(0.05, 1.3, 4_000)
    res = stats.ttest_ind(y, x, equal_var=False)
    method = get_method("welch_t")
    for got in (
        method.numeric_exact(np.sort(x), np.sort(y)),
        method.numeric_profile(_col(x), _col(y)),
    ):  # type: ignore[misc]
        assert got.statistic == pytest.approx(res.statistic, rel=1e-9)
        assert got.p_value == pytest.approx(res.pvalue, rel=1e-6)


def test_cvm_profile_p_value_is_scipys_for_the_same_statistic() -> None:
    rng = np.random.default_rng(4)
    for shift in (0.0, 0.05, 0.2):
        x, y = rng.normal(0, 1, 400), rng.normal(shift, 1, 300)
        res = stats.cramervonmises_2samp(x, y, method="asymptotic")
        assert _p_value(float(res.statistic), 400, 300) == pytest.approx(res.pvalue, rel=1e-9)


def test_count_methods_equal_scipy() -> None:
    ref = Counts.of({"a": 400, "b": 300, "c": 200, "d": 100})
    cur = Counts.of({"a": 360, "b": 340, "c": 200, "d": 90, "e": 10})
    table = np.array([[400, 300, 200, 100, 0], [360, 340, 200, 90, 10]])
    chi = stats.chi2_contingency(table, correction=False)
    got = get_method("chi_square").counts(ref, cur)  # type: ignore[misc]
    assert (got.statistic, got.p_value) == pytest.approx((chi.statistic, chi.pvalue))
    _, p, q = count_shares(ref, cur)
    js = distance.jensenshannon(p, q, base=2)
    assert get_method("js").counts(ref, cur).statistic == pytest.approx(js)  # type: ignore[misc]
    psi = sum(
        (b - a) * math.log(b / a)
        for a, b in zip(np.maximum(p, 1e-4), np.maximum(q, 1e-4), strict=True)
    )
    assert get_method("psi").counts(ref, cur).statistic == pytest.approx(psi, rel=1e-3)  # type: ignore[misc]
    hell = math.sqrt(
        0.5 * sum((math.sqrt(a) - math.sqrt(b)) ** 2 for a, b in zip(p, q, strict=True))
    )
    assert get_method("hellinger").counts(ref, cur).statistic == pytest.approx(hell)  # type: ignore[misc]
    kl = stats.entropy(
        np.maximum(q, 1e-4) / np.maximum(q, 1e-4).sum(),
        np.maximum(p, 1e-4) / np.maximum(p, 1e-4).sum(),
    )
    assert get_method("kl").counts(ref, cur).statistic == pytest.approx(kl)  # type: ignore[misc]


def test_z_test_squared_is_the_uncorrected_chi_square() -> None:
    ref = Counts.of({"true": 300, "false": 700})
    cur = Counts.of({"true": 360, "false": 640})
    z = get_method("z_test").counts(ref, cur)  # type: ignore[misc]
    chi = stats.chi2_contingency(np.array([[300, 700], [360, 640]]), correction=False)
    assert z.statistic**2 == pytest.approx(chi.statistic)
    assert z.p_value == pytest.approx(chi.pvalue)
    assert z.statistic > 0  # current has more true values


def test_identical_inputs_give_no_distance() -> None:
    same = Counts.of({"a": 5, "b": 5})
    for method in COUNTS:
        result = method.counts(same, same)  # type: ignore[misc]
        if method.is_test:
            assert result.p_value == pytest.approx(1.0)
        else:
            assert result.statistic == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------ profile path ~= exact path


@pytest.mark.parametrize("method", NUMERIC, ids=[m.name for m in NUMERIC])
def test_numeric_profile_path_agrees_with_exact_path(
    method: DriftMethod, numeric_cases: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    if method.name == "psi":  # KLL's coins move PSI's gap by up to 3.5 sd of 0.04: measured band
        for name, (x, y) in numeric_cases.items():
            low, high = psi_band.band(name)
            mean = float(psi_band.gaps(x, y, psi_band.DRAWS).mean())
            assert low <= mean <= high, (name, mean, (low, high))
        return
    for name, (x, y) in numeric_cases.items():
        prof = method.numeric_profile(_col(x), _col(y))  # type: ignore[misc]
        exact = method.numeric_exact(np.sort(x), np.sort(y))  # type: ignore[misc]
        assert method.agrees(prof.statistic, exact.statistic, x.size, y.size), (name, prof, exact)
        if prof.error_bound is not None:
            assert abs(prof.statistic - exact.statistic) <= prof.error_bound, name


@pytest.mark.parametrize("method", COUNTS, ids=[m.name for m in COUNTS])
def test_count_profile_path_equals_exact_path(method: DriftMethod) -> None:
    rng = np.random.default_rng(5)
    values = np.array(list("abcdef"))
    x = rng.choice(values, 5_000, p=[0.3, 0.25, 0.2, 0.15, 0.07, 0.03])
    y = rng.choice(values, 4_000, p=[0.25, 0.25, 0.2, 0.15, 0.1, 0.05])
    if ColumnKind.CATEGORICAL not in method.kinds:  # the Z-test reads booleans only
        x, y = x == "a", y == "a"
    from vigil.analysis.drift.inputs import counts_from_array, counts_from_profile
    from vigil.profile.columns import BooleanColumn

    boolean = x.dtype == bool
    prof_cols = (
        (BooleanColumn.of(pa.array(x)), BooleanColumn.of(pa.array(y)))
        if boolean
        else (
            StringColumn.of(pa.array(x), ColumnKind.CATEGORICAL),
            StringColumn.of(pa.array(y), ColumnKind.CATEGORICAL),
        )
    )
    prof = method.counts(*(counts_from_profile(c) for c in prof_cols))  # type: ignore[misc]
    exact = method.counts(  # type: ignore[misc]
        counts_from_array(pa.array(x), boolean=boolean),
        counts_from_array(pa.array(y), boolean=boolean),
    )
    assert prof.statistic == pytest.approx(exact.statistic, abs=method.tolerance)
    assert prof.statistic > 0 or method.is_test


def test_ks_error_bound_holds_on_large_skewed_data() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.lognormal(0, 1, 200_000), rng.lognormal(0.02, 1, 150_000)
    prof = get_method("ks").numeric_profile(_col(x), _col(y))  # type: ignore[misc]
    exact = get_method("ks").numeric_exact(np.sort(x), np.sort(y))  # type: ignore[misc]
    assert prof.error_bound is not None
    assert prof.error_bound == pytest.approx(0.033, abs=0.003)  # 2 x 1.65% PMF error of KLL k=200
    assert abs(prof.statistic - exact.statistic) <= prof.error_bound


def test_wasserstein_error_bound_holds_on_heavy_tails() -> None:
    rng = np.random.default_rng(10)
    x, y = rng.standard_t(3, 100_000), rng.standard_t(3, 100_000) + 0.1
    prof = get_method("wasserstein").numeric_profile(_col(x), _col(y))  # type: ignore[misc]
    exact = get_method("wasserstein").numeric_exact(np.sort(x), np.sort(y))  # type: ignore[misc]
    assert prof.error_bound is not None
    assert abs(prof.statistic - exact.statistic) <= prof.error_bound


def test_empty_inputs_give_nan_not_an_error() -> None:
    empty = np.array([], dtype=np.float64)
    for method in NUMERIC:
        assert math.isnan(method.numeric_exact(empty, np.ones(3)).statistic)  # type: ignore[misc]
    for method in COUNTS:
        assert math.isnan(method.counts(Counts.of({}), Counts.of({"a": 1})).statistic)  # type: ignore[misc]


def test_psis_measured_band_covers_every_case_with_a_tiny_false_failure_rate() -> None:
    assert set(psi_band.GAPS) == set(psi_band.cases())
    assert psi_band.false_failure_rate() < 1e-5
    for case in psi_band.GAPS:  # each band narrower than the documented tolerance either side
        low, high = psi_band.band(case)
        assert high - low < 2 * get_method("psi").tolerance
