"""Every `vigil` command, given bad input, answers with one line on stderr and exit code 2:
an unreachable server (--url), a store in a folder that does not exist (--store), or a missing
file. Never a traceback. The commands are found by walking the command tree, so a new command is
tried too."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from tests.cli.commands import leaf_commands, option_names
from vigil.cli import main

COMMANDS = dict(leaf_commands())
UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1
SPECIAL = {
    "demo": ["--rows", "-5", "--no-serve"],
    "server": ["--store", "bogus://x"],
}


def _value(param: click.Parameter, data: Path, files_exist: bool) -> str:
    """A plausible value for a required argument or option."""
    name = (param.name or "").lower()
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    if param.type is click.INT or isinstance(param.type, click.IntRange):
        return "1"
    if name in {"start"}:
        return "2026-01-01T00:00:00"
    if name in {"end"}:
        return "2026-01-02T00:00:00"
    if name == "model":
        return "models:/churn/1"
    if isinstance(param.type, click.Path) or name in {
        "data",
        "reference",
        "current",
        "file",
        "path",
        "uri",
    }:
        return str(data) if files_exist else str(data.parent / "missing" / "nope.csv")
    return "x"


def _args(path: str, command: click.Command, tmp_path: Path) -> list[str]:
    if path in SPECIAL:
        return SPECIAL[path]
    options = option_names(command)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    if "--url" in options:
        where, files_exist = ["--url", UNREACHABLE, "--token", "vgl_x"], True
    elif "--store" in options:
        where, files_exist = ["--store", f"sqlite:///{tmp_path / 'missing' / 'v.db'}"], True
    else:
        where, files_exist = [], False
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            args.append(_value(param, data, files_exist))
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[0], _value(param, data, files_exist)]
    return [*path.split(), *args, *where]


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_bad_input_is_one_line_and_exit_2(
    path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("VIGIL_URL", "VIGIL_TOKEN", "VIGIL_STORE_URL", "VIGIL_ARTIFACTS_URL"):
        monkeypatch.delenv(name, raising=False)
    argv = _args(path, COMMANDS[path], tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, (argv, err)
    assert lines[0].startswith("error: "), err
    made = sorted(p.name for p in tmp_path.iterdir())
    assert set(made) <= {"data.csv"}, made  # no folder (.vigil, reproduce-x...) was made on the way


@pytest.mark.parametrize("url", ["nonsense", "ftp://x", "http://", "http://[::1", "http://h:99999"])
def test_a_url_that_is_not_a_servers_address_is_refused_in_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "search", "--url", url, "--token", "t"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Invalid value for '--url'")
    assert repr(url) in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_server_is_named_with_its_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["runs", "search", "--url", UNREACHABLE, "--token", "t"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Vigil server" in err
    assert UNREACHABLE in err


def test_a_store_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("hello\n")
    argv = ["models", "list", "--store", f"sqlite:///{not_a_db}", "--artifacts", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "error: cannot use the store: file is not a database (check --store or VIGIL_STORE_URL)\n"
    )


@pytest.mark.parametrize("command", [["validate", "--suite"], ["monitors", "apply"]])
def test_a_yaml_error_is_one_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    store = ["--store", f"sqlite:///{tmp_path / 'v.db'}"] if command[0] == "monitors" else [data]
    assert main([*command, str(bad), *map(str, store)]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["events", "list", "--follow", "--interval", "-1"],
        ["runs", "watch", "abc", "--interval", "0"],
        ["runs", "watch", "abc", "--timeout", "-5"],
    ],
)
def test_a_polling_interval_must_be_positive(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--store", f"sqlite:///{tmp_path / 'v.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Invalid value for '--")
    assert len(err.strip().splitlines()) == 1


def test_a_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "demo"
    assert main(["demo", "--out", str(out), "--no-serve", "--rows", "500"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot use '{out}': ")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["monitors", "run", "--from", "yesterday", "--to", "2026-01-02"], "--from"),
        (["monitors", "run", "--from", "2026-01-01", "--to", "31/01/2026"], "--to"),
        (["models", "history", "m", "--alias", "prod", "--at", "noon"], "--at"),
    ],
)
def test_a_time_that_is_not_iso_8601_names_its_option_and_value(
    argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path)]
    assert main([*argv, *store]) == 2
    err = capsys.readouterr().err.strip()
    value = argv[argv.index(option) + 1]
    assert err.count("\n") == 0, err
    assert option in err, err
    assert repr(value) in err, err
