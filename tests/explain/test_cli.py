"""`vigil explain rows|importance|show` on a real store; bad input exits with code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from tests.cli.commands import table
from vigil.cli import cli
from vigil.registry.service import Registry
from vigil.store.core import Store

rng = np.random.default_rng(5)
X = pd.DataFrame(rng.normal(size=(500, 3)), columns=["tenure", "spend", "calls"])
Y = (2 * X.tenure - X.spend + rng.normal(0, 0.3, 500) > 0).astype(int)
MODEL = LogisticRegression().fit(X, Y)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    monkeypatch.setenv("VIGIL_STORE_URL", store_url)
    monkeypatch.setenv("VIGIL_ARTIFACTS_URL", str(tmp_path / "artifacts"))
    store = Store.open(store_url, str(tmp_path / "artifacts"))
    Registry(store).register("churn", MODEL)
    store.close()
    X.assign(churned=Y).to_parquet(tmp_path / "valid.parquet")
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_rows_as_text_json_and_html(env: Path) -> None:
    data = str(env / "valid.parquet")
    code, out = _run("explain", "rows", "models:/churn/1", data, "--max-rows", "2")
    assert code == 0, out
    assert out.splitlines()[0].startswith("linear explainer, output log_odds, base value")
    assert out.splitlines()[1].startswith("row 0: output")
    code, out = _run(
        "explain", "rows", "models:/churn/1", data, "--max-rows", "3", "--format", "json"
    )
    body = json.loads(out)
    margin = MODEL.decision_function(X.head(3))
    for row, expected in zip(body["rows"], margin, strict=True):
        assert body["base_value"] + sum(row["contributions"].values()) == pytest.approx(
            expected, abs=1e-6
        )
    page = env / "why.html"
    code, out = _run(
        "explain", "rows", "models:/churn/1", data, "--format", "html", "-o", str(page)
    )
    assert (code, out) == (0, f"wrote 500 rows to {page}\n")
    assert "<script" not in page.read_text()


def test_importance_logged_to_the_version_and_shown(env: Path) -> None:
    data = str(env / "valid.parquet")
    code, out = _run(
        "explain",
        "importance",
        "models:/churn/1",
        data,
        "--label",
        "churned",
        "--log",
        "--repeats",
        "2",
    )
    assert code == 0, out
    rows = table("\n".join(out.splitlines()[:4]))
    assert [row[0] for row in rows] == ["FEATURE", "tenure", "spend", "calls"]
    assert out.splitlines()[-1] == "logged permutation importances to models:/churn/1"
    code, out = _run("explain", "show", "--version", "models:/churn/1", "--json")
    assert code == 0
    assert set(json.loads(out)) == {"tenure", "spend", "calls"}


def test_bad_input_exits_2_with_the_reason(env: Path) -> None:
    data = str(env / "valid.parquet")
    code, out = _run("explain", "rows", "churn", data)
    assert code == 2
    assert "model URI 'churn' is not valid" in out
    code, out = _run("explain", "rows", "models:/churn/1", str(env / "nope.parquet"))
    assert code == 2
    assert "does not exist" in out
    code, out = _run("explain", "importance", "models:/churn/1", data)
    assert code == 2
    assert "needs --label" in out
    code, out = _run("explain", "show", "--version", "models:/churn/1")
    assert code == 2
    assert "no importances logged" in out
