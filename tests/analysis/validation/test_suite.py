"""Suites: running, verdicts by severity, results' outputs, raw data with patterns, YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pytest

import vigil
from vigil.analysis.validation import (
    AllowedCategories,
    ColumnPresent,
    MaxInRange,
    MeanInRange,
    MinInRange,
    MissingShareAtMost,
    PatternMatchShareAtLeast,
    Suite,
    ValidationResult,
)
from vigil.errors import InvalidInputError

DATA = {
    "age": [25, 31, 47, 52, 38],
    "city": ["Oslo", "Lyon", "Oslo", "Rome", None],
    "email": ["a@x.org", "b@x.org", "nope", "c@x.org", "d@x.org"],
}


def _suite(**kwargs: object) -> Suite:
    return Suite(
        [
            ColumnPresent(column="age"),
            MinInRange(column="age", min=30, severity="info"),  # fails (25)
            MaxInRange(column="age", max=50, severity="warning"),  # fails (52)
            MeanInRange(column="age", min=30, max=50),  # passes (38.6)
            AllowedCategories(column="city", values=["Oslo", "Lyon", "Rome"]),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


def test_fail_on_decides_which_failures_count() -> None:
    prof = vigil.profile(DATA)
    result = _suite().validate(prof)
    assert [r.type for r in result.failed] == ["min_in_range", "max_in_range"]
    assert [r.type for r in result.failures] == ["max_in_range"]  # info is only reported
    assert not result.passed
    assert _suite(fail_on="error").validate(prof).passed
    assert _suite().validate(prof, fail_on="error").passed
    assert len(_suite().validate(prof, fail_on="info").failures) == 2
    with pytest.raises(InvalidInputError, match="fail_on"):
        _suite(fail_on="critical")


def test_result_lists_every_check_with_severity_expected_observed() -> None:
    result = _suite().validate(vigil.profile(DATA))
    assert isinstance(result, ValidationResult)
    assert len(result.results) == 5
    body = json.loads(result.to_json())
    assert body["passed"] is False
    assert body["n_rows"] == 5
    assert body["failed_by_severity"] == {"error": 0, "warning": 1, "info": 1}
    rows = body["results"]
    assert [r["type"] for r in rows] == [c.type for c in _suite()]
    assert rows[2] == {
        "type": "max_in_range",
        "column": "age",
        "severity": "warning",
        "passed": False,
        "expected": "<= 50",
        "observed": 52,
        "message": "age: max = 52, expected <= 50",
    }
    assert rows[3]["observed"] == pytest.approx(38.6)
    text = result.summary()
    assert text.startswith("validation FAILED: 2 of 5 checks failed (1 warning, 1 info)")
    assert "age: max = 52, expected <= 50" in text
    assert "3 other checks passed" in text
    assert text.count("\n") < result.summary(show_passed=True).count("\n")


def test_result_is_frozen() -> None:
    result = _suite().validate(vigil.profile(DATA))
    with pytest.raises(AttributeError):
        result.fail_on = "error"  # type: ignore[misc]


def test_raw_data_is_profiled_with_the_suites_patterns() -> None:
    suite = Suite(
        [
            PatternMatchShareAtLeast(column="email", pattern=r"^\S+@\S+$", min_share=0.8),
            PatternMatchShareAtLeast(column="gone", pattern="x"),
        ]
    )
    assert suite.patterns() == {"email": [r"^\S+@\S+$"], "gone": ["x"]}
    result = suite.validate(pa.table(DATA))
    assert result.results[0].passed
    assert result.results[0].observed == pytest.approx(0.8)
    assert not result.results[1].passed
    assert "not in the data" in result.results[1].message
    # The same check on a profile built without patterns says what to do.
    from_profile = suite.validate(vigil.profile(DATA))
    assert "patterns=suite.patterns()" in from_profile.results[0].message


def test_validate_reads_paths(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    pyarrow.csv.write_csv(pa.table(DATA), path)
    assert Suite([MissingShareAtMost(column="city", max_share=0.2)]).validate(path).passed


def test_suite_rejects_what_is_not_a_check() -> None:
    with pytest.raises(InvalidInputError, match=r"checks\[1\] is a dict"):
        Suite([ColumnPresent(column="a"), {"type": "unique"}])  # type: ignore[list-item]


def test_yaml_round_trip_and_files(tmp_path: Path) -> None:
    suite = _suite(name="customers", fail_on="error")
    text = suite.to_yaml()
    assert "type: max_in_range" in text
    assert Suite.from_yaml(text) == suite
    path = tmp_path / "suite.yaml"
    suite.save(path)
    assert Suite.load(path) == suite


def test_yaml_written_by_hand() -> None:
    suite = Suite.from_yaml(
        """
        checks:
          - type: kind_is
            column: age
            kind: numeric
          - {type: missing_share_at_most, column: city, max_share: 0.25, severity: warning}
          - type: allowed_categories
            column: city
            values: [Oslo, Lyon]
            max_new_share: 0.3
        """.replace("        ", "")
    )
    assert suite.fail_on == "warning"
    assert [c.severity for c in suite] == ["error", "warning", "error"]
    result = suite.validate(vigil.profile(DATA))
    assert result.passed, result.summary()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "checks:\n  - {type: frobnicate, column: a}",
            "checks[0]: unknown check type 'frobnicate'",
        ),
        ("checks:\n  - {column: a}", "checks[0] has no 'type'"),
        ("checks:\n  - {type: min_in_range, column: a, min: abc}", "parameter 'min'"),
        ("checks:\n  - {type: min_in_range, column: a, min: '5'}", "got '5'"),
        ("checks:\n  - {type: unique, column: a, severity: fatal}", "parameter 'severity'"),
        ("checks:\n  - {type: unique, column: a, tolerance: 1}", "unknown parameter 'tolerance'"),
        ("checks:\n  - {type: unique}", "missing parameter 'column'"),
        ("checks:\n  - unique", "checks[0] must be a mapping"),
        ("checks: {type: unique}", "'checks' must be a list"),
        ("checks: []\nfail_on: never", "fail_on must be one of"),
        ("checks: []\nrules: []", "unknown suite key(s) ['rules']"),
        ("version: 2\nchecks: []", "version 2 is not supported"),
        ("checks: [", "not valid YAML"),
        ("", "empty"),
        ("- 1\n- 2", "must be a mapping"),
    ],
)
def test_malformed_yaml_names_the_bad_key_and_value(text: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Suite.from_yaml(text)
    assert words in info.value.message


def test_check_errors_name_their_position_and_column() -> None:
    with pytest.raises(InvalidInputError) as info:
        Suite.from_yaml(
            "checks:\n  - {type: unique, column: a}\n"
            "  - {type: max_in_range, column: age, max: [1]}"
        )
    assert info.value.message.startswith("checks[1] (max_in_range on 'age'): parameter 'max'")


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read suite file"):
        Suite.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("checks:\n  - {type: nope, column: a}\n")
    with pytest.raises(InvalidInputError, match=r"bad\.yaml: checks\[0\]: unknown check type"):
        Suite.load(bad)


def test_schema_applies_to_raw_data_only(tmp_path: Path) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("zip\n01234\n75001\n01234\n")
    suite = Suite(
        [
            AllowedCategories(column="zip", values=["01234", "75001"]),
            PatternMatchShareAtLeast(column="zip", pattern="^0", min_share=0.5),
        ]
    )
    as_text = suite.validate(path, schema={"zip": "categorical"})
    assert as_text.passed, as_text.summary()
    assert as_text.results[1].observed == pytest.approx(2 / 3)
    as_numbers = suite.validate(path)
    assert "column is numeric" in as_numbers.results[0].message
    with pytest.raises(InvalidInputError, match="already a profile"):
        suite.validate(vigil.profile(path), schema={"zip": "categorical"})


def test_summary_says_once_that_a_column_is_gone() -> None:
    suite = Suite(
        [
            ColumnPresent(column="gone"),
            MinInRange(column="gone", min=0),
            MaxInRange(column="gone", max=1),
            MinInRange(column="age", min=30),
        ]
    )
    result = suite.validate(vigil.profile(DATA))
    assert len(result.failures) == 4  # every check keeps its own result
    text = result.summary()
    assert "gone: presence = absent, expected present (2 other checks on it could not run)" in text
    assert "gone: min unavailable" not in text
    assert "age: min = 25, expected >= 30" in text
