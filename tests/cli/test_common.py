"""The shared pieces of the `vigil` commands: --format/--json, the table printer, the backend
options."""

from __future__ import annotations

import datetime as dt

import click
import pytest
from click.testing import CliRunner

from vigil.cli.common import Backend, backend_options, format_option, format_table


@click.command("show")
@format_option("html")
@backend_options
def _show(fmt: str, backend: Backend) -> None:
    click.echo(f"{fmt} {backend.remote} {backend.url} {backend.token} {backend.store_url}")


@pytest.mark.parametrize(
    ("args", "fmt"),
    [
        ([], "text"),
        (["--json"], "json"),
        (["--format", "json"], "json"),
        (["--format", "html"], "html"),
    ],
)
def test_format_option_and_its_json_alias(args: list[str], fmt: str) -> None:
    done = CliRunner().invoke(_show, [*args, "--store", "sqlite:///:memory:"])
    assert done.exit_code == 0, done.output
    assert done.output.split()[0] == fmt


def test_json_with_another_format_is_a_usage_error() -> None:
    done = CliRunner().invoke(_show, ["--json", "--format", "text"])
    assert done.exit_code == 2
    assert "--json and --format text disagree" in done.output


def test_backend_options_give_one_backend() -> None:
    done = CliRunner().invoke(
        _show, ["--url", "http://h:1", "--token", "t", "--store", "sqlite:///:memory:"]
    )
    assert done.output.split() == ["text", "True", "http://h:1", "t", "sqlite:///:memory:"]


def test_a_table_has_headers_and_aligned_columns() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    lines = format_table(
        ["name", "auc", "at", "note"],
        [["churn", 0.912345678, when, "a\tb\nc"], ["fraud-model", 10.0, None, None]],
    )
    assert lines == [
        "NAME              AUC  AT                   NOTE",
        "churn        0.912346  2026-01-02 03:04:05  a b c",
        "fraud-model        10  -                    -",
    ]


def test_a_table_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="2 cells for 3 headers"):
        format_table(["a", "b", "c"], [["x", "y"]])
