"""Each check against values computed independently with NumPy / Python on the raw data."""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa
import pytest

import vigil
from vigil.analysis.validation import (
    AllowedCategories,
    ColumnPresent,
    DistinctCountInRange,
    KindIs,
    MaxInRange,
    MeanInRange,
    MinInRange,
    MissingShareAtMost,
    PatternMatchShareAtLeast,
    QuantileInRange,
    StdInRange,
    Unique,
)
from vigil.errors import InvalidInputError


@pytest.fixture(scope="module")
def numbers() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.normal(5.0, 2.0, 5_000)


def test_min_max_mean_std_match_numpy(numbers: np.ndarray) -> None:
    prof = vigil.profile({"x": numbers})
    lo, hi = float(numbers.min()), float(numbers.max())
    mean, std = float(numbers.mean()), float(numbers.std(ddof=1))

    assert MinInRange(column="x", min=lo).run(prof).passed
    assert not MinInRange(column="x", min=lo + 1e-9).run(prof).passed
    assert MaxInRange(column="x", max=hi).run(prof).passed
    assert not MaxInRange(column="x", max=hi - 1e-9).run(prof).passed
    result = MeanInRange(column="x", min=mean - 1e-9, max=mean + 1e-9).run(prof)
    assert result.passed
    assert result.observed == pytest.approx(mean, rel=1e-12)
    result = StdInRange(column="x", min=0, max=std - 1e-9).run(prof)
    assert not result.passed
    assert result.observed == pytest.approx(std, rel=1e-12)
    assert result.expected.startswith("in [0, ")


def test_quantile_within_the_sketch_rank_error(numbers: np.ndarray) -> None:
    prof = vigil.profile({"x": numbers})
    for q in (0.1, 0.5, 0.9):
        result = QuantileInRange(column="x", q=q, min=-100, max=100).run(prof)
        assert isinstance(result.observed, float)
        rank = float(np.mean(numbers <= result.observed))
        assert abs(rank - q) <= 0.0133 + 1 / numbers.size
        assert "rank error" in result.message
    exact = QuantileInRange(column="x", q=1.0, max=100).run(prof)
    assert exact.observed == pytest.approx(float(numbers.max()), rel=1e-6)


def test_infinities_count_as_extremes() -> None:
    prof = vigil.profile({"x": [1.0, 2.0, math.inf, -math.inf]})
    top = MaxInRange(column="x", max=10).run(prof)
    bottom = MinInRange(column="x", min=-10).run(prof)
    assert not top.passed
    assert top.observed == math.inf
    assert not bottom.passed
    assert bottom.observed == -math.inf
    assert top.to_dict()["observed"] == "inf"  # JSON has no infinity


def test_missing_share_counts_nulls_and_nan() -> None:
    values = pa.array([1.0, None, math.nan, 4.0, None, 6.0, 7.0, 8.0, 9.0, 10.0])
    prof = vigil.profile({"x": values, "s": pa.array(["a", None, "b", "c", "d"] * 2)})
    result = MissingShareAtMost(column="x", max_share=0.3).run(prof)
    assert result.observed == pytest.approx(0.3)
    assert result.passed
    assert not MissingShareAtMost(column="x", max_share=0.29).run(prof).passed
    assert MissingShareAtMost(column="s", max_share=0.2).run(prof).observed == pytest.approx(0.2)


def test_missing_share_fails_without_rows() -> None:
    prof = vigil.profile({"x": pa.array([], type=pa.float64())})
    result = MissingShareAtMost(column="x", max_share=0.5).run(prof)
    assert not result.passed
    assert result.observed is None
    assert "no rows" in result.message


def test_distinct_count_exact_and_estimated() -> None:
    small = vigil.profile({"c": ["a", "b", "b", None, "c"]})
    assert DistinctCountInRange(column="c", min=3, max=3).run(small).observed == 3
    assert not DistinctCountInRange(column="c", max=2).run(small).passed

    many = [f"v{i}" for i in range(20_000)]
    big = vigil.profile({"c": many + many})
    result = DistinctCountInRange(column="c", min=19_000, max=21_000).run(big)
    assert result.passed
    assert "estimated" in result.message
    assert abs(int(result.observed or 0) - 20_000) / 20_000 < 0.05


