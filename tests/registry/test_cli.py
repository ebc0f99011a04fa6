from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.commands import table
from vigil.cli import cli


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIL_STORE_URL", f"sqlite:///{tmp_path / 'vigil.db'}")
    monkeypatch.setenv("VIGIL_ARTIFACTS_URL", str(tmp_path / "artifacts"))
    monkeypatch.delenv("VIGIL_URL", raising=False)
    (tmp_path / "model.bin").write_bytes(b"weights")
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_register_alias_and_history(env: Path) -> None:
    model = str(env / "model.bin")
    assert _run("models", "register", "churn", model, "--metric", "auc=0.9", "--tag", "t=1") == (
        0,
        "registered churn version 1 (models:/churn/1)\n",
    )
    assert _run("models", "register", "churn", model, "--metric", "auc=0.7")[0] == 0
    assert _run("models", "alias", "set", "churn", "production", "1")[0] == 0
    code, out = _run("models", "alias", "set", "churn", "production", "2", "--gate-metric", "auc")
    assert code == 2
    assert "refused" in out
    assert "auc of version 2 is 0.7, worse than 0.9" in out
    code, out = _run("models", "alias", "set", "churn", "production", "2")
    assert (code, out) == (0, "@production of churn moved from version 1 to version 2\n")
    code, out = _run("models", "list")
    assert (code, table(out)) == (
        0,
        [["MODEL", "LATEST", "ALIASES"], ["churn", "2", "@production=2"]],
    )
    code, out = _run("models", "versions", "churn", "--json")
    versions = json.loads(out)
    assert [(v["version"], v["metrics"], v["aliases"]) for v in versions] == [
        (1, {"auc": 0.9}, []),
        (2, {"auc": 0.7}, ["production"]),
    ]
    code, out = _run("models", "history", "churn", "--alias", "production", "--json")
    events = json.loads(out)
    assert [(e["kind"], e["from_version"], e["to_version"]) for e in events] == [
        ("alias_set", None, 1),
        ("alias_refused", 1, 2),
        ("alias_moved", 1, 2),
    ]
    moved_at = events[-1]["at"]
    code, out = _run("models", "history", "churn", "--alias", "production", "--at", moved_at)
    assert (code, out) == (0, "2\n")
    code, out = _run(
        "models", "history", "churn", "--alias", "production", "--at", "2000-01-01T00:00:00Z"
    )
    assert (code, out) == (0, "@production did not exist then\n")
    assert _run("models", "alias", "delete", "churn", "production") == (
        0,
        "@production of churn deleted (it pointed at version 2)\n",
    )


def test_errors_exit_2_and_name_what_exists(env: Path) -> None:
    _run("models", "register", "churn", str(env / "model.bin"))
    code, out = _run("models", "versions", "fraud")
    assert code == 2
    assert "registered models: churn" in out
    code, out = _run("models", "alias", "set", "churn", "production", "5")
    assert code == 2
    assert "its versions: 1" in out
    code, out = _run("models", "register", "churn", str(env / "model.bin"), "--metric", "auc=x")
    assert code == 2


def test_the_commands_work_against_a_server(tmp_path: Path) -> None:
    from tests.e2e.live import LiveServer
    from vigil.api.specs import Scope
    from vigil.store.core import Store

    store_url = f"sqlite:///{tmp_path / 'server.db'}"
    opened = Store.open(store_url, str(tmp_path / "server-artifacts"))
    token = opened.create_token(Scope.WRITE, owner="frank")
    opened.close()
    (tmp_path / "model.bin").write_bytes(b"weights")
    server = LiveServer(store_url, str(tmp_path / "server-artifacts"), tmp_path / "log").start()
    try:
        remote = ("--url", server.url, "--token", token)
        assert _run("models", "register", "churn", str(tmp_path / "model.bin"), *remote)[0] == 0
        assert _run("models", "alias", "set", "churn", "production", "1", *remote)[0] == 0
        code, out = _run("models", "list", *remote)
        assert (code, table(out)[1]) == (0, ["churn", "1", "@production=1"])
        code, out = _run("models", "history", "churn", "--json", *remote)
        assert {e["actor"] for e in json.loads(out)} == {"frank"}
        code, out = _run("models", "versions", "fraud", *remote)
        assert code == 2
        assert "registered models: churn" in out
    finally:
        server.stop()
