"""Every `vigil` command follows the conventions (docs/cli.md): a command that prints data has
`--format` and its alias `--json`; a command that reads the store also takes `--url/--token`.
A new command that forgets one fails here."""

from __future__ import annotations

import inspect

import click
import pytest

from tests.cli.commands import leaf_commands, option_names
from vigil.cli import cli, main

ACTIONS = {
    # They run something or change something and print one confirmation line (or a secret).
    "server",
    "demo",
    "db upgrade",
    "db compact",
    "token create",
    "token rotate",
    "token revoke",
    "models register",
    "models retire",
    "models restore",
    "models alias set",
    "models alias delete",
    "alerts ack",
    "alerts resolve",
    "events subscribe",
    "events unsubscribe",
    "events deliver",
}
"""Commands that print no data, so need no --format."""

STORE_ONLY = {
    "server",  # it serves the store
    "db upgrade",  # the database itself
    "db compact",
    "events deliver",  # a server sends its deliveries by itself
    "import mlflow",  # writes straight into a store; a server has no import route
}
"""Commands that work on the store itself, never through a server."""

COMMANDS = dict(leaf_commands())


def test_the_tree_is_walked_and_the_lists_name_real_commands() -> None:
    assert {"runs search", "models alias set", "drift", "token list"} <= set(COMMANDS)
    assert set(COMMANDS) >= ACTIONS
    assert set(COMMANDS) >= STORE_ONLY


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - ACTIONS))
def test_a_command_that_prints_data_has_format_and_json(path: str) -> None:
    command = COMMANDS[path]
    names = option_names(command)
    assert {"--format", "--json"} <= names, f"vigil {path} lacks --format/--json"
    fmt = next(p for p in command.params if p.name == "fmt")
    assert isinstance(fmt.type, click.Choice)
    assert {"text", "json"} <= set(fmt.type.choices)


@pytest.mark.parametrize(
    "path", sorted(p for p, c in COMMANDS.items() if "--store" in option_names(c))
)
def test_a_command_that_reads_the_store_takes_url_and_token(path: str) -> None:
    if path in STORE_ONLY:
        assert "--url" not in option_names(COMMANDS[path])
        return
    assert {"--url", "--token", "--store", "--artifacts"} <= option_names(COMMANDS[path])


def test_top_level_help_shows_every_summary_whole(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listing = " ".join(capsys.readouterr().out.split("Commands:")[1].split())
    context = click.Context(cli)
    longest = 0
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        summary = " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())
        assert summary in listing, name
        longest = max(longest, len(summary))
    assert longest > 45  # click's default cut would have shortened it


def _groups() -> list[list[str]]:
    paths = {tuple(path.split()[:-1]) for path in COMMANDS}
    return [list(g) for g in sorted({p[:i] for p in paths for i in range(len(p) + 1)})]


@pytest.mark.parametrize("group", _groups(), ids=lambda g: " ".join(["vigil", *g]))
def test_every_group_help_lists_its_commands_whole(
    group: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*group, "--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:")[1]
    assert "..." not in listing
