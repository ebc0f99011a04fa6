"""Property: any valid suite survives to_yaml -> from_yaml unchanged. Strategies are derived from
each registered check's fields, so a new check is covered without editing this file."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import annotated_types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.analysis.validation import CHECKS, Check, Suite
from vigil.analysis.validation.base import SEVERITIES
from vigil.errors import InvalidInputError
from vigil.schema import ColumnKind

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
PATTERNS = st.sampled_from([r"^\S+@\S+$", "[0-9]{3}", "abc", r"^\d+(\.\d+)?$", "é+", "a|b"])


def _bounds(metadata: list[Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            found["min_value"] = float(item.ge)  # type: ignore[arg-type]
        if isinstance(item, annotated_types.Le):
            found["max_value"] = float(item.le)  # type: ignore[arg-type]
    return found


def _for(name: str, annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    if name == "severity":
        return st.sampled_from(SEVERITIES)
    if name == "pattern":
        return PATTERNS
    if name == "column":
        return TEXT.filter(bool)
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return st.none() | _for(name, inner, metadata)
    bounds = _bounds(metadata)
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False, **bounds)
    if annotation is int:
        lo = int(bounds.get("min_value", -(10**12)))
        return st.integers(lo, int(bounds.get("max_value", 10**12)))
    if annotation is dt.datetime:
        return st.datetimes(timezones=st.sampled_from([dt.UTC, None]))
    if annotation is ColumnKind:
        return st.sampled_from(list(ColumnKind))
    if typing.get_origin(annotation) is tuple:
        return st.lists(TEXT, min_size=1, max_size=8)
    if annotation is str:
        return TEXT
    raise AssertionError(f"no strategy for field {name!r}: {annotation!r}; add one here")


@st.composite
def checks(draw: st.DrawFn, only: type[Check] | None = None) -> Check:
    cls = only or draw(st.sampled_from(sorted(CHECKS.values(), key=lambda c: c.type)))
    params = {
        name: draw(_for(name, field.annotation, field.metadata))
        for name, field in cls.model_fields.items()
    }
    try:
        return cls(**params)
    except InvalidInputError:
        # e.g. min > max: draw again rather than test invalid suites
        return cls.example(params["column"])


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(checks(), max_size=6),
    fail_on=st.sampled_from(SEVERITIES),
    name=st.none() | TEXT,
)
def test_yaml_round_trip(items: list[Check], fail_on: Any, name: str | None) -> None:
    suite = Suite(items, fail_on=fail_on, name=name)
    text = suite.to_yaml()
    back = Suite.from_yaml(text)
    assert back == suite
    assert back.to_yaml() == text
    assert Suite.from_dict(suite.to_dict()) == suite


@pytest.mark.parametrize("check_type", sorted(CHECKS))
def test_every_check_type_round_trips(check_type: str) -> None:
    """Each registered check on its own, so none depends on a random draw reaching it."""

    @settings(max_examples=25, deadline=None)
    @given(checks(CHECKS[check_type]))
    def round_trip(check: Check) -> None:
        suite = Suite(checks=[check])
        assert Suite.from_yaml(suite.to_yaml()) == suite

    round_trip()