def test_allowed_categories_exact_share_and_new_values() -> None:
    values = ["a"] * 80 + ["b"] * 10 + ["x"] * 7 + ["y"] * 3 + [None] * 5
    prof = vigil.profile({"c": values})
    check = AllowedCategories(column="c", values=["a", "b"], max_new_share=0.1)
    result = check.run(prof)
    assert result.observed == pytest.approx(10 / 100)  # of the non-null values
    assert result.passed
    strict = AllowedCategories(column="c", values=["a", "b"]).run(prof)
    assert not strict.passed
    assert "'x' (7)" in strict.message
    assert "'y' (3)" in strict.message


def test_allowed_categories_on_the_sketch_path() -> None:
    rng = np.random.default_rng(3)
    common = rng.choice(["a", "b", "c"], 45_000, p=[0.5, 0.3, 0.2]).tolist()
    rare = [f"rare{i}" for i in range(5_000)]  # 10% new values, 5,000 distinct: not exact
    prof = vigil.profile({"c": common + rare})
    column = prof.columns["c"]
    assert not column.distinct_is_exact  # type: ignore[union-attr]
    result = AllowedCategories(column="c", values=["a", "b", "c"], max_new_share=0.05).run(prof)
    assert not result.passed
    assert result.observed == pytest.approx(0.1, abs=3 * column.categories.epsilon)  # type: ignore[union-attr]
    assert "estimated" in result.message


def test_unique_exact() -> None:
    assert Unique(column="c").run(vigil.profile({"c": ["a", "b", None, None]})).passed
    result = Unique(column="c").run(vigil.profile({"c": ["a", "b", "a"]}))
    assert not result.passed
    assert result.observed == 2
    assert "of 3 non-null" in result.message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unique_on_the_sketch_path(seed: int) -> None:
    ids = [f"id-{seed}-{i}" for i in range(50_000)]
    assert Unique(column="c").run(vigil.profile({"c": ids})).passed
    duplicated = ids[:45_000] + ids[:5_000]  # 10% of rows repeat a value
    result = Unique(column="c").run(vigil.profile({"c": duplicated}))
    assert not result.passed
    assert "CPC" in result.message


def test_pattern_share_matches_python_re() -> None:
    values = ["a@b.org", "bad", "c@d.com", None, "x@y", "no at all", "z@w.net"]
    pattern = r"^\S+@\S+\.\w+$"
    prof = vigil.profile({"e": values}, patterns={"e": [pattern]})
    present = [v for v in values if v is not None]
    share = sum(bool(re.search(pattern, v)) for v in present) / len(present)
    result = PatternMatchShareAtLeast(column="e", pattern=pattern, min_share=0.5).run(prof)
    assert result.observed == pytest.approx(share)
    assert result.passed
    assert not PatternMatchShareAtLeast(column="e", pattern=pattern).run(prof).passed


def test_pattern_not_profiled_fails_with_a_reason() -> None:
    prof = vigil.profile({"e": ["a@b.org"]})
    result = PatternMatchShareAtLeast(column="e", pattern="@").run(prof)
    assert not result.passed
    assert result.observed is None
    assert "was not counted" in result.message
    assert "patterns=suite.patterns()" in result.message


def test_absent_column_and_wrong_kind_fail_without_raising() -> None:
    prof = vigil.profile({"n": [1, 2, 3], "s": ["a", "b", "c"], "none": [None, None, None]})
    absent = MinInRange(column="gone", min=0).run(prof)
    assert not absent.passed
    assert "not in the data" in absent.message
    wrong = MinInRange(column="s", min=0).run(prof)
    assert not wrong.passed
    assert "column is categorical" in wrong.message
    assert "numeric" in wrong.message
    unknown = Unique(column="none").run(prof)
    assert not unknown.passed
    assert "no typed values" in unknown.message
    assert not ColumnPresent(column="gone").run(prof).passed
    assert ColumnPresent(column="none").run(prof).passed
    kind = KindIs(column="n", kind="categorical").run(prof)
    assert not kind.passed
    assert kind.observed == "numeric"
    assert kind.expected == "categorical"


