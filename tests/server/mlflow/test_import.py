"""`vigil import mlflow`: real MLflow stores (an mlruns folder and a SQLite database, written by
the mlflow client) brought into Vigil whole, and importing twice changes nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vigil.cli import main as vigil_main
from vigil.registry.service import Registry
from vigil.store.core import Store
from vigil.tracking.service import TrackingService

pytestmark = pytest.mark.slow

MAKE = Path(__file__).with_name("make_store.py")


def _make_store(uri: str, workdir: Path) -> str:
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    done = subprocess.run(
        [sys.executable, str(MAKE), uri, str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("kind", ["mlruns", "sqlite"])
def test_an_mlflow_store_is_imported_whole_and_once(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "mlruns":
        uri = str(tmp_path / "mlruns")
        run_id = _make_store(f"file://{uri}", tmp_path)
    else:
        uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
        run_id = _make_store(uri, tmp_path)
    store_args = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path / "a")]

    assert vigil_main(["import", "mlflow", uri, *store_args, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["runs_imported"] == 3
    assert first["metric_points"] == 52  # 50 loss + 1 NaN + 1 auc, repeats dropped
    assert first["artifacts"] == 1
    assert (first["versions_imported"], first["aliases_set"]) == (1, 1)
    assert first["warnings"] == []

    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    try:
        tracking = TrackingService(store)
        run = tracking.get_run(run_id)
        assert run.info.name == "a"
        assert run.info.status.value == "finished"
        assert run.info.end_ms is not None
        assert run.info.end_ms >= run.info.start_ms > 0
        assert run.params == {"C": "1", "model/kind": "lr"}
        assert run.tags["team"] == "risk"
        assert run.metrics["loss"] == pytest.approx(1 / 50)
        assert np.isnan(run.metrics["nan_metric"])
        history = tracking.metric_history(run_id, "loss")
        assert [p.step for p in history] == list(range(50))
        assert [p.value for p in history] == pytest.approx([1 / (s + 1) for s in range(50)])
        assert tracking.get_artifact(run_id, "docs/notes.txt") == b"hi"
        statuses = sorted(r.info.status.value for r in tracking.search_runs(["churn"]).runs)
        assert statuses == ["failed", "finished", "finished"]
        registry = Registry(store)
        version = registry.get_alias("churn-model", "production")
        assert (version.version, version.run_id, version.source_format) == (1, run_id, "mlflow")
        assert version.tags == {"validated": "yes"}
        model = registry.load("churn-model", 1)
        assert model.predict(np.zeros((2, 2))).shape == (2,)
    finally:
        store.close()

    assert vigil_main(["import", "mlflow", uri, *store_args, "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert (second["runs_imported"], second["runs_skipped"]) == (0, 3)
    assert (second["metric_points"], second["versions_imported"]) == (0, 0)
    assert (second["versions_skipped"], second["aliases_set"]) == (1, 0)


def test_a_missing_path_or_a_foreign_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_args = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path / "a")]
    assert vigil_main(["import", "mlflow", str(tmp_path / "nope"), *store_args]) == 2
    assert "no MLflow store at" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "file.txt").write_text("x")
    assert vigil_main(["import", "mlflow", str(tmp_path / "plain"), *store_args]) == 2
    assert "is not an MLflow store" in capsys.readouterr().err
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert vigil_main(["import", "mlflow", f"sqlite:///{other}", *store_args]) == 2
    assert "not an MLflow store" in capsys.readouterr().err
