from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from tests.cli.commands import table
from vigil.cli.server import COMMANDS
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


def test_db_compact_merges_past_days_and_deletes_superseded_files_on_the_next_run(
    tmp_path: Path,
) -> None:
    from tests.store.helpers import SPEC, log_batch
    from vigil.ingestion import service
    from vigil.store.core import Store

    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")
    store = Store.open(url, artifacts)
    with store.session() as session:
        service.create_model(session, SPEC)
    for seed in range(3):
        with store.session() as session:
            service.ingest_log(session, store.predictions, "churn", log_batch(10, seed))
    args = ["db", "compact", "--store", url, "--artifacts", artifacts]
    first = CliRunner().invoke(vigil_cli, args)
    assert first.exit_code == 0, first.output
    assert table(first.output)[:2] == [
        ["MODEL", "KIND", "DAY", "FILES MERGED"],
        ["churn", "predictions", "2026-11-20", "3"],
    ]
    assert len(store.artifacts.list("predictions")) == 4
    second = CliRunner().invoke(vigil_cli, args)
    assert "compacted 0 day(s); deleted 3 superseded file(s)" in second.output
    assert len(store.artifacts.list("predictions")) == 1
    assert store.predictions.read(1).num_rows == 30
    today_only = CliRunner().invoke(vigil_cli, [*args, "--before", "2026-11-20"])
    assert "compacted 0 day(s)" in today_only.output
    store.close()
