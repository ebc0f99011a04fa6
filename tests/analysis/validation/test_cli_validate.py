"""`vigil validate`: suggested and saved suites, outputs, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.analysis.validation import Suite
from vigil.cli import main

from .conftest import sample


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    ref = sample(2_000, seed=1)
    cur = sample(2_000, seed=2)
    broken = cur.set_column(
        cur.schema.get_field_index("age"), "age", pa.array([-3] * cur.num_rows)
    ).drop_columns(["visits"])
    paths = {
        "ref": tmp_path / "ref.parquet",
        "cur": tmp_path / "cur.parquet",
        "bad": tmp_path / "bad.csv",
        "cur_vgp": tmp_path / "cur.vgp",
    }
    pq.write_table(ref, paths["ref"])
    pq.write_table(cur, paths["cur"])
    pacsv.write_csv(broken, paths["bad"])
    paths["cur_vgp"].write_bytes(vigil.profile(cur).to_bytes())
    return paths


def test_passes_on_the_same_data(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(files["ref"]), str(files["cur"])]) == 0
    assert capsys.readouterr().out.startswith("validation passed: all ")


def test_fails_on_broken_data_and_saves_the_suite(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "suite.yaml"
    code = main(["validate", str(files["ref"]), str(files["bad"]), "--save-suite", str(saved)])
    assert code == 1
    out = capsys.readouterr().out
    assert "validation FAILED" in out
    assert "visits: presence = absent" in out
    assert "age: min = -3, expected >= 0" in out
    assert f"suite written to {saved}" in out
    suite = Suite.load(saved)
    assert suite == vigil.suggest_checks(vigil.profile(files["ref"]))


def test_json_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(files["ref"]), str(files["bad"]), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["passed"] is False
    failed = {(r["type"], r["column"]) for r in body["results"] if not r["passed"]}
    assert ("column_present", "visits") in failed
    assert ("min_in_range", "age") in failed
    assert all({"severity", "expected", "observed", "message"} <= set(r) for r in body["results"])


def test_saved_suite_replaces_the_reference(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "checks:\n"
        "  - {type: max_in_range, column: age, max: 60, severity: warning}\n"
        "  - {type: pattern_match_share_at_least, column: email, pattern: '@example[.]org$'}\n"
    )
    # CURRENT alone; the pattern is counted while profiling the data file
    assert main(["validate", "--suite", str(path), str(files["cur"])]) == 1
    assert "age: max = " in capsys.readouterr().out
    assert main(["validate", "--suite", str(path), str(files["cur"]), "--fail-on", "error"]) == 0
    capsys.readouterr()
    # REFERENCE may still be given (and is not read); a .vgp profile is a valid CURRENT
    code = main(["validate", "--suite", str(path), "unused", str(files["cur_vgp"]), "--all"])
    assert code == 1
    out = capsys.readouterr().out
    assert "was not counted when profiling" in out  # patterns cannot be added to a saved profile


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "only-one.parquet"], "give REFERENCE and CURRENT"),
        (["validate", "/no/such/ref.parquet", "/no/such/cur.parquet"], "error: "),
        (["validate", "--suite", "/no/such/suite.yaml", "x.parquet"], "cannot read suite file"),
        (["validate", "a", "b", "c"], "at most REFERENCE and CURRENT"),
    ],
)
def test_bad_input_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_malformed_suite_exits_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("checks:\n  - {type: min_in_range, column: age, min: low}\n")
    assert main(["validate", "--suite", str(path), str(files["cur"])]) == 2
    err = capsys.readouterr().err
    assert "checks[0] (min_in_range on 'age'): parameter 'min'" in err
    assert "'low'" in err


def test_schema_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("zip\n" + "01234\n75001\n" * 50)
    cur.write_text("zip\n" + "01234\n" * 50 + "99999\n" * 10)
    assert main(["validate", str(ref), str(cur), "--schema", "zip=categorical"]) == 1
    assert "'99999' (10)" in capsys.readouterr().out
    assert main(["validate", str(ref), str(cur), "--schema", "zip"]) == 2
