"""Statistical quality of the defaults, with fixed seeds (issue 3):

- no drift: two samples of one distribution, 25 columns, 200 repetitions: at most 5% of columns
  flagged, at 1k, 10k and 100k rows (and 1M rows with fewer repetitions; the full protocol is
  benchmarks/drift_false_alarms.py, results in docs/drift.md);
- real drift at 100k rows (mean shift of 0.1 std, variance x1.3, 10% of one category's mass
  moved to another) is detected, on the exact path and on the profile path.

Repetitions reuse a pool of independent samples: repetition (i, j) compares sample i with sample
j (i != j), so 21 samples give 210 valid no-drift comparisons for the cost of 21 profiles.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.analysis.drift._data import DRIFTED_COLUMN, null_table, with_drift
from vigil.analysis.drift import drift
from vigil.profile import DatasetProfile, profile

MAX_FALSE_ALARM_SHARE = 0.05


def _pairs(pool: int, reps: int) -> list[tuple[int, int]]:
    return list(itertools.combinations(range(pool), 2))[:reps]


def _false_alarm_share(samples: list[Any], reps: int) -> float:
    flagged = 0
    pairs = _pairs(len(samples), reps)
    for i, j in pairs:
        report = drift(samples[i], samples[j])
        flagged += len(report.drifted_columns)
        assert len(report.columns) == 25
    return flagged / (25 * len(pairs))


def _profiles(n: int, pool: int, seed: int) -> list[DatasetProfile]:
    return [profile(null_table(n, seed + k)) for k in range(pool)]


@pytest.mark.parametrize("n", [1_000, 10_000])
def test_no_drift_on_profiles_200_repetitions(n: int) -> None:
    share = _false_alarm_share(_profiles(n, 21, seed=1000 * n), reps=200)
    assert share <= MAX_FALSE_ALARM_SHARE


@pytest.mark.slow
def test_no_drift_on_profiles_100k_200_repetitions() -> None:
    share = _false_alarm_share(_profiles(100_000, 21, seed=7), reps=200)
    assert share <= MAX_FALSE_ALARM_SHARE


@pytest.mark.slow
def test_no_drift_on_profiles_1m_fewer_repetitions() -> None:
    share = _false_alarm_share(_profiles(1_000_000, 4, seed=11), reps=6)
    assert share <= MAX_FALSE_ALARM_SHARE


@pytest.mark.slow
def test_no_drift_exact_path_1k_200_repetitions() -> None:
    samples = [null_table(1_000, 5000 + k) for k in range(21)]
    assert drift(samples[0], samples[1]).path == "exact"
    assert _false_alarm_share(samples, reps=200) <= MAX_FALSE_ALARM_SHARE


def test_no_drift_exact_path_10k() -> None:
    samples = [null_table(10_000, 6000 + k) for k in range(8)]
    assert _false_alarm_share(samples, reps=28) <= MAX_FALSE_ALARM_SHARE


@pytest.mark.slow
def test_no_drift_exact_path_100k() -> None:
    samples = [null_table(100_000, 7000 + k) for k in range(4)]
    assert drift(samples[0], samples[1]).path == "exact"
    assert _false_alarm_share(samples, reps=6) <= MAX_FALSE_ALARM_SHARE


@pytest.fixture(scope="module")
def base_100k() -> tuple[dict[str, Any], dict[str, Any]]:
    return null_table(100_000, 42), null_table(100_000, 43)


@pytest.mark.parametrize("kind", list(DRIFTED_COLUMN))
def test_real_drift_at_100k_is_detected(
    kind: str, base_100k: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    reference, current = base_100k
    changed = with_drift(current, kind, seed=1)
    column = DRIFTED_COLUMN[kind]
    exact = drift(reference, changed, columns=[column, "normal_2", "cat_3", "bool_half"])
    assert exact.path == "exact"
    assert exact.drifted_columns == (column,)
    from_profiles = drift(profile(reference), profile(changed))
    assert from_profiles.path == "profile"
    assert from_profiles.drifted_columns == (column,)
    effect = from_profiles.columns[column].effect_size
    threshold = from_profiles.columns[column].effect_threshold
    assert threshold is not None
    # The change is real, clear of the threshold: exactly, with a margin; from the profiles (whose
    # quantile sketches compact at random: their effect moves by a few hundredths between runs),
    # above the threshold.
    assert exact.columns[column].effect_size >= 1.5 * threshold
    assert effect > threshold
