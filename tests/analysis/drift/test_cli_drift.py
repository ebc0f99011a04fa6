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


def _eight_columns(tmp_path: Path, drifted: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    n = 3_000
    ref = {f"c{i}": rng.normal(0, 1, n) for i in range(8)}
    cur = {f"c{i}": rng.normal(1.0 if i < drifted else 0.0, 1, n) for i in range(8)}
    paths = tmp_path / "ref8.parquet", tmp_path / "cur8.parquet"
    pq.write_table(pa.table(ref), paths[0])
    pq.write_table(pa.table(cur), paths[1])
    return paths


def test_any_drifted_column_fails_by_default_and_the_dataset_rule_is_a_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = _eight_columns(tmp_path, drifted=3)
    assert main(["drift", str(ref), str(cur)]) == 1  # 3 of 8: below the 50% dataset rule
    assert "3 of 8 columns drifted" in capsys.readouterr().out
    assert main(["drift", str(ref), str(cur), "--fail-on", "dataset"]) == 0
    assert main(["drift", str(ref), str(cur), "--fail-on", "column"]) == 1
    assert main(["drift", str(ref), str(ref), "--fail-on", "column"]) == 0


def test_fail_on_prediction_looks_only_at_the_prediction(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = _eight_columns(tmp_path, drifted=1)
    # c0 drifted; as the prediction it fails, while c7 (not drifted) as the prediction does not.
    assert main(["drift", str(ref), str(cur), "--fail-on", "prediction", "--prediction", "c0"]) == 1
    assert main(["drift", str(ref), str(cur), "--fail-on", "prediction", "--prediction", "c7"]) == 0
    assert main(["drift", str(ref), str(cur), "--fail-on", "prediction"]) == 2
    assert "--prediction NAME" in capsys.readouterr().err


def test_a_semicolon_csv_is_read_as_its_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    for path, shift in ((ref, 0.0), (cur, 2.0)):
        rows = [
            f"{a:.4f};{b:.4f};{'xy'[i % 2]}"
            for i, (a, b) in enumerate(
                zip(rng.normal(shift, 1, 500), rng.normal(0, 1, 500), strict=True)
            )
        ]
        path.write_text("a;b;k\n" + "\n".join(rows) + "\n")
    assert main(["drift", str(ref), str(cur), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert set(body["columns"]) == {"a", "b", "k"}
    assert body["columns"]["a"]["drifted"] is True
    assert body["columns"]["b"]["drifted"] is False


def test_a_comparison_of_nothing_is_bad_input_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header_only = tmp_path / "empty.csv"
    header_only.write_text("a,b\n")
    assert main(["drift", str(header_only), str(header_only)]) == 2
    assert "has no rows" in capsys.readouterr().err
    left, right = tmp_path / "l.csv", tmp_path / "r.csv"
    left.write_text("a\n1\n2\n3\n")
    right.write_text("z\n1\n2\n3\n")
    assert main(["drift", str(left), str(right)]) == 2
    assert "no column could be compared" in capsys.readouterr().err
