from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from vigil.server.cli_commands import COMMANDS
from vigil.store.db import create_store_engine, current_revision, head_revision, session_factory
from vigil.store.repositories import TokenRepository


@click.group()
def vigil_cli() -> None:
    """Stands in for `vigil`, which registers COMMANDS the same way."""


for _command in COMMANDS:
    vigil_cli.add_command(_command)


def test_db_upgrade_migrates_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    result = CliRunner().invoke(vigil_cli, ["db", "upgrade", "--store", url])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()} (was empty)" in result.output
    engine = create_store_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_token_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    runner = CliRunner()
    created = runner.invoke(
        vigil_cli, ["token", "create", "--scope", "write", "--store", url, "--owner", "ml-team"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("vgl_")
    engine = create_store_engine(url)
    with session_factory(engine)() as session:
        token = TokenRepository(session).authenticate(secret)
        assert token is not None
        assert (token.scope, token.owner) == ("write", "ml-team")
        token_id = token.id
    listed = runner.invoke(vigil_cli, ["token", "list", "--store", url])
    assert token_id in listed.output
    assert secret not in listed.output
    assert "active" in listed.output
    revoked = runner.invoke(vigil_cli, ["token", "revoke", token_id, "--store", url])
    assert revoked.exit_code == 0
    with session_factory(engine)() as session:
        assert TokenRepository(session).authenticate(secret) is None
    engine.dispose()
    missing = runner.invoke(vigil_cli, ["token", "revoke", "nope", "--store", url])
    assert missing.exit_code != 0
    assert "no API token with id 'nope'" in missing.output


def test_a_bad_store_url_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        vigil_cli, ["token", "create", "--scope", "read", "--store", "mysql://x/y"]
    )
    assert result.exit_code == 1
    assert "supports sqlite and postgresql" in result.output
    bad_scope = CliRunner().invoke(vigil_cli, ["token", "create", "--scope", "root"])
    assert bad_scope.exit_code == 2
