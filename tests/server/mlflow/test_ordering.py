"""MLflow's `order_by` for the registry searches: the clauses MLflow accepts, its tie-breakers, and
the clauses it refuses (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.server.mlflow.errors import MlflowApiError
from vigil.server.mlflow.ordering import MODEL_VERSIONS, REGISTERED_MODELS


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ([], [("name", True)]),
        (["name DESC"], [("name", False)]),
        (["timestamp"], [("last_updated_timestamp", True), ("name", True)]),
        (["`creation_timestamp` desc"], [("creation_timestamp", False), ("name", True)]),
        (
            ["attribute.last_updated_timestamp  ASC"],
            [("last_updated_timestamp", True), ("name", True)],
        ),
    ],
)
def test_registered_model_clauses(clauses: list[str], expected: list[tuple[str, bool]]) -> None:
    assert REGISTERED_MODELS.parse(clauses) == expected


def test_model_versions_default_and_tie_breakers() -> None:
    assert MODEL_VERSIONS.parse([]) == [
        ("last_updated_timestamp", False),
        ("name", True),
        ("version_number", False),
    ]
    assert MODEL_VERSIONS.parse(["version_number ASC"]) == [
        ("version_number", True),
        ("name", True),
    ]


@pytest.mark.parametrize(
    ("clauses", "says"),
    [
        (["run_id"], "Invalid order by key 'run_id'"),
        (["tags.team"], "Invalid order by key 'tags.team'"),
        (["name UP"], "'UP' is not ASC or DESC"),
        (["name ASC DESC"], "Could not be parsed"),
        (["name", "name DESC"], "duplicate fields"),
        (["timestamp", "last_updated_timestamp"], "duplicate fields"),
        (["name"] * 11, "at most 10"),
    ],
)
def test_refused_clauses_are_invalid_parameter_values(clauses: list[str], says: str) -> None:
    with pytest.raises(MlflowApiError, match=says) as refused:
        REGISTERED_MODELS.parse(clauses)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=30),
    st.sampled_from(["ASC", "DESC"]),
    st.sampled_from(["ASC", "DESC"]),
)
def test_sorting_is_python_s_sort_on_both_keys(
    rows: list[tuple[int, int]], first: str, second: str
) -> None:
    """Each key goes its own direction, the first key first (stable sorts, last key first)."""
    fields = {"version_number": 0, "creation_timestamp": 1}
    got = MODEL_VERSIONS.sort(
        rows,
        [f"version_number {first}", f"creation_timestamp {second}"],
        lambda row, field: row[fields[field]] if field in fields else 0,
    )
    sign = {"ASC": 1, "DESC": -1}
    assert got == sorted(rows, key=lambda r: (sign[first] * r[0], sign[second] * r[1]))
