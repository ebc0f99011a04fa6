"""`vigil.explain(model_ref, rows)`: model references, input forms, JSON and HTML, bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

import vigil
from vigil.analysis.explain.permutation import permutation_importance
from vigil.errors import InvalidInputError, NotFoundError
from vigil.registry.service import Registry
from vigil.store.core import Store

rng = np.random.default_rng(7)
X = pd.DataFrame(rng.normal(size=(800, 3)), columns=["tenure", "spend", "calls"])
Y = (X.tenure - 0.5 * X.spend + rng.normal(0, 0.5, 800) > 0).astype(int)
MODEL = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(X, Y)


def test_a_registry_uri_an_alias_and_a_version_info_explain_the_same_model(store: Store) -> None:
    registry = Registry(store)
    info = registry.register("churn", MODEL)
    registry.set_alias("churn", "production", info.version)
    rows = X.head(5)
    by_alias = vigil.explain("models:/churn@production", rows, store=store)
    by_version = vigil.explain("models:/churn/1", rows, store=store)
    by_info = vigil.explain(info, rows, store=store)
    direct = vigil.explain(MODEL, rows)
    for explanation in (by_alias, by_version, by_info):
        np.testing.assert_allclose(explanation.contributions, direct.contributions)
        assert explanation.base_value == pytest.approx(direct.base_value)
    assert by_alias.details["model"] == "models:/churn@production"
    assert "model" not in direct.details


def test_wrong_model_references_are_refused_naming_them(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="model URI 'churn' is not valid"):
        vigil.explain("churn", X.head(2), store=store)
    with pytest.raises(NotFoundError, match="no registered model named 'nope'"):
        vigil.explain("models:/nope/1", X.head(2), store=store)
    Registry(store).register("churn", MODEL)
    with pytest.raises(NotFoundError, match="staging"):
        vigil.explain("models:/churn@staging", X.head(2), store=store)
    with pytest.raises(InvalidInputError, match="neither predict nor predict_proba"):
        vigil.explain(object(), X.head(2))


def test_rows_in_every_form_give_the_same_contributions() -> None:
    rows = X.head(4)
    expected = vigil.explain(MODEL, rows).contributions
    forms = [
        pa.Table.from_pandas(rows),
        {c: rows[c].tolist() for c in rows.columns},
        rows.to_dict(orient="records"),
        rows.assign(customer_id=["a", "b", "c", "d"]),  # extra columns are ignored
        rows[["calls", "tenure", "spend"]],  # put in the model's order
    ]
    for form in forms:
        np.testing.assert_allclose(vigil.explain(MODEL, form).contributions, expected)
    linear = LinearRegression().fit(X.to_numpy(), Y)  # fitted without column names
    from_array = vigil.explain(linear, X.to_numpy()[:4], background=X.to_numpy())
    assert from_array.features == ("x0", "x1", "x2")
    assert from_array.additivity_error() < 1e-6


def test_bad_rows_and_options_are_refused_with_what_to_do() -> None:
    with pytest.raises(
        InvalidInputError, match=r"lack the model's feature column\(s\) \['calls'\]"
    ):
        vigil.explain(MODEL, X.drop(columns="calls").head(3))
    with pytest.raises(InvalidInputError, match="no rows"):
        vigil.explain(MODEL, X.head(0))
    linear = LinearRegression().fit(X.to_numpy(), Y)
    frame = X.head(3).assign(city=["a", "b", "c"])
    with pytest.raises(InvalidInputError, match=r"\['city'\] are not numeric"):
        vigil.explain(linear, frame, features=["tenure", "spend", "city"])
    with pytest.raises(InvalidInputError, match="algorithm 'deep' is not known"):
        vigil.explain(MODEL, X.head(3), algorithm="deep")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="target class 'yes' is not one of"):
        vigil.explain(MODEL, X.head(3), target="yes")
    with pytest.raises(InvalidInputError, match="tree explainer cannot read a LinearRegression"):
        vigil.explain(LinearRegression().fit(X, Y), X.head(3), algorithm="tree")
    with pytest.raises(InvalidInputError, match="2-D"):
        vigil.explain(MODEL, np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError, match="cannot be explained"):
        vigil.explain(MODEL, "rows.csv")
    with_nan = X.head(3).assign(spend=[1.0, np.nan, 2.0])
    with pytest.raises(
        InvalidInputError, match="GradientBoostingClassifier could not be explained"
    ):
        vigil.explain(MODEL, with_nan)
    with pytest.raises(InvalidInputError, match="could not score these rows with roc_auc"):
        permutation_importance(MODEL, with_nan, Y[:3])


def test_a_multiclass_model_needs_the_class_to_explain() -> None:
    labels = np.array(["low", "mid", "high"])[rng.integers(0, 3, len(X))]
    model = LogisticRegression().fit(X, labels)
    with pytest.raises(InvalidInputError, match="3 classes .* target=<class label>"):
        vigil.explain(model, X.head(3))
    explanation = vigil.explain(model, X.head(3), target="mid", background=X, background_size=30)
    assert explanation.algorithm == "kernel"
    expected = model.predict_proba(X.head(3))[:, list(model.classes_).index("mid")]
    total = explanation.base_value + explanation.contributions.sum(axis=1)
    np.testing.assert_allclose(total, expected, atol=1e-6)


def test_json_has_each_contribution_the_base_value_and_the_output() -> None:
    explanation = vigil.explain(MODEL, X.head(3))
    body = json.loads(explanation.to_json())
    assert body["algorithm"] == "tree"
    assert body["output_space"] == "log_odds"
    assert body["target"] == 1
    assert body["features"] == ["tenure", "spend", "calls"]
    first = body["rows"][0]
    assert set(first["contributions"]) == {"tenure", "spend", "calls"}
    assert first["values"]["tenure"] == pytest.approx(X.tenure.iloc[0])
    total = body["base_value"] + sum(first["contributions"].values())
    assert total == pytest.approx(MODEL.decision_function(X.head(1))[0], abs=1e-6)
    assert first["output"] == pytest.approx(total, abs=1e-6)


def test_html_is_self_contained_and_shows_every_feature(tmp_path: object) -> None:
    explanation = vigil.explain(MODEL, X.head(2).assign(tenure=[1.5, -2.0]))
    page = explanation.to_html(title="Why <churn>?")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"(src|href)=", page)  # nothing fetched from anywhere
    assert "Why &lt;churn&gt;?" in page
    assert page.count("<section>") == 3  # the summary, then one per row
    for feature in ("tenure", "spend", "calls"):
        assert f"<td>{feature}</td>" in page
    assert "log_odds" in page


def test_html_shows_log_odds_as_probabilities_and_a_summary_plot() -> None:
    rows = X.head(40)
    explanation = vigil.explain(MODEL, rows)
    page = explanation.to_html()
    probability = MODEL.predict_proba(rows.head(1))[0, 1]
    assert f"(probability {probability:.4f})" in page
    summary = page[page.index("<svg") : page.index("</svg>")]
    # one dot per row and feature, features by mean |contribution|, most important first
    assert summary.count("<circle") == 40 * 3
    ranking = explanation.importance().ranking()
    positions = [summary.index(f">{feature}</text>") for feature in ranking]
    assert positions == sorted(positions)
    # the row with the highest tenure is drawn red, the lowest blue
    high, low = rows.tenure.idxmax(), rows.tenure.idxmin()
    assert re.search(
        rf"fill='rgb\(214,69,93\)'[^>]*><title>tenure = {rows.tenure[high]:.6g}", summary
    )
    assert re.search(
        rf"fill='rgb\(47,126,216\)'[^>]*><title>tenure = {rows.tenure[low]:.6g}", summary
    )


def test_permutation_refuses_bad_settings_naming_them() -> None:
    with pytest.raises(InvalidInputError, match="metric 'f1' is not known"):
        permutation_importance(MODEL, X, Y, metric="f1")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="n_repeats must be a positive integer, got 0"):
        permutation_importance(MODEL, X, Y, n_repeats=0)
    with pytest.raises(InvalidInputError, match="one label per row"):
        permutation_importance(MODEL, X, Y[:10])
    regressor = LinearRegression().fit(X, Y)
    with pytest.raises(InvalidInputError, match="'roc_auc' needs predict_proba"):
        permutation_importance(regressor, X, Y, metric="roc_auc")
    custom = permutation_importance(
        regressor,
        X,
        Y,
        metric=lambda y, p: float(np.mean(np.abs(y - p))),
        greater_is_better=False,
        n_repeats=2,
    )
    assert custom.ranking()[0] == "tenure"
    assert custom.values["tenure"] > 0


def test_vigil_explain_is_the_callable_package_and_loads_shap_on_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vigil\n"
        "e = vigil.explain\n"
        "import vigil.explain.api\n"
        "assert vigil.explain is e and callable(e), 'one object: the package, callable'\n"
        "from vigil.explain import explain\n"
        "assert explain is e and e.log_importance is vigil.explain.api.log_importance\n"
        "assert 'shap' not in sys.modules, 'shap loads when something is explained'\n"
        "assert 'explain' in vigil.__all__\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
