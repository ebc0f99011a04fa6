from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigil.cli import main
from vigil.client.tracking.run import start_run
from vigil.store.core import Store


def test_search_show_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    store = Store.open(url, str(tmp_path / "art"))
    ids = []
    for model, auc in (("xgb", 0.9), ("rf", 0.8)):
        with start_run("churn", model, store=store, capture=False) as run:
            run.log_params({"model": model, "seed": 1})
            run.log_metric("auc", auc)
        ids.append(run.id)
    store.close()
    opts = ["--store", url, "--artifacts", str(tmp_path / "art")]
    assert main(["runs", "search", "churn", "-f", "metrics.auc > 0.85", *opts]) == 0
    out = capsys.readouterr().out
    assert ids[0] in out
    assert ids[1] not in out
    assert main(["runs", "search", "--json", "-o", "metrics.auc", *opts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["info"]["id"] for r in rows] == [ids[1], ids[0]]
    assert main(["runs", "show", ids[0], "--json", *opts]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == {"model": "xgb", "seed": "1"}
    assert main(["runs", "show", ids[0], *opts]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["FIELD", "VALUE"]
    assert ["model", "xgb"] in [line.split() for line in lines]
    assert main(["runs", "compare", *ids, *opts]) == 0
    out = capsys.readouterr().out
    assert "params.model" in out
    assert "params.seed" not in out
    assert main(["runs", "search", "-f", "metrics.auc >", *opts]) == 2
    assert "expected a value" in capsys.readouterr().err
