"""Merge is associative and commutative, with the empty profile as identity (hypothesis).

Exact parts (counts, moments, extremes, exact category counts) must agree to 1e-9 relative; the KLL
part is randomised inside DataSketches, so its answers are compared by rank within the bound.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil
from tests.sketch_bounds import assert_quantiles_within
from vigil.profile import DatasetProfile
from vigil.profile.columns.numeric import NumericColumn

floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.none(),
)
words = st.one_of(st.none(), st.sampled_from(["red", "green", "blue", "ünïcødé", "", "x" * 300]))


@st.composite
def tables(draw: Any) -> pa.Table:
    n = draw(st.integers(min_value=0, max_value=40))
    return pa.table(
        {
            "num": pa.array(draw(st.lists(floats, min_size=n, max_size=n)), type=pa.float64()),
            "word": pa.array(draw(st.lists(words, min_size=n, max_size=n)), type=pa.string()),
            "flag": pa.array(
                draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)),
                type=pa.bool_(),
            ),
        }
    )


def _exact_view(p: DatasetProfile) -> dict[str, Any]:
    """Everything a profile holds exactly, with floats rounded to compare within 1e-9 relative."""
    view: dict[str, Any] = {"n_rows": p.n_rows}
    for name, column in sorted(p.columns.items()):
        d = column.to_dict()
        d.pop("quantiles", None)
        if "top" in d:
            d["top"] = sorted((t["value"], t["count"]) for t in d["top"])
        view[name] = {k: _round(v) for k, v in d.items()}
    return view


def _round(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return float(f"{value:.9e}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _close(a: DatasetProfile, b: DatasetProfile) -> None:
    va, vb = _exact_view(a), _exact_view(b)
    assert va.keys() == vb.keys()
    for key in va:
        if isinstance(va[key], dict):
            for field in va[key]:
                x, y = va[key][field], vb[key][field]
                if isinstance(x, float) and isinstance(y, float):
                    assert math.isclose(x, y, rel_tol=1e-8, abs_tol=1e-300), (key, field, x, y)
                else:
                    assert x == y, (key, field, x, y)
        else:
            assert va[key] == vb[key]


settings.register_profile("vigil", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("vigil")


@given(tables(), tables())
@settings(max_examples=60)
def test_merge_is_commutative(a: pa.Table, b: pa.Table) -> None:
    pa_, pb = vigil.profile(a), vigil.profile(b)
    _close(pa_.merge(pb), pb.merge(pa_))


@given(tables(), tables(), tables())
@settings(max_examples=60)
def test_merge_is_associative(a: pa.Table, b: pa.Table, c: pa.Table) -> None:
    pa_, pb, pc = vigil.profile(a), vigil.profile(b), vigil.profile(c)
    _close(pa_.merge(pb).merge(pc), pa_.merge(pb.merge(pc)))


@given(tables())
@settings(max_examples=60)
def test_empty_profile_is_identity(a: pa.Table) -> None:
    p = vigil.profile(a)
    empty = DatasetProfile.empty()
    assert p.merge(empty).to_bytes() == p.to_bytes()
    assert empty.merge(p).to_bytes() == p.to_bytes()


@given(tables(), tables())
@settings(max_examples=40)
def test_merge_equals_profile_of_concatenation(a: pa.Table, b: pa.Table) -> None:
    together = vigil.profile(pa.concat_tables([a, b]))
    _close(vigil.profile(a).merge(vigil.profile(b)), together)


def test_merged_quantiles_stay_within_rank_bound() -> None:
    rng = np.random.default_rng(9)
    chunks = [rng.normal(i, 1, 30_000) for i in range(5)]
    merged = DatasetProfile.merge_all(vigil.profile({"v": c}) for c in chunks)
    column = merged.columns["v"]
    assert isinstance(column, NumericColumn)
    assert_quantiles_within(column, np.concatenate(chunks), (0.1, 0.5, 0.9))


def test_profiles_with_different_columns_merge_to_the_union() -> None:
    a = vigil.profile({"shared": [1.0, 2.0], "only_a": ["x", "y"]})
    b = vigil.profile({"shared": [3.0], "only_b": [True]})
    merged = a.merge(b)
    assert set(merged.columns) == {"shared", "only_a", "only_b"}
    assert merged.n_rows == 3
    assert merged.columns["shared"].count == 3
    assert merged.columns["only_a"].count == 2
    assert merged.columns["only_b"].count == 1


def test_unknown_all_null_column_adopts_the_other_kind() -> None:
    a = vigil.profile({"c": pa.nulls(4)})
    b = vigil.profile({"c": ["x", "y"]})
    for merged in (a.merge(b), b.merge(a)):
        column = merged.columns["c"]
        assert column.kind is vigil.ColumnKind.CATEGORICAL
        assert (column.count, column.null_count) == (6, 4)


def test_windows_merge_to_their_span() -> None:
    import datetime as dt

    day = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    a = vigil.profile({"v": [1.0]}, window=(day, day + dt.timedelta(hours=1)))
    b = vigil.profile(
        {"v": [2.0]}, window=(day + dt.timedelta(hours=5), day + dt.timedelta(hours=6))
    )
    merged = b.merge(a)
    assert merged.window == vigil.Window(day, day + dt.timedelta(hours=6))
