"""suggest_checks: no false alarms on another sample of the same data, failures on broken data,
and the documented tolerance rules."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import vigil
from vigil.analysis.validation import (
    AllowedCategories,
    MaxInRange,
    MeanInRange,
    MinInRange,
    MissingShareAtMost,
    PatternMatchShareAtLeast,
    StdInRange,
    Suite,
    Unique,
)
from vigil.errors import InvalidInputError

from .conftest import CITIES, sample

EMAIL = r"^[a-z0-9.]+@[a-z0-9.]+\.[a-z]+$"


def _suggest(table: pa.Table, **kwargs: object) -> Suite:
    return vigil.suggest_checks(vigil.profile(table, patterns={"email": [EMAIL]}), **kwargs)  # type: ignore[arg-type]


def _by(suite: Suite, column: str) -> dict[str, object]:
    return {c.type: c for c in suite if c.column == column}


@pytest.mark.parametrize("ref_seed", [11, 12, 13, 14, 15])
def test_no_false_alarms_on_samples_of_the_same_data(ref_seed: int) -> None:
    reference = sample(3_000, ref_seed)
    suite = _suggest(reference)
    assert not suite.validate(reference).failed
    for cur_seed in range(4):
        for n in (1_000, 3_000):
            result = suite.validate(sample(n, 100 * ref_seed + cur_seed + n))
            assert not result.failed, result.summary()


def test_no_false_alarms_on_small_windows_when_told_their_size() -> None:
    suite = _suggest(sample(2_000, 5), window_rows=200)
    for cur_seed in range(10):
        result = suite.validate(sample(200, 500 + cur_seed))
        assert not result.failed, result.summary()


@pytest.fixture(scope="module")
def suggested() -> Suite:
    return _suggest(sample(3_000, seed=1))


@pytest.fixture(scope="module")
def current() -> pa.Table:
    return sample(3_000, seed=2)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _failed(suite: Suite, data: pa.Table) -> set[tuple[str, str]]:
    result = suite.validate(data)
    assert not result.passed
    return {(r.type, r.column) for r in result.failures}


def test_fails_on_out_of_range_values(suggested: Suite, current: pa.Table) -> None:
    ages = current.column("age").to_numpy().copy()
    ages[:30] = 999  # a sentinel in 1% of rows
    assert ("max_in_range", "age") in _failed(suggested, _replace(current, "age", pa.array(ages)))
    scores = current.column("score").to_numpy().copy()
    scores[:5] = -0.5  # a non-negative column goes negative
    assert ("min_in_range", "score") in _failed(
        suggested, _replace(current, "score", pa.array(scores))
    )


def test_fails_when_a_column_goes_40_percent_missing(suggested: Suite, current: pa.Table) -> None:
    rng = np.random.default_rng(0)
    mask = rng.random(current.num_rows) < 0.4
    score = pa.array(current.column("score").to_numpy(), mask=mask)
    assert ("missing_share_at_most", "score") in _failed(
        suggested, _replace(current, "score", score)
    )


def test_fails_on_a_new_category_at_10_percent(suggested: Suite, current: pa.Table) -> None:
    rng = np.random.default_rng(0)
    city = current.column("city").to_numpy(zero_copy_only=False).copy()
    city[rng.random(city.size) < 0.1] = "Paris"
    failed = suggested.validate(_replace(current, "city", pa.array(city)))
    check = next(r for r in failed.failures if r.type == "allowed_categories")
    assert check.column == "city"
    assert "'Paris'" in check.message
    assert check.observed == pytest.approx(0.1, abs=0.02)


def test_fails_on_a_dropped_column(suggested: Suite, current: pa.Table) -> None:
    failed = _failed(suggested, current.drop_columns(["visits"]))
    assert ("column_present", "visits") in failed
    assert {column for _, column in failed} == {"visits"}


def test_fails_on_a_changed_kind(suggested: Suite, current: pa.Table) -> None:
    as_text = pc.cast(current.column("age"), pa.string())
    assert ("kind_is", "age") in _failed(suggested, _replace(current, "age", as_text))


def test_fails_on_duplicated_ids_and_broken_emails(suggested: Suite, current: pa.Table) -> None:
    ids = current.column("user_id").to_pylist()
    ids[:300] = ids[300:600]  # 10% of rows repeat an id (3,000 ids: the sketch path)
    assert ("unique", "user_id") in _failed(suggested, _replace(current, "user_id", pa.array(ids)))
    emails = current.column("email").to_pylist()
    emails[:300] = ["not an email"] * 300
    assert ("pattern_match_share_at_least", "email") in _failed(
        suggested, _replace(current, "email", pa.array(emails))
    )


def test_suggested_checks_per_kind(suggested: Suite) -> None:
    age = _by(suggested, "age")
    assert set(age) == {
        "column_present",
        "kind_is",
        "missing_share_at_most",
        "min_in_range",
        "max_in_range",
        "mean_in_range",
        "std_in_range",
    }
    assert age["mean_in_range"].severity == "warning"  # type: ignore[attr-defined]
    assert age["max_in_range"].severity == "error"  # type: ignore[attr-defined]
    city = _by(suggested, "city")
    allowed = city["allowed_categories"]
    assert isinstance(allowed, AllowedCategories)
    assert set(allowed.values) == set(CITIES)
    assert allowed.max_new_share == 0.01
    assert "distinct_count_in_range" in city
    assert isinstance(_by(suggested, "user_id")["unique"], Unique)
    assert "allowed_categories" not in _by(suggested, "user_id")
    assert isinstance(
        _by(suggested, "email")["pattern_match_share_at_least"], PatternMatchShareAtLeast
    )
    assert set(_by(suggested, "churned")) == {"column_present", "kind_is", "missing_share_at_most"}


def test_suggested_suite_round_trips_through_yaml(suggested: Suite) -> None:
    assert Suite.from_yaml(suggested.to_yaml()) == suggested


def test_suggestions_are_deterministic() -> None:
    table = sample(50_000, seed=3)  # large enough for the KLL sketch to compact (randomly)
    assert _suggest(table) == _suggest(table)


def test_numeric_tolerances_follow_the_documented_rules() -> None:
    values = np.arange(0.0, 10.5, 0.5)  # 0..10, median 5, mean 5
    ref = vigil.profile({"x": values, "neg": -values - 1.0, "mixed": values - 5.0})
    suite = vigil.suggest_checks(ref, window_rows=10**6)
    x = _by(suite, "x")
    assert isinstance(x["min_in_range"], MinInRange)
    assert x["min_in_range"].min == 0.0
    # hi + 0.5 * range = 15 beats hi * (hi / mean) ** 0.5 = 14.14
    assert isinstance(x["max_in_range"], MaxInRange)
    assert x["max_in_range"].max == 15.0
    std = float(values.std(ddof=1))
    mean = x["mean_in_range"]
    assert isinstance(mean, MeanInRange)
    assert mean.min == pytest.approx(5 - 0.5 * std, rel=1e-5)
    assert mean.max == pytest.approx(5 + 0.5 * std, rel=1e-5)
    spread = x["std_in_range"]
    assert isinstance(spread, StdInRange)
    assert spread.min == pytest.approx(std / 1.5, rel=1e-5)
    assert spread.max == pytest.approx(std * 1.5, rel=1e-5)
    neg = _by(suite, "neg")
    assert neg["max_in_range"].max == 0.0  # type: ignore[attr-defined]  # stays non-positive
    assert neg["min_in_range"].min == -16.0  # type: ignore[attr-defined]
    mixed = _by(suite, "mixed")
    assert mixed["min_in_range"].min == -10.0  # type: ignore[attr-defined]
    assert mixed["max_in_range"].max == 10.0  # type: ignore[attr-defined]


def test_heavy_right_tails_get_room() -> None:
    rng = np.random.default_rng(4)
    ref = vigil.profile({"y": rng.lognormal(0, 1, 3_000)})
    bound = _by(vigil.suggest_checks(ref), "y")["max_in_range"]
    assert isinstance(bound, MaxInRange)
    assert bound.max is not None
    column = ref.columns["y"]
    expected = column.max * (column.max / column.mean) ** 0.5  # type: ignore[union-attr]
    assert bound.max == pytest.approx(expected, rel=1e-5)
    for seed in range(10):
        fresh = vigil.profile({"y": np.random.default_rng(100 + seed).lognormal(0, 1, 3_000)})
        assert bound.run(fresh).passed


def test_missing_share_tolerance() -> None:
    values = pa.array(np.arange(1000.0), mask=np.arange(1000) % 10 == 0)  # 10% missing
    suite = vigil.suggest_checks(vigil.profile({"x": values}), window_rows=1000)
    bound = _by(suite, "x")["missing_share_at_most"]
    assert isinstance(bound, MissingShareAtMost)
    p = (100 + 1) / 1002
    noise = 5 * math.sqrt(p * (1 - p) * (1 / 1000 + 1 / 1000))
    assert bound.max_share == pytest.approx(0.1 + max(0.02, 0.05, noise), abs=1e-4)


def test_open_ended_categories_get_no_allowed_list() -> None:
    rng = np.random.default_rng(0)
    common = rng.choice(["a", "b"], 900).tolist()
    rare = [f"r{i}" for i in range(100)]  # 10% of rows are values seen once
    suite = vigil.suggest_checks(vigil.profile({"c": common + rare}))
    assert "allowed_categories" not in _by(suite, "c")
    few = vigil.suggest_checks(vigil.profile({"c": common + rare[:10]}))  # 1% singletons
    allowed = _by(few, "c")["allowed_categories"]
    assert isinstance(allowed, AllowedCategories)
    assert allowed.max_new_share == pytest.approx(0.01 + 2 * 10 / 910, abs=1e-4)


def test_text_columns_get_no_allowed_list() -> None:
    words = [
        f"this is a fairly long free text note number {i % 7} about the account" for i in range(50)
    ]
    suite = vigil.suggest_checks(vigil.profile({"note": words}))
    assert vigil.profile({"note": words}).columns["note"].kind.value == "text"
    assert "allowed_categories" not in _by(suite, "note")


def test_all_null_reference_columns_suggest_no_kind() -> None:
    suite = vigil.suggest_checks(vigil.profile({"x": [None, None], "y": [1, 2]}))
    assert set(_by(suite, "x")) == {"column_present"}


def test_columns_and_data_as_reference() -> None:
    suite = vigil.suggest_checks({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"]}, columns=["a"])
    assert suite.columns() == ["a"]
    with pytest.raises(InvalidInputError, match="no column"):
        vigil.suggest_checks(vigil.profile({"a": [1]}), columns=["zzz"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"range_margin": -1},
        {"mean_margin": math.nan},
        {"std_factor": 0.5},
        {"max_new_share": 2},
        {"window_rows": 0},
        {"min_unique_rows": 1},
        {"statistic_severity": "fatal"},
        {"fail_on": "never"},
    ],
)
def test_bad_options_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError, match=next(iter(kwargs))):
        vigil.suggest_checks(vigil.profile({"a": [1]}), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        [123_456_789, 123_456_790, 123_456_800],  # large integers: 6 digits would cut inward
        [1.23456789e-7, 1.2345679e-7, 1.23457e-7],
        [-98765.4321, -98765.4320],
        [5.0, 5.0, 5.0],  # constant
    ],
)
def test_rounded_bounds_never_fail_the_reference(values: list[float]) -> None:
    ref = vigil.profile({"x": values})
    for margin in (0.0, 0.5):
        suite = vigil.suggest_checks(ref, range_margin=margin, mean_margin=0.0, std_factor=1.0)
        result = suite.validate(ref)
        assert result.passed, result.summary()
