"""The `vigil` command: help, version, profile, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vigil
from vigil.cli import main


def _write(tmp_path: Path, name: str, values: list[float]) -> Path:
    path = tmp_path / name
    pq.write_table(pa.table({"v": values, "c": ["a"] * len(values)}), path)
    return path


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert vigil.__version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "profile" in out
    assert "demo" in out


def test_profile_writes_a_profile_and_merges_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path, "a.parquet", [1.0, 2.0])
    b = _write(tmp_path, "b.parquet", [3.0])
    out = tmp_path / "out.vgp"
    assert main(["profile", str(a), str(b), "-o", str(out)]) == 0
    assert "3 rows" in capsys.readouterr().out
    merged = vigil.DatasetProfile.from_bytes(out.read_bytes())
    assert merged.columns["v"].mean == 2.0  # type: ignore[union-attr]
    # A written profile is itself an input.
    assert main(["profile", str(out), str(a), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["n_rows"] == 5


def test_schema_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "a.parquet", [1.0, 2.0])
    assert main(["profile", str(path), "--schema", "v=categorical", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["columns"]["v"]["kind"] == "categorical"
    assert main(["profile", str(path), "--schema", "novalue"]) == 2
    assert "COLUMN=KIND" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile", "/no/such/file.parquet"], "no such file or folder"),
        (["profile"], "Missing argument"),
        (["profile", "x.parquet", "--format", "xml"], "Invalid value"),
        (["nonsense"], "No such command"),
    ],
)
def test_bad_usage_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_profile_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.vgp"
    bad.write_bytes(b"garbage, not a profile at all")
    assert main(["profile", str(bad)]) == 2
    assert "not a Vigil profile" in capsys.readouterr().err


def test_installed_console_script(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.parquet", [1.0])
    vigil_bin = Path(sys.executable).parent / "vigil"
    done = subprocess.run([str(vigil_bin), "profile", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 rows" in done.stdout
    missing = subprocess.run([str(vigil_bin), "profile", "/nope"], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "error: no such file or folder" in missing.stderr


def test_every_registered_command_resolves_under_its_name() -> None:
    import click

    from vigil.cli import COMMANDS, cli

    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command)
        assert command.name == name
    assert cli.get_command(context, "nonsense") is None


def test_light_commands_do_not_import_the_heavy_stacks(tmp_path: Path) -> None:
    """`vigil --version` and `vigil profile` start without SciPy, SQLAlchemy or FastAPI."""
    path = _write(tmp_path, "a.parquet", [1.0])
    code = (
        "import sys; from vigil.cli import main; "
        f"main(['--version']); main(['profile', {str(path)!r}]); "
        "print(sorted(m for m in ('scipy.stats', 'sqlalchemy', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_commands_give_one_line_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "monitors.yaml"
    binary.write_bytes(bytes(range(256)))
    store = f"sqlite:///{tmp_path / 'vigil.db'}"
    assert main(["monitors", "apply", str(binary), "--store", store]) == 2
    assert "not a monitors YAML file" in capsys.readouterr().err
    assert main(["demo", "--rows", "-5", "--no-serve", "--out", str(tmp_path / "d")]) == 2
    assert "-5 is not in the range" in capsys.readouterr().err
    unreachable = "postgresql://postgres@127.0.0.1:1/vigil"  # nothing listens on port 1
    assert main(["models", "list", "--store", unreachable]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot use the store:")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_no_command_creates_a_folder_nobody_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo" / "vigil.db"
    assert main(["models", "list", "--store", f"sqlite:///{missing}"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("group", [[], ["runs"], ["models"], ["monitors"], ["events"]])
def test_help_lists_every_command_whole(
    group: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*group, "--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:")[1]
    assert "..." not in listing
    if not group:
        assert "Generate a model's training data and 30 days of traffic" in listing


def test_the_server_refuses_a_store_it_cannot_use_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["server", "--store", "bogus://x"]) == 2
    err = capsys.readouterr().err
    assert "names backend 'bogus'" in err
    assert "Traceback" not in err
    assert main(["server", "--store", "postgresql://postgres@127.0.0.1:1/vigil"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot use the store:")
    missing = tmp_path / "nowhere" / "vigil.db"
    assert main(["db", "upgrade", "--store", f"sqlite:///{missing}"]) == 2
    assert not missing.parent.exists()