def test_mean_of_a_boolean_is_the_true_share() -> None:
    prof = vigil.profile({"b": [True, False, False, True, None]})
    result = MeanInRange(column="b", min=0.4, max=0.6).run(prof)
    assert result.passed
    assert result.observed == pytest.approx(0.5)


def test_statistics_without_values_are_unavailable() -> None:
    prof = vigil.profile({"x": pa.array([math.nan, None], type=pa.float64())})
    for check in (
        MinInRange(column="x", min=0),
        MeanInRange(column="x", min=0),
        StdInRange(column="x", max=1),
        QuantileInRange(column="x", q=0.5, max=1),
    ):
        result = check.run(prof)
        assert not result.passed, check
        assert result.observed is None, check


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: MinInRange(column="x", min=3, max=1), "greater than 'max'"),
        (lambda: MinInRange(column="x"), "at least one of"),
        (lambda: MinInRange(column="x", min="3"), "parameter 'min'"),
        (lambda: MinInRange(column="x", min=math.nan), "parameter 'min'"),
        (lambda: MinInRange(column="x", min=True), "parameter 'min'"),
        (lambda: MinInRange(column="x", min=1, severity="fatal"), "'severity'"),
        (lambda: MinInRange(column="x", min=1, bogus=2), "unknown parameter 'bogus'"),
        (lambda: MinInRange(column="", min=1), "'column'"),
        (lambda: QuantileInRange(column="x", q=1.5, max=1), "parameter 'q'"),
        (lambda: StdInRange(column="x", min=-1), "parameter 'min'"),
        (lambda: MissingShareAtMost(column="x", max_share=2), "'max_share'"),
        (lambda: AllowedCategories(column="x", values=[]), "'values'"),
        (lambda: AllowedCategories(column="x", values=[1, 2]), "quote it in YAML"),
        (lambda: PatternMatchShareAtLeast(column="x", pattern="("), "not a valid regular"),
        (lambda: PatternMatchShareAtLeast(column="x", pattern="(?<=a)b"), "not a valid regular"),
        (lambda: KindIs(column="x", kind="number"), "unknown column kind 'number'"),
        (lambda: DistinctCountInRange(column="x", min=5, max=2), "greater than 'max'"),
    ],
)
def test_bad_parameters_are_rejected_at_construction(make: object, words: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(words)):
        make()  # type: ignore[operator]


def test_checks_are_frozen() -> None:
    check = MinInRange(column="x", min=0)
    with pytest.raises(Exception, match="frozen"):
        check.min = 5  # type: ignore[misc]


def test_datetime_in_range_is_exact_to_the_microsecond() -> None:
    import datetime as dt

    from vigil.analysis.validation import DatetimeInRange

    first = dt.datetime(2026, 1, 1, 0, 0, 0, 1)
    values = pa.array([first, dt.datetime(2026, 3, 1), None], type=pa.timestamp("us"))
    prof = vigil.profile({"t": values})
    assert DatetimeInRange(column="t", min="2026-01-01T00:00:00.000001Z").run(prof).passed
    late = DatetimeInRange(column="t", min="2026-01-01T00:00:00.000002+00:00").run(prof)
    assert not late.passed
    assert late.observed == "2026-01-01T00:00:00.000001+00:00 to 2026-03-01T00:00:00+00:00"
    assert not DatetimeInRange(column="t", max=dt.date(2026, 2, 1)).run(prof).passed
    # a zone is honoured: 01:00 in Paris is midnight UTC
    paris = dt.timezone(dt.timedelta(hours=1))
    assert (
        DatetimeInRange(column="t", max=dt.datetime(2026, 3, 1, 1, tzinfo=paris)).run(prof).passed
    )
    with pytest.raises(InvalidInputError, match="not an ISO 8601 time"):
        DatetimeInRange(column="t", min="yesterday")
    with pytest.raises(InvalidInputError, match="is after 'max'"):
        DatetimeInRange(column="t", min="2026-02-01", max="2026-01-01")
