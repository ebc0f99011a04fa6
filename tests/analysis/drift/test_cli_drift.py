"""`vigil drift REFERENCE CURRENT`: formats, exit codes, profiles and data files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.cli import main


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)

    def table(shift: float) -> pa.Table:
        n = 2_000
        return pa.table(
            {
                "x": rng.normal(shift, 1, n),
                "city": rng.choice(np.array(["a", "b", "c"]), n),
                "score": rng.random(n) + shift,
            }
        )

    paths = {name: tmp_path / f"{name}.parquet" for name in ("ref", "same", "moved")}
    pq.write_table(table(0.0), paths["ref"])
    pq.write_table(table(0.0), paths["same"])
    pq.write_table(table(0.6), paths["moved"])
    profile_path = tmp_path / "ref.vgp"
    profile_path.write_bytes(vigil.profile(paths["ref"]).to_bytes())
    paths["ref_vgp"] = profile_path
    return paths


def test_exit_0_without_drift_and_1_with(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(files["ref"]), str(files["same"])]) == 0
    assert "no dataset drift" in capsys.readouterr().out
    assert main(["drift", str(files["ref_vgp"]), str(files["moved"]), "--prediction", "score"]) == 1
    out = capsys.readouterr().out
    assert "DATASET DRIFT" in out
    assert "Prediction drift: score DRIFT" in out
    assert "from profiles" in out


def test_json_follows_the_schema(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["drift", str(files["ref"]), str(files["moved"]), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["dataset_drift"] is True
    assert set(body["columns"]) == {"x", "city", "score"}
    assert body["columns"]["x"]["method"] == "ks"
    assert body["columns"]["x"]["drifted"] is True


def test_method_threshold_columns_and_output_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code = main(
        [
            "drift",
            str(files["ref"]),
            str(files["moved"]),
            "--format",
            "json",
            "-o",
            str(out),
            "--method",
            "psi",
            "--threshold",
            "0.2",
            "--columns",
            "x,score",
        ]
    )
    assert code == 1
    body = json.loads(out.read_text())
    assert list(body["columns"]) == ["x", "score"]
    assert body["columns"]["x"]["method"] == "psi"
    assert body["columns"]["x"]["threshold"] == 0.2


def test_html_needs_an_output_and_writes_one_file(files: dict[str, Path], tmp_path: Path) -> None:
    assert main(["drift", str(files["ref"]), str(files["moved"]), "--format", "html"]) == 2
    out = tmp_path / "r.html"
    assert (
        main(["drift", str(files["ref"]), str(files["moved"]), "--format", "html", "-o", str(out)])
        == 1
    )
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.parquet"], "no such file"),
        (["--threshold", "7"], "p-value level"),
        (["--columns", "nope"], "not in both datasets"),
        (["--method", "bogus"], "bogus"),
    ],
)
def test_bad_input_exits_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    if args[0].endswith(".parquet"):
        argv = ["drift", str(files["ref"]), args[0]]
    else:
        argv = ["drift", str(files["ref"]), str(files["same"]), *args]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
