"""`vigil.drift`: options, paths, decisions and the report's contents."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.analysis.drift import DriftReport, drift
from vigil.errors import InvalidInputError
from vigil.schema import ColumnKind


def _tables(
    n: int = 3_000, seed: int = 0, shift: float = 0.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)

    def table(delta: float, m: int) -> dict[str, Any]:
        return {
            "x": rng.normal(delta, 1, m),
            "k": rng.integers(0, 100, m).astype(np.int64),
            "city": rng.choice(np.array(["oslo", "lyon", "rome"]), m, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(m) < 0.3 + delta / 4,
        }

    return table(0.0, n), table(shift, n)


def test_defaults_by_kind_and_exact_path_for_small_raw_data() -> None:
    ref, cur = _tables()
    report = drift(ref, cur)
    assert report.path == "exact"
    methods = {name: c.method for name, c in report.columns.items()}
    assert methods == {"x": "ks", "k": "ks", "city": "chi_square", "flag": "z_test"}
    kinds = {name: c.kind for name, c in report.columns.items()}
    assert kinds["city"] is ColumnKind.CATEGORICAL
    assert kinds["flag"] is ColumnKind.BOOLEAN
    assert not report.dataset_drift
    assert report.drifted_columns == ()
    assert all(c.p_value is not None and c.p_value > 0.001 for c in report.columns.values())


def test_profiles_use_the_profile_path_and_agree_with_exact() -> None:
    ref, cur = _tables(shift=0.5)
    exact = drift(ref, cur)
    from_profiles = drift(vigil.profile(ref), vigil.profile(cur))
    assert from_profiles.path == "profile"
    assert exact.drifted_columns == from_profiles.drifted_columns == ("x", "flag")
    for name in ("x", "k"):
        a, b = exact.columns[name], from_profiles.columns[name]
        assert abs(a.statistic - b.statistic) <= (b.error_bound or 0)
    # counts are exact in profiles: the same chi-square
    assert exact.columns["city"].statistic == pytest.approx(from_profiles.columns["city"].statistic)


def test_mixed_raw_and_profile_uses_profiles_and_exact_true_needs_raw() -> None:
    ref, cur = _tables()
    assert drift(ref, vigil.profile(cur)).path == "profile"
    with pytest.raises(InvalidInputError, match="exact=True needs raw data"):
        drift(ref, vigil.profile(cur), exact=True)
    assert drift(ref, cur, exact=False).path == "profile"


def test_accepts_pandas_and_parquet_paths(tmp_path: Path) -> None:
    ref, cur = _tables(shift=0.5)
    path = tmp_path / "cur.parquet"
    pq.write_table(pa.table(cur), path)
    report = drift(pd.DataFrame(ref), path)
    assert report.path == "exact"
    assert "x" in report.drifted_columns
    assert report.reference_rows == report.current_rows == 3_000


def test_global_method_applies_where_it_fits() -> None:
    ref, cur = _tables(shift=0.5)
    report = drift(ref, cur, method="psi")
    assert {c.method for c in report.columns.values()} == {"psi"}
    assert all(c.p_value is None and c.threshold == 0.1 for c in report.columns.values())
    assert report.columns["x"].drifted  # PSI of a half-std shift is ~0.25
    ks_only = drift(ref, cur, method="ks", threshold=0.01)
    assert ks_only.columns["city"].method == "chi_square"  # KS does not read categories
    assert ks_only.columns["city"].threshold == 0.05
    assert ks_only.columns["x"].threshold == 0.01


def test_per_column_overrides() -> None:
    ref, cur = _tables(shift=0.5)
    report = drift(
        ref, cur, per_column={"x": {"method": "wasserstein", "threshold": 0.9}, "city": "js"}
    )
    assert report.columns["x"].method == "wasserstein"
    assert not report.columns["x"].drifted  # 0.5 < 0.9
    assert report.columns["city"].method == "jensen_shannon"
    assert report.columns["k"].method == "ks"
    with pytest.raises(InvalidInputError, match="does not accept categorical column 'city'"):
        drift(ref, cur, per_column={"city": "ks"})
    with pytest.raises(InvalidInputError, match="not compared"):
        drift(ref, cur, per_column={"nope": "ks"})
    with pytest.raises(InvalidInputError, match="per_column"):
        drift(ref, cur, per_column={"x": 3})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 1.5}, "p-value level in \\(0, 1\\)"),
        ({"method": "psi", "threshold": -1}, "positive distance"),
        ({"method": "bogus"}, "unknown drift method"),
        ({"drift_share": 0}, "drift_share"),
        ({"correction": "holm"}, "correction"),
        ({"effect_threshold": {"text": 1}}, "effect_threshold"),
        ({"effect_threshold": -1}, "effect_threshold"),
        ({"columns": ["x", "nope"]}, "not in both datasets"),
        ({"prediction_columns": ["nope"]}, "prediction column 'nope'"),
        ({"prediction_columns": ["x"], "target_columns": ["x"]}, "both prediction and target"),
    ],
)
def test_bad_options_name_the_problem(kwargs: dict[str, Any], message: str) -> None:
    ref, cur = _tables(n=200)
    with pytest.raises(InvalidInputError, match=message):
        drift(ref, cur, **kwargs)


def test_roles_name_prediction_and_target_drift() -> None:
    ref, cur = _tables(shift=0.5)
    report = drift(ref, cur, prediction_columns=["x"], target_columns=["flag"])
    assert report.columns["x"].role == "prediction"
    assert report.columns["flag"].role == "target"
    assert report.columns["k"].role == "feature"
    assert report.prediction_drift
    assert report.target_drift
    text = report.summary()
    assert "Prediction drift: x DRIFT" in text
    assert "Target drift: flag DRIFT" in text


def test_missing_share_and_new_categories_are_reported() -> None:
    rng = np.random.default_rng(1)
    n = 2_000
    income = rng.normal(0, 1, n)
    income_cur = income.copy()
    income_cur[: n // 5] = np.nan
    ref = {"income": income, "pay": np.array(["card", "cash"] * (n // 2))}
    cur = {"income": income_cur, "pay": np.array(["card", "cash", "card", "crypto"] * (n // 4))}
    report = drift(ref, cur)
    c = report.columns["income"]
    assert c.reference_missing_share == 0.0
    assert c.current_missing_share == pytest.approx(0.2)
    assert c.missing_share_change == pytest.approx(0.2)
    pay = report.columns["pay"]
    assert [(n.value, n.share) for n in pay.new_categories] == [("crypto", 0.25)]
    assert pay.new_category_share == pytest.approx(0.25)
    body = report.to_dict()["columns"]["pay"]
    assert body["new_categories"] == [{"value": "crypto", "share": 0.25}]


def test_skipped_columns_say_why() -> None:
    n = 500
    rng = np.random.default_rng(2)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    ref = {
        "id": np.array([f"id{i}" for i in range(n)]),
        "at": start + np.arange(n).astype("timedelta64[s]"),
        "x": rng.normal(size=n),
        "only_ref": rng.normal(size=n),
    }
    cur = {
        "id": np.array([f"id{i + n}" for i in range(n)]),
        "at": start + np.arange(n).astype("timedelta64[s]"),
        "x": rng.normal(size=n),
    }
    report = drift(ref, cur)
    assert list(report.columns) == ["x"]
    assert "identifier" in report.skipped["id"]
    assert "datetime" in report.skipped["at"]
    assert "only_ref" not in report.skipped
    assert "only_ref" not in report.columns


def test_benjamini_hochberg_and_no_correction() -> None:
    ref, cur = _tables(shift=0.05, n=2_000, seed=3)
    bh = drift(ref, cur)
    raw = drift(ref, cur, correction="none")
    for name, c in bh.columns.items():
        assert c.p_value is not None
        assert c.adjusted_p_value is not None
        assert c.adjusted_p_value >= c.p_value - 1e-15
        assert raw.columns[name].adjusted_p_value == raw.columns[name].p_value
    ps = sorted(c.p_value for c in bh.columns.values() if c.p_value is not None)
    assert min(c.adjusted_p_value or 1 for c in bh.columns.values()) == pytest.approx(
        min(p * len(ps) / (i + 1) for i, p in enumerate(ps))
    )


def test_significant_but_tiny_change_needs_the_effect_size() -> None:
    rng = np.random.default_rng(4)
    n = 100_000
    ref, cur = {"x": rng.normal(0, 1, n)}, {"x": rng.normal(0.03, 1, n)}
    gated = drift(ref, cur)
    c = gated.columns["x"]
    assert c.adjusted_p_value is not None
    assert c.adjusted_p_value < 1e-6
    assert c.effect_size < 0.05
    assert not c.drifted
    assert drift(ref, cur, effect_threshold=0).columns["x"].drifted
    assert drift(ref, cur, effect_threshold={"numeric": 0.01}).columns["x"].drifted


def test_dataset_verdict_follows_the_drift_share() -> None:
    ref, cur = _tables(shift=0.5)  # x and flag drift: 2 of 4 columns
    assert drift(ref, cur).share_drifted == 0.5
    assert drift(ref, cur).dataset_drift
    assert not drift(ref, cur, drift_share=0.75).dataset_drift
    only = drift(ref, cur, columns=["x"])
    assert list(only.columns) == ["x"]
    assert only.share_drifted == 1.0


def test_to_dict_follows_the_design_schema() -> None:
    ref, cur = _tables(shift=0.5)
    body = json.loads(drift(ref, cur).to_json())
    assert isinstance(body["dataset_drift"], bool)
    assert isinstance(body["share_drifted"], float)
    for column in body["columns"].values():
        assert {"kind", "method", "statistic", "p_value", "threshold", "drifted"} <= set(column)
        assert isinstance(column["kind"], str)
        assert isinstance(column["method"], str)
        assert isinstance(column["statistic"], float)
        assert column["p_value"] is None or isinstance(column["p_value"], float)
        assert isinstance(column["threshold"], float)
        assert isinstance(column["drifted"], bool)


def test_report_is_frozen_and_sorted_by_drift() -> None:
    ref, cur = _tables(shift=0.5)
    report = drift(ref, cur)
    assert isinstance(report, DriftReport)
    with pytest.raises(AttributeError):
        report.dataset_drift = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.columns["x"] = report.columns["k"]  # type: ignore[index]
    order = [c.name for c in report.sorted_columns()]
    assert set(order[:2]) == {"x", "flag"}


def test_constant_and_all_missing_columns() -> None:
    ref = {"c": np.ones(300), "gone": np.ones(300)}
    cur = {"c": np.ones(300), "gone": np.full(300, np.nan)}
    report = drift(ref, cur)
    assert not report.columns["c"].drifted
    assert report.columns["c"].statistic == 0.0
    assert "no finite values in the current" in report.skipped["gone"]
    assert json.loads(report.to_json())  # NaN never reaches JSON
    assert not math.isnan(report.share_drifted)


def test_vigil_exports_drift() -> None:
    assert vigil.drift is drift
    assert vigil.DriftReport is DriftReport


def test_csv_and_polars_inputs_on_the_exact_path(tmp_path: Path) -> None:
    import polars as pl

    rng = np.random.default_rng(8)
    n = 1_000
    zips = np.array(["01234", "04567", "10001"])
    ref = {"zip": rng.choice(zips, n), "x": rng.normal(0, 1, n)}
    cur = {"zip": rng.choice(zips, n, p=[0.1, 0.1, 0.8]), "x": rng.normal(0, 1, n)}
    path = tmp_path / "cur.csv"
    pd.DataFrame(cur).to_csv(path, index=False)
    report = drift(pl.DataFrame(ref), path, schema={"zip": "categorical"})
    assert report.path == "exact"
    assert report.columns["zip"].kind is ColumnKind.CATEGORICAL
    assert report.columns["zip"].new_categories == ()  # leading zeros kept on both sides
    assert "zip" in report.drifted_columns
