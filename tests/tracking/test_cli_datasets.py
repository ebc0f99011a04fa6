from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vigil.cli import main


def test_add_list_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path / "art")]
    rng = np.random.default_rng(0)
    a = tmp_path / "a.csv"
    pd.DataFrame({"x": rng.normal(0, 1, 1000), "c": rng.choice(["u", "v"], 1000)}).to_csv(
        a, index=False
    )
    b = tmp_path / "b.csv"
    pd.DataFrame({"x": rng.normal(3, 1, 1000), "d": rng.normal(0, 1, 1000)}).to_csv(b, index=False)
    assert main(["datasets", "add", str(a), "--name", "train", *store]) == 0
    assert capsys.readouterr().out.startswith("train@1  sha256:")
    assert main(["datasets", "add", str(a), "--name", "train", *store]) == 0
    assert capsys.readouterr().out.startswith("train@1  ")  # same content, same version
    assert main(["datasets", "add", str(b), "--name", "train", *store]) == 0
    assert capsys.readouterr().out.startswith("train@2  ")
    assert main(["datasets", "list", "--json", *store]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(v["name"], v["version"], v["n_rows"]) for v in listed] == [
        ("train", 1, 1000),
        ("train", 2, 1000),
    ]
    assert main(["datasets", "diff", "train@1", "train@2", *store]) == 1
    out = capsys.readouterr().out
    assert "+ d" in out
    assert "- c" in out
    assert "drifted columns: x" in out
    assert main(["datasets", "diff", "train@1", "train@1", "--format", "json", *store]) == 0
    assert json.loads(capsys.readouterr().out)["same_content"] is True
    assert main(["datasets", "diff", "train@1", "nope", *store]) == 2
    assert "no dataset version 'nope'" in capsys.readouterr().err
