"""The fast walk of `vigil.server.json_body` agrees with the walk that names the field."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import InvalidInputError
from vigil.server.json_body import MAX_JSON_DEPTH, _acceptable, check_json

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, 2**63, -(2**63) - 1, 2**63 - 1]),
    st.text(max_size=3),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["value", "step", "x"]), inner, max_size=3)
    ),
    max_leaves=20,
)


def _deep(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"value": leaf}
    return leaf


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(_JSON, st.builds(_deep, st.integers(60, 70), _JSON)),
    metric_values=st.booleans(),
)
def test_the_fast_walk_refuses_exactly_what_check_json_names(
    value: Any, metric_values: bool
) -> None:
    try:
        check_json(value, metric_values=metric_values)
        named = None
    except InvalidInputError as error:
        named = error.details["field"]
    if isinstance(value, dict | list):
        assert _acceptable(value, metric_values) == (named is None), named
    if named is not None:
        assert named.startswith("body")


def test_the_depth_limit_is_counted_in_containers() -> None:
    check_json(_deep(MAX_JSON_DEPTH, 1))
    with pytest.raises(InvalidInputError) as refused:
        check_json(_deep(MAX_JSON_DEPTH + 1, 1))
    assert refused.value.details["field"] == "body" + ".value" * MAX_JSON_DEPTH
